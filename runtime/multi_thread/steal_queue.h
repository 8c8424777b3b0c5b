// StealQueue: a worker's local run queue, which other workers steal from.
//
// A bounded FIFO ring of 256 Runnables. The owning worker pushes at the
// tail; the owner and thieves alike take from the head, each claim being a
// compare-and-swap of the head index. Indices are 64-bit and only grow, so
// a claim can never be confused with an older one (no ABA), and a slot is
// rewritten only once the head has moved past it, which makes any claim
// that read the old value fail.
//
// Push fails when the ring is full; the scheduler then moves half of it to
// the global injection queue (multi_thread_scheduler.cc), as tokio does, so
// that a burst of spawns is shared instead of refused.
//
// Thread-safety: Push from the owner only; Pop and size from any thread.
#ifndef POLYIO_RUNTIME_MULTI_THREAD_STEAL_QUEUE_H_
#define POLYIO_RUNTIME_MULTI_THREAD_STEAL_QUEUE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "runtime/task/runnable.h"

namespace polyio {

class StealQueue {
 public:
  static constexpr uint64_t kCapacity = 256;

  // Owner only. False when full.
  bool Push(Runnable* r) {
    uint64_t tail = tail_.load(std::memory_order_relaxed);
    uint64_t head = head_.load(std::memory_order_acquire);
    if (tail - head >= kCapacity) return false;
    slots_[tail % kCapacity].store(r, std::memory_order_relaxed);
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Any thread: the oldest entry, or null when empty.
  Runnable* Pop() {
    uint64_t head = head_.load(std::memory_order_acquire);
    for (;;) {
      uint64_t tail = tail_.load(std::memory_order_acquire);
      if (head >= tail) return nullptr;
      Runnable* r = slots_[head % kCapacity].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(head, head + 1, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        return r;
      }
    }
  }

  // A snapshot; exact only when nobody else is pushing or popping.
  size_t size() const {
    uint64_t head = head_.load(std::memory_order_acquire);
    uint64_t tail = tail_.load(std::memory_order_acquire);
    return tail > head ? static_cast<size_t>(tail - head) : 0;
  }
  bool empty() const { return size() == 0; }

 private:
  // Apart, so that thieves claiming the head do not bounce the cache line
  // the owner writes at the tail.
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
  std::atomic<Runnable*> slots_[kCapacity] = {};
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_MULTI_THREAD_STEAL_QUEUE_H_
