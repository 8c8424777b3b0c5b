// WorkerCounters: the always-on counters of one driver thread (a worker of
// the multi-thread runtime, or the current-thread runtime's driver), read
// by Runtime::Metrics() (metrics.h) from any thread.
//
// Cost is the point of this file. Each Counter is written only by the
// thread that runs the driver: no locked instruction, no shared cache line,
// so the per-message path gains no atomic read-modify-write. On x86-64 an
// add is one unlocked `add` to memory, written as inline assembly that names
// only the counter; elsewhere a relaxed atomic load and store. Readers on
// other threads load it relaxed (an aligned 8-byte load, never torn), maybe
// a little late. Why not the obvious code (docs/observing.md has the
// figures): a relaxed load+store is three instructions per count; a plain
// `+=` lets the compiler assume the counter aliases the futures' size_t
// fields, and it reloads them. The assembly is one instruction and tells the
// compiler exactly which memory it touches. The few counts that other
// threads bump (a wake sent from another thread, which already takes a
// mutex and a syscall) are SharedCounters, a relaxed fetch_add.
//
// The thread that runs a driver finds its counters through a thread-local
// pointer (CurrentWorkerCounters), set by LocalScheduler::Enter: that is how
// TaskHeader, Context and the leaf futures count without knowing the driver.
//
// `running` is the task being polled on this thread (null between polls),
// stored by TaskHeader::Run: the task dump and the stall detector read it.
// `parked` says the thread sleeps in the backend: a stall detector
// (runtime/diagnostics/stall_detector.h) then knows that counts which do
// not move mean an idle driver, not a stuck one.
//
// Thread-safety: Counter::Add on the owner thread only; everything else
// from any thread.
#ifndef POLYIO_RUNTIME_METRICS_WORKER_COUNTERS_H_
#define POLYIO_RUNTIME_METRICS_WORKER_COUNTERS_H_

#include <atomic>
#include <chrono>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace polyio {
namespace metrics {

// One writer (the owner thread), any reader.
class Counter {
 public:
  void Add(uint64_t n = 1) {
#if defined(__x86_64__)
    // One writer: an unlocked add cannot lose a count. The operand names the
    // counter's memory only (no "memory" clobber), so nothing else is
    // reloaded. TSan does not see this write; the readers' loads are atomic.
    asm volatile("addq %1, %0" : "+m"(value_) : "er"(n));
#else
    Ref().store(Ref().load(std::memory_order_relaxed) + n,
                std::memory_order_relaxed);
#endif
  }
  void Set(uint64_t v) { Ref().store(v, std::memory_order_relaxed); }
  uint64_t Get() const {
    return std::atomic_ref<uint64_t>(const_cast<uint64_t&>(value_))
        .load(std::memory_order_relaxed);
  }

 private:
  std::atomic_ref<uint64_t> Ref() { return std::atomic_ref<uint64_t>(value_); }

  alignas(std::atomic_ref<uint64_t>::required_alignment) uint64_t value_ = 0;
};

// Any writer, any reader.
class SharedCounter {
 public:
  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Slots for backends/operation.h's OpKind (checked where it is used): 21
// kinds now, with room for more without touching this line.
inline constexpr int kOpKindSlots = 32;

struct WorkerCounters {
  Counter tasks_spawned;           // spawns made on this thread
  Counter tasks_polled;            // TaskHeader::Run calls
  Counter scheduled_local;         // runnables queued by this thread for itself
  SharedCounter scheduled_remote;  // queued here by other threads
  Counter pool_scheduled_local;    // multi-thread: queued by this worker for
                                   // itself (LIFO slot, its steal queue)
  Counter taken_injected;    // multi-thread: taken from the injection queue
  Counter tasks_stolen;      // multi-thread: stolen from other workers
  Counter runs;              // runnables the local scheduler ran
  Counter budget_exhausted;  // leaf futures that found the budget spent
  Counter ops_submitted[kOpKindSlots];
  Counter ops_cancelled[kOpKindSlots];  // completed with -ECANCELED
  Counter ops_in_flight;                // gauge, published once per driver turn
  Counter timers_armed;                 // gauge, published once per driver turn
  Counter parks;                        // blocking waits in the backend
  Counter parked_ticks;                 // time spent in them, in Ticks()
  int64_t created_ns = 0;      // monotonic clock, at the driver's creation
  uint64_t created_ticks = 0;  // Ticks(), at the same moment
  // The task being polled on this thread, or null (a TaskHeader*).
  std::atomic<void*> running{nullptr};
  // True while the thread sleeps in the backend's blocking wait (set and
  // cleared around it by Driver::Turn: per blocking wait, never per poll).
  // The stall detector takes a driver that is parked for an idle one.
  std::atomic<bool> parked{false};
};

// A cheap clock for the time parked: the TSC where there is one (one
// instruction, against a clock_gettime call per park — which on a server
// that parks once per message would cost 2% by itself), converted to
// nanoseconds at snapshot time against the monotonic clock over the
// driver's life (metrics.cc). Elsewhere, the monotonic clock.
inline uint64_t Ticks() {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  return static_cast<uint64_t>(
      std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

namespace internal {
// Constant-initialized: reading it is one TLS load.
inline thread_local WorkerCounters* current_counters = nullptr;
}  // namespace internal

// The counters of the driver the calling thread runs, or null.
inline WorkerCounters* CurrentWorkerCounters() {
  return internal::current_counters;
}

}  // namespace metrics
}  // namespace polyio

#endif  // POLYIO_RUNTIME_METRICS_WORKER_COUNTERS_H_
