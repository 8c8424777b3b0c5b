// LocalScheduler: the run queues of one driver thread.
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
// As a TaskScheduler it runs the tasks spawned on this thread (the
// current-thread runtime, EventLoop, SpawnLocal) and keeps their live list.
//
// It outlives its driver while task headers still point to it: it is
// reference-counted (the driver holds one reference, every live task header
// another). After Close(), schedules from anywhere are discarded, which is
// what makes waking a task of a destroyed runtime harmless.
//
// Thread-safety: Schedule() and ScheduleRemote() are thread-safe; the rest
// is for the owner thread.
#ifndef POLYIO_RUNTIME_SCHEDULER_LOCAL_SCHEDULER_H_
#define POLYIO_RUNTIME_SCHEDULER_LOCAL_SCHEDULER_H_

#include <atomic>
#include <cstdint>

#include "runtime/metrics/worker_counters.h"
#include "runtime/scheduler/remote_queue.h"
#include "runtime/task/runnable.h"
#include "runtime/task/task_header.h"
#include "runtime/task/task_scheduler.h"

namespace polyio {

class LocalScheduler final : public TaskScheduler {
 public:
  using WakeFn = RemoteQueue::WakeFn;

  // Created with one reference, the caller's.
  LocalScheduler(WakeFn wake_fn, void* wake_arg);
  LocalScheduler(const LocalScheduler&) = delete;
  LocalScheduler& operator=(const LocalScheduler&) = delete;

  // The executor the calling thread is running, if any.
  static LocalScheduler* Current();

  // Makes this the calling thread's current executor for a scope.
  class Enter {
   public:
    explicit Enter(LocalScheduler* ex);
    ~Enter();
    Enter(const Enter&) = delete;
    Enter& operator=(const Enter&) = delete;

   private:
    LocalScheduler* previous_;
    metrics::WorkerCounters* previous_counters_;
  };

  // Any thread: local fast path on the owner thread, else the remote queue.
  void Schedule(Runnable* r) {
    if (Current() != this) {
      ScheduleRemote(r);
    } else if (closed_locally_) {
      r->discard(r);
    } else {
      local_.Push(r);
      counters_.scheduled_local.Add();
    }
  }
  void ScheduleRemote(Runnable* r) {
    if (remote_.Push(r)) {
      counters_.scheduled_remote.Add();
    } else {
      r->discard(r);
    }
  }

  // TaskScheduler. One FIFO: a spawn or a yield goes to its back like any
  // wake.
  void Schedule(Runnable* task, Reason /*reason*/) override { Schedule(task); }
  bool HasWorkHere() const override { return HasWork(); }
  // Owner thread.
  void AddLiveTask(internal::TaskHeader* task) override {
    live_.PushBack(task);
  }
  void RemoveLiveTask(internal::TaskHeader* task) override {
    live_.Unlink(task);
  }
  // Owner thread: a task polled and not complete, or null.
  internal::TaskHeader* AnyLiveTask() const { return live_.front(); }
  // Owner thread: calls fn(TaskHeader&) for every task polled and not
  // complete (Runtime::DumpTasks).
  template <class Fn>
  void ForEachLiveTask(Fn&& fn) const {
    for (internal::TaskHeader* t = live_.front(); t != nullptr;
         t = internal::LiveTaskList::next(t)) {
      fn(*t);
    }
  }
  // Owner thread: aborts every task that has been polled and not finished.
  void AbortAll() {
    for (internal::TaskHeader* t = live_.front(); t != nullptr;
         t = internal::LiveTaskList::next(t)) {
      t->Abort();
    }
  }

  // Owner thread. Runs up to `max_runs` ready runnables; returns how many.
  int RunReady(int max_runs);
  // Owner thread. True when RunReady would find work.
  bool HasWork() const { return !local_.empty() || remote_.pending(); }

  // The counters of the driver thread this scheduler belongs to
  // (worker_counters.h); Enter makes them the thread's current ones.
  metrics::WorkerCounters& counters() { return counters_; }
  // Runnables queued and not yet run (any thread; approximate while they
  // move).
  uint64_t depth() const {
    uint64_t in =
        counters_.scheduled_local.Get() + counters_.scheduled_remote.Get();
    uint64_t out = counters_.runs.Get();
    return in > out ? in - out : 0;
  }

  // Owner thread, at shutdown: discards everything queued; from now on,
  // every schedule is discarded at once.
  void Close();

 private:
  ~LocalScheduler() override = default;

  RunQueue local_;
  bool closed_locally_ = false;  // owner thread's view of Close()
  RemoteQueue remote_;
  internal::LiveTaskList live_;
  metrics::WorkerCounters counters_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_SCHEDULER_LOCAL_SCHEDULER_H_
