// Driver: one thread's engine — a backend, a timer wheel and the run queues.
//
// A turn (Turn):
//   1. fire due timers;
//   2. wait in the backend — without blocking if work is ready, else until
//      the next timer — and deliver completions, which wake tasks;
//   3. fire the timers that came due while waiting;
//   4. run ready work (tasks to poll, posted callbacks), at most
//      kMaxRunsPerTurn of them, so that I/O and timers are never starved.
//
// Destroying a driver (shutdown) frees the tasks of its executor safely: it
// cancels every operation in flight and waits for each completion before
// any coroutine frame is destroyed, since a frame may hold the buffer an
// operation writes into.
//
// One thread runs a driver (its owner: whoever has Entered it). Other
// threads reach it through Wakers and EventLoop::Post (the executor's remote
// queue), and through RunOnDriverThread: on the multi-thread runtime a task
// that moved to another worker still cancels its operations and timers on
// the driver where they were started.
//
// Thread-hostile, except Current, RunOnDriverThread, WithRunningThread, and
// the backend's Wake.
#ifndef POLYIO_RUNTIME_DRIVER_DRIVER_H_
#define POLYIO_RUNTIME_DRIVER_DRIVER_H_

#include <pthread.h>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "backends/selected.h"
#include "platform/mutex.h"
#include "runtime/driver/driver_anchor.h"
#include "runtime/scheduler/local_scheduler.h"
#include "runtime/scheduler/remote_queue.h"
#include "runtime/task/task_scheduler.h"
#include "runtime/time/timer_wheel.h"

namespace polyio {

class Driver {
 public:
  // Runnables per turn before timers and I/O are looked at again. With the
  // per-task budget (context.h) this bounds how long a busy thread keeps a
  // due timer or a ready socket waiting: 64 polls of at most 128 operations.
  static constexpr int kMaxRunsPerTurn = 64;

  static absl::StatusOr<std::unique_ptr<Driver>> Create(
      const BackendOptions& options = {});
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // The driver the calling thread is running, or null.
  // Inline: every operation's submission asks.
  static Driver* Current() { return current_; }

  // Makes `driver` the calling thread's current driver for a scope; the
  // outermost scope makes the thread its owner.
  class Enter {
   public:
    explicit Enter(Driver* driver);
    ~Enter();
    Enter(const Enter&) = delete;
    Enter& operator=(const Enter&) = delete;

   private:
    Driver* driver_;
    Driver* previous_;
    bool owns_ = false;
    LocalScheduler::Enter scheduler_scope_;
  };

  Backend& backend() { return *backend_; }
  // Outlives the driver; says whether it still exists (driver_anchor.h).
  DriverAnchor* anchor() { return anchor_; }
  TimerWheel& timers() { return timers_; }
  // This thread's executor: SpawnLocal, EventLoop::Post.
  LocalScheduler& local_scheduler() { return *local_scheduler_; }
  // This thread's counters (runtime/metrics/worker_counters.h). Written by
  // the owner thread, read from anywhere.
  metrics::WorkerCounters& counters() { return *counters_; }
  // Where Spawn puts tasks: the executor, or the multi-thread scheduler
  // whose worker runs this driver.
  TaskScheduler& scheduler() { return *scheduler_; }
  void set_scheduler(TaskScheduler* spawner) { scheduler_ = spawner; }

  // Runs `fn` on the driver's owner thread and returns when it has run:
  // inline when called there or when no thread owns the driver (it is not
  // running, e.g. at shutdown); otherwise through the driver's mailbox,
  // serving the calling thread's own mailbox while it waits, so that two
  // drivers asking each other cannot deadlock. Any thread.
  template <class Fn>
  void RunOnDriverThread(Fn&& fn);

  // Any thread: runs `r` here when the calling thread may use the driver
  // directly, else queues it to run on the driver's thread, without waiting
  // (Asio's dispatch). RunOnDriverThread is the waiting form.
  void Dispatch(Runnable* r);

  // The thread that runs the driver now (its owner), for the stall
  // detector (runtime/diagnostics/stall_detector.h), which signals it: calls
  // `fn(thread)` while that thread cannot leave the driver (the end of its
  // Enter scope waits for fn to return) and returns true; returns false,
  // without calling fn, when no thread runs the driver (a current-thread
  // runtime between two BlockOn calls). Any thread; fn must be short and
  // must not use the driver.
  template <class Fn>
  bool WithRunningThread(Fn&& fn) {
    MutexLock lock(&thread_mu_);
    if (!has_thread_) return false;
    fn(thread_);
    return true;
  }

  // Owner thread: runs the requests other threads sent; returns how many.
  int ServeRequests();

  // One turn, as above. With may_block false, never waits.
  void Turn(bool may_block);

  // Cancels an in-flight operation and runs the backend until `*in_flight`
  // turns false (the operation's completion clears it). For destructors of
  // futures destroyed mid-operation: the buffer must outlive the kernel's
  // use of it.
  // Any thread (it runs on the driver's thread).
  void CancelAndWait(Operation* op, const std::atomic<bool>* in_flight);

  // Cancels every operation in flight and waits until all have completed
  // (shutdown; also run by the destructor). No thread may be running the
  // driver.
  void DrainOperations();

 private:
  // Turn's wait while time is paused (paused_time.h): `next` is the
  // earliest timer, if any.
  void WaitWhilePaused(std::optional<Instant> next);

  struct Request : Runnable {
    Request() : Runnable(&Run, &Run) {}
    static void Run(Runnable* r);
    void (*call)(void* fn) = nullptr;
    void* fn = nullptr;
    Driver* requester = nullptr;
    std::atomic<bool> done{false};
  };

  explicit Driver(std::unique_ptr<Backend> backend);
  // True when the calling thread may use the backend directly: it owns the
  // driver, or nobody does.
  bool OwnedByCallingThread() const;
  void SendAndWait(Request* request);

  // Constant-initialized, so reading it costs a TLS load, no wrapper call.
  static inline thread_local Driver* current_ = nullptr;

  std::unique_ptr<Backend> backend_;
  TimerWheel timers_;
  LocalScheduler* local_scheduler_;  // reference-counted, see local_scheduler.h
  metrics::WorkerCounters* counters_;  // the local scheduler's
  TaskScheduler* scheduler_;
  RemoteQueue requests_;
  std::atomic<std::thread::id> owner_{};
  // The owner's pthread, for WithRunningThread: set and cleared by the
  // outermost Enter scope (once per BlockOn or worker, not per turn).
  Mutex thread_mu_;
  bool has_thread_ ABSL_GUARDED_BY(thread_mu_) = false;
  pthread_t thread_ ABSL_GUARDED_BY(thread_mu_){};
  DriverAnchor* anchor_;  // one reference; orphaned by the destructor
};

template <class Fn>
void Driver::RunOnDriverThread(Fn&& fn) {
  if (OwnedByCallingThread()) {
    fn();
    return;
  }
  Request request;
  request.fn = &fn;
  request.call = [](void* f) {
    (*static_cast<std::remove_reference_t<Fn>*>(f))();
  };
  SendAndWait(&request);
}

}  // namespace polyio

#endif  // POLYIO_RUNTIME_DRIVER_DRIVER_H_
