// LocalExecutor: the run queues of one driver thread.
//
// - A local FIFO, touched only by the owner thread: scheduling from the
//   thread that runs the executor costs two stores.
// - A remote queue for wakes and posts from other threads, behind a mutex;
//   pushing to it also wakes the backend (through `wake_fn`) so that a
//   thread blocked in the backend's wait comes back to run the work.
// - RunReady() runs at most `max_runs` runnables per call: the cooperative
//   budget at the executor level, so that timers and I/O are looked at
//   between batches however much work keeps arriving.
//
// It outlives its driver while task headers still point to it: it is
// reference-counted (the driver holds one reference, every live task header
// another). After Close(), schedules from anywhere are discarded, which is
// what makes waking a task of a destroyed runtime harmless.
//
// Thread-safety: Schedule() and ScheduleRemote() are thread-safe; the rest
// is for the owner thread.
#ifndef POLYIO_RUNTIME_LOCAL_EXECUTOR_H_
#define POLYIO_RUNTIME_LOCAL_EXECUTOR_H_

#include <atomic>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "platform/mutex.h"
#include "runtime/runnable.h"

namespace polyio {

class LocalExecutor {
 public:
  using WakeFn = void (*)(void* arg);

  // Created with one reference, the caller's.
  LocalExecutor(WakeFn wake_fn, void* wake_arg);
  LocalExecutor(const LocalExecutor&) = delete;
  LocalExecutor& operator=(const LocalExecutor&) = delete;

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // The executor the calling thread is running, if any.
  static LocalExecutor* Current();

  // Makes this the calling thread's current executor for a scope.
  class Enter {
   public:
    explicit Enter(LocalExecutor* ex);
    ~Enter();
    Enter(const Enter&) = delete;
    Enter& operator=(const Enter&) = delete;

   private:
    LocalExecutor* previous_;
  };

  // Any thread: local fast path on the owner thread, else the remote queue.
  void Schedule(Runnable* r) {
    if (Current() != this) {
      ScheduleRemote(r);
    } else if (closed_locally_) {
      r->discard(r);
    } else {
      local_.Push(r);
    }
  }
  void ScheduleRemote(Runnable* r) ABSL_LOCKS_EXCLUDED(mu_);

  // Owner thread. Runs up to `max_runs` ready runnables; returns how many.
  int RunReady(int max_runs);
  // Owner thread. True when RunReady would find work.
  bool HasWork() const {
    return !local_.empty() || remote_pending_.load(std::memory_order_acquire);
  }

  // Owner thread, at shutdown: discards everything queued; from now on,
  // every schedule is discarded at once.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  ~LocalExecutor() = default;
  void DrainRemote() ABSL_LOCKS_EXCLUDED(mu_);

  std::atomic<uint32_t> refs_{1};
  RunQueue local_;
  bool closed_locally_ = false;  // owner thread's view of Close()
  std::atomic<bool> remote_pending_{false};
  Mutex mu_;
  RunQueue remote_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  WakeFn wake_fn_ ABSL_GUARDED_BY(mu_);
  void* wake_arg_ ABSL_GUARDED_BY(mu_);
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_LOCAL_EXECUTOR_H_
