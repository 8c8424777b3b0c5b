// MultiThreadScheduler: the work-stealing pool under the multi-thread
// runtime (tokio's multi-thread scheduler, in small). docs/scheduler.md
// explains the design and the reasons.
//
// N workers, each a thread with its own Driver (its own epoll set, ring or
// kqueue, timer wheel and local executor) and:
//   - a local run queue (StealQueue, 256 entries) that idle workers steal
//     half of;
//   - a LIFO slot: a task woken by the running task runs next, while its
//     data is hot in the cache (at most 3 times in a row, so that two tasks
//     waking each other cannot starve the queue). Only wakes go there: a
//     spawned task goes to the queue, where an idle worker (woken for it)
//     can steal it while the spawner keeps running (tokio does the same);
// plus one global injection queue for tasks scheduled from outside the
// pool, and for a local queue's overflow.
//
// A worker looks for work in this order: every 61st task the injection
// queue first (so it is never starved), then the LIFO slot, its queue, the
// injection queue; when all are empty it turns its driver without blocking
// (timers, I/O completions, SpawnLocal tasks), then steals from the other
// workers; when there is nothing anywhere it parks — blocking in its own
// backend's wait, from which I/O, a timer, or a Wake by a thread that queued
// work brings it back. Every 61st task it also turns its driver, so that
// I/O and timers are looked at however busy the queues are.
//
// Tasks wake wherever their event happens: a completion on worker A wakes a
// task into A's LIFO slot even if it last ran on B. Operations stay on the
// driver they were submitted to (io/io_future.h, io/home_driver.h).
//
// Thread-safety: Schedule, AddLiveTask and RemoveLiveTask are thread-safe;
// Create and Shutdown belong to the runtime's owner.
#ifndef POLYIO_RUNTIME_MULTI_THREAD_MULTI_THREAD_SCHEDULER_H_
#define POLYIO_RUNTIME_MULTI_THREAD_MULTI_THREAD_SCHEDULER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "platform/mutex.h"
#include "runtime/driver/driver.h"
#include "runtime/multi_thread/steal_queue.h"
#include "runtime/task/runnable.h"
#include "runtime/task/task_header.h"
#include "runtime/task/task_scheduler.h"

namespace polyio {

class MultiThreadScheduler final : public TaskScheduler {
 public:
  // Tasks run between two looks at the injection queue and the driver.
  static constexpr uint32_t kMaintenanceInterval = 61;
  // LIFO-slot runs in a row before the queue gets a turn.
  static constexpr int kMaxLifoRuns = 3;

  // Starts `workers` threads (>= 1), each with a driver made from
  // `backend`. The result holds one reference (the caller's): call
  // Shutdown(), then Unref().
  static absl::StatusOr<MultiThreadScheduler*> Create(
      int workers, const BackendOptions& backend);

  // Stops the workers, then frees every unfinished task the way a driver's
  // shutdown does: operations are cancelled and awaited first, then frames
  // are destroyed (their JoinHandles report CancelledError). Afterwards
  // Schedule discards. Not from a worker thread.
  void Shutdown();

  void Schedule(Runnable* task, Reason reason) override;
  // The calling worker's LIFO slot or queue holds a task.
  bool HasWorkHere() const override;
  void AddLiveTask(internal::TaskHeader* task) override;
  void RemoveLiveTask(internal::TaskHeader* task) override;

  // Aborts every task of the pool that has been polled and not finished
  // (Runtime::Shutdown). Any thread.
  void AbortAll() ABSL_LOCKS_EXCLUDED(live_mu_);

  // Calls fn(TaskHeader&) for every task of the pool polled and not
  // complete, under the registry's lock (fn must not schedule). Any thread.
  template <class Fn>
  void ForEachLiveTask(Fn&& fn) ABSL_LOCKS_EXCLUDED(live_mu_) {
    MutexLock lock(&live_mu_);
    for (internal::TaskHeader* t = live_.front(); t != nullptr;
         t = internal::LiveTaskList::next(t)) {
      fn(*t);
    }
  }

  int worker_count() const { return static_cast<int>(workers_.size()); }
  // Runtime::Metrics: worker i's queued tasks (its steal queue; the LIFO
  // slot is the owner's alone and not counted), and the injection queue's.
  uint64_t queue_depth(int i) const { return workers_[i]->queue.size(); }
  uint64_t injection_depth() const {
    return inject_len_.load(std::memory_order_relaxed);
  }
  // Worker i's driver (EventLoop::Post to it reaches that worker).
  Driver& driver(int i) { return *workers_[i]->driver; }

 private:
  struct Worker {
    MultiThreadScheduler* scheduler = nullptr;
    int index = 0;
    std::unique_ptr<Driver> driver;
    metrics::WorkerCounters* counters = nullptr;  // the driver's
    StealQueue queue;
    // Owner thread only.
    Runnable* lifo = nullptr;
    int lifo_runs = 0;
    uint32_t ticks = 0;
    uint64_t rng = 0;
    std::thread thread;
  };

  MultiThreadScheduler() = default;
  ~MultiThreadScheduler() override = default;

  void RunWorker(Worker* w);
  Runnable* NextTask(Worker* w);
  Runnable* Steal(Worker* w);
  // Counts `task` (if any) as taken from the injection queue by `w`.
  static Runnable* Injected(Worker* w, Runnable* task);
  void PushLocal(Worker* w, Runnable* task);
  void Park(Worker* w);
  bool WorkVisible() const;
  void NotifyOne();
  void Unidle(Worker* w) ABSL_LOCKS_EXCLUDED(idle_mu_);
  void PushInject(Runnable* task) ABSL_LOCKS_EXCLUDED(inject_mu_);
  Runnable* PopInject() ABSL_LOCKS_EXCLUDED(inject_mu_);
  void DiscardQueued();

  std::vector<std::unique_ptr<Worker>> workers_;

  Mutex inject_mu_;
  RunQueue inject_ ABSL_GUARDED_BY(inject_mu_);
  bool closed_ ABSL_GUARDED_BY(inject_mu_) = false;
  std::atomic<size_t> inject_len_{0};

  Mutex idle_mu_;
  std::vector<int> idle_ ABSL_GUARDED_BY(idle_mu_);
  std::atomic<int> num_idle_{0};

  std::atomic<bool> stopping_{false};
  std::atomic<int> running_workers_{0};

  Mutex live_mu_;
  internal::LiveTaskList live_ ABSL_GUARDED_BY(live_mu_);
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_MULTI_THREAD_MULTI_THREAD_SCHEDULER_H_
