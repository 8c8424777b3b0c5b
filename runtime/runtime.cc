#include "runtime/runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "runtime/blocking/blocking_pool.h"
#include "runtime/task/task_header.h"

namespace polyio {

absl::StatusOr<std::unique_ptr<Runtime>> Runtime::Create(
    const RuntimeOptions& options) {
  std::unique_ptr<Runtime> rt(new Runtime());
  if (options.flavor == RuntimeFlavor::kMultiThread) {
    int workers = options.worker_threads;
    if (workers <= 0) {
      workers = static_cast<int>(std::thread::hardware_concurrency());
    }
    absl::StatusOr<MultiThreadScheduler*> pool =
        MultiThreadScheduler::Create(workers, options.backend);
    if (!pool.ok()) return pool.status();
    rt->pool_ = *pool;
  } else {
    absl::StatusOr<std::unique_ptr<Driver>> driver =
        Driver::Create(options.backend);
    if (!driver.ok()) return driver.status();
    rt->driver_ = std::move(*driver);
  }
  rt->loop_ = std::make_unique<EventLoop>(&rt->driver());
  if (options.stall_detector.enabled) {
    std::vector<Driver*> drivers;
    for (int i = 0; i < rt->worker_threads(); ++i) {
      drivers.push_back(rt->pool_ ? &rt->pool_->driver(i) : rt->driver_.get());
    }
    absl::StatusOr<std::unique_ptr<diagnostics::StallDetector>> detector =
        diagnostics::StallDetector::Start(options.stall_detector,
                                          std::move(drivers));
    if (!detector.ok()) return detector.status();
    rt->stall_detector_ = std::move(*detector);
  }
  return rt;
}

void Runtime::DieNestedBlockOn(SourceLocation where) {
  std::fprintf(stderr,
               "polyio: Runtime::BlockOn called from inside a task (or a "
               "callback, or another thread that runs a driver), at %s:%u: "
               "it would block the thread that must run the task; co_await "
               "the task instead\n",
               where.file_name(), static_cast<unsigned>(where.line()));
  std::abort();
}

void Runtime::DieBlockOnAfterShutdown(SourceLocation where) {
  std::fprintf(stderr,
               "polyio: Runtime::BlockOn called after Runtime::Shutdown, at "
               "%s:%u: a runtime that shut down runs no new task\n",
               where.file_name(), static_cast<unsigned>(where.line()));
  std::abort();
}

RuntimeMetrics Runtime::Metrics() {
  RuntimeMetrics m;
  m.flavor = pool_ ? "multi_thread" : "current_thread";
  m.backend = std::string(backend_name());
  for (TaskScheduler* s : Schedulers()) {
    m.tasks_spawned += s->spawned();
    m.tasks_alive +=
        static_cast<uint64_t>(std::max<int64_t>(0, s->unfinished()));
  }
  const int64_t now_ns = RealNow().time_since_epoch().count();
  const uint64_t now_ticks = metrics::Ticks();
  for (int i = 0; i < worker_threads(); ++i) {
    Driver& d = pool_ ? pool_->driver(i) : *driver_;
    uint64_t depth = d.local_scheduler().depth();
    if (pool_ != nullptr) depth += pool_->queue_depth(i);
    m.workers.push_back(
        metrics::ReadWorker(d.counters(), i, now_ns, now_ticks, depth));
    metrics::AddInto(m.total, m.workers.back());
  }
  m.total.index = -1;
  if (pool_ != nullptr) m.injection_queue_depth = pool_->injection_depth();
  BlockingPool& blocking = BlockingPool::Global();
  m.blocking.threads = blocking.threads();
  m.blocking.idle_threads = blocking.idle_threads();
  m.blocking.queued = blocking.queued();
  m.blocking.jobs_run = blocking.jobs_run();
  return m;
}

TaskDump Runtime::DumpTasks() {
  TaskDump dump;
  std::vector<void*> running;  // per worker
  for (int i = 0; i < worker_threads(); ++i) {
    Driver& d = pool_ ? pool_->driver(i) : *driver_;
    running.push_back(d.counters().running.load(std::memory_order_relaxed));
  }
  auto add = [&](const internal::TaskHeader& task) {
    std::optional<TaskInfo> info = diagnostics::Describe(task);
    if (!info.has_value()) return;
    if (info->state == TaskInfo::State::kRunning) {
      for (size_t i = 0; i < running.size(); ++i) {
        if (running[i] == &task) info->worker = static_cast<int>(i);
      }
    }
    dump.tasks.push_back(std::move(*info));
  };
  if (pool_ != nullptr) pool_->ForEachLiveTask(add);
  // Each driver's own tasks (all of them on the current-thread runtime;
  // SpawnLocal ones on a worker), read on that driver's thread.
  for (int i = 0; i < worker_threads(); ++i) {
    Driver& d = pool_ ? pool_->driver(i) : *driver_;
    d.RunOnDriverThread([&] { d.local_scheduler().ForEachLiveTask(add); });
  }
  const int64_t unfinished = Unfinished();
  const auto listed = static_cast<int64_t>(dump.tasks.size());
  dump.not_yet_polled =
      unfinished > listed ? static_cast<uint64_t>(unfinished - listed) : 0;
  return dump;
}

std::vector<TaskScheduler*> Runtime::Schedulers() {
  if (pool_ == nullptr) return {&driver_->local_scheduler()};
  std::vector<TaskScheduler*> all = {pool_};
  for (int i = 0; i < pool_->worker_count(); ++i) {
    all.push_back(&pool_->driver(i).local_scheduler());  // SpawnLocal
  }
  return all;
}

int64_t Runtime::Unfinished() {
  int64_t n = 0;
  for (TaskScheduler* s : Schedulers()) n += s->unfinished();
  return n;
}

void Runtime::RunUntilIdleOr(Instant deadline) {
  if (pool_ == nullptr) {
    Driver::Enter scope(driver_.get());
    // A timer at the deadline, so that a turn blocked in the backend wakes.
    TimerHandle wake = loop_->CallAt(deadline, [] {});
    while (Unfinished() > 0 && Now() < deadline) {
      driver_->Turn(/*may_block=*/true);
    }
    wake.Cancel();
    return;
  }
  // The workers run the tasks; this thread only watches them, on the OS
  // clock: while time is paused (runtime/time/pause.h) the workers' clock
  // moves only to their own timers, and this deadline is none of them.
  const Instant real_deadline = RealNow() + (deadline - Now());
  while (Unfinished() > 0 && RealNow() < real_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void Runtime::AbortAll() {
  for (TaskScheduler* s : Schedulers()) s->CancelNewlyRun();
  if (pool_ == nullptr) {
    Driver::Enter scope(driver_.get());
    driver_->local_scheduler().AbortAll();
    return;
  }
  pool_->AbortAll();
  for (int i = 0; i < pool_->worker_count(); ++i) {
    Driver& d = pool_->driver(i);
    d.RunOnDriverThread([&d] { d.local_scheduler().AbortAll(); });
  }
}

ShutdownReport Runtime::Shutdown(Duration timeout, Duration grace) {
  ShutdownReport report;
  for (TaskScheduler* s : Schedulers()) s->RefuseSpawns();
  // Counted before the token goes: on the multi-thread runtime the tasks
  // that watch it may end at once.
  const int64_t at_start = Unfinished();
  root_token_.Cancel();
  RunUntilIdleOr(Now() + timeout);
  const int64_t at_deadline = Unfinished();
  report.finished = at_start - at_deadline;
  if (at_deadline > 0) {
    AbortAll();
    RunUntilIdleOr(Now() + grace);
  }
  report.unfinished = Unfinished();
  report.cancelled = at_deadline - report.unfinished;
  return report;
}

Runtime::~Runtime() {
  // The watchdog first: it reads the drivers, and workers that stop make
  // no progress it should take for a stall.
  stall_detector_.reset();
  // Then the drivers, before loop_: callbacks they discard still reach it.
  if (pool_ != nullptr) {
    pool_->Shutdown();
    pool_->Unref();
  }
  driver_.reset();
}

}  // namespace polyio
