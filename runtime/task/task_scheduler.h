// TaskScheduler: what a spawned task needs from the executor that runs it.
//
// Two implementations:
//   LocalScheduler         one driver thread (the current-thread runtime,
//                         EventLoop, and SpawnLocal on a worker);
//   MultiThreadScheduler  the work-stealing pool (multi_thread_scheduler.h).
// A TaskHeader holds a reference to its scheduler for its whole life, so a
// waker that outlives the runtime still finds a (closed) scheduler: after
// shutdown, Schedule discards instead of queueing.
//
// Thread-safety: thread-safe (each implementation says how).
#ifndef POLYIO_RUNTIME_TASK_TASK_SCHEDULER_H_
#define POLYIO_RUNTIME_TASK_TASK_SCHEDULER_H_

#include <atomic>
#include <cstdint>

#include "runtime/task/runnable.h"

namespace polyio {

namespace internal {
class TaskHeader;
}  // namespace internal

class TaskScheduler {
 public:
  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // Why a task is queued: a scheduler may place the three differently.
  enum class Reason : uint8_t {
    kSpawn,  // its first poll: new work, which any idle thread may take
    kWake,   // woken by an event (often by the task running now)
    kYield,  // it woke itself while running (its budget ran out, or it
             // called Yield()): it goes behind the work already queued
  };

  // Queues `task` (a Runnable) to be polled. Any thread.
  virtual void Schedule(Runnable* task, Reason reason) = 0;

  // True when the calling thread has tasks of this scheduler queued to run
  // next (a driver must not block in its backend then). Called by the
  // thread that runs the driver.
  virtual bool HasWorkHere() const = 0;

  // The registry of tasks that have been polled and have not completed, so
  // that shutdown can free them (task_header.h).
  virtual void AddLiveTask(internal::TaskHeader* task) = 0;
  virtual void RemoveLiveTask(internal::TaskHeader* task) = 0;

  // Graceful shutdown (Runtime::Shutdown). Thread-safe.
  // Tasks spawned here that have not finished (counted by TaskHeader).
  int64_t unfinished() const {
    return unfinished_.load(std::memory_order_acquire);
  }
  // From now on a spawn is refused: the task never runs and its JoinHandle
  // reports CancelledError.
  void RefuseSpawns() { refusing_.store(true, std::memory_order_release); }
  bool refusing_spawns() const {
    return refusing_.load(std::memory_order_acquire);
  }
  // From now on a task polled for the first time starts cancelled (Abort
  // reaches only tasks that were polled: they are in the live list).
  void CancelNewlyRun() { cancel_new_.store(true, std::memory_order_release); }
  bool cancelling_new() const {
    return cancel_new_.load(std::memory_order_acquire);
  }
  void TaskStarted() {
    unfinished_.fetch_add(1, std::memory_order_relaxed);
    spawned_.fetch_add(1, std::memory_order_relaxed);
  }
  // Tasks ever spawned here (Runtime::Metrics).
  uint64_t spawned() const { return spawned_.load(std::memory_order_relaxed); }
  void TaskEnded() { unfinished_.fetch_sub(1, std::memory_order_acq_rel); }

 protected:
  TaskScheduler() = default;
  virtual ~TaskScheduler() = default;

 private:
  std::atomic<uint32_t> refs_{1};
  std::atomic<int64_t> unfinished_{0};
  std::atomic<uint64_t> spawned_{0};
  std::atomic<bool> refusing_{false};
  std::atomic<bool> cancel_new_{false};
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_TASK_TASK_SCHEDULER_H_
