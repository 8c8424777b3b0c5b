#include "runtime/multi_thread/multi_thread_scheduler.h"

#include <algorithm>
#include <utility>

namespace polyio {
namespace {

// The worker the calling thread is, if any (of whichever scheduler).
struct CurrentWorker {
  const void* scheduler = nullptr;
  void* worker = nullptr;
};
thread_local CurrentWorker current_worker;

// How long a stopping worker waits between looks at the others.
constexpr int64_t kStopPollNs = 1'000'000;

uint64_t NextRandom(uint64_t& state) {  // xorshift64
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

}  // namespace

absl::StatusOr<MultiThreadScheduler*> MultiThreadScheduler::Create(
    int workers, const BackendOptions& backend) {
  workers = std::max(workers, 1);
  auto* scheduler = new MultiThreadScheduler();
  for (int i = 0; i < workers; ++i) {
    absl::StatusOr<std::unique_ptr<Driver>> driver = Driver::Create(backend);
    if (!driver.ok()) {
      scheduler->Unref();
      return driver.status();
    }
    auto w = std::make_unique<Worker>();
    w->scheduler = scheduler;
    w->index = i;
    w->driver = std::move(*driver);
    w->driver->set_scheduler(scheduler);
    w->counters = &w->driver->counters();
    w->rng = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(i + 1);
    scheduler->workers_.push_back(std::move(w));
  }
  scheduler->running_workers_.store(workers, std::memory_order_relaxed);
  for (auto& w : scheduler->workers_) {
    Worker* worker = w.get();
    worker->thread =
        std::thread([scheduler, worker] { scheduler->RunWorker(worker); });
  }
  return scheduler;
}

void MultiThreadScheduler::RunWorker(Worker* w) {
  current_worker = {this, w};
  {
    Driver::Enter scope(w->driver.get());
    while (!stopping_.load(std::memory_order_acquire)) {
      if (Runnable* task = NextTask(w)) {
        ++w->ticks;
        task->run(task);
        continue;
      }
      // Nothing queued here: I/O, timers and local tasks may have some.
      w->driver->Turn(/*may_block=*/false);
      if (w->lifo != nullptr || !w->queue.empty()) continue;
      if (Runnable* task = Steal(w)) {
        ++w->ticks;
        task->run(task);
        continue;
      }
      Park(w);
    }
    // Stop running tasks, but keep answering the requests of workers that
    // still run theirs (they may be cancelling operations on this driver),
    // until every worker has stopped.
    running_workers_.fetch_sub(1, std::memory_order_acq_rel);
    while (running_workers_.load(std::memory_order_acquire) > 0) {
      w->driver->ServeRequests();
      w->driver->backend().Wait(kStopPollNs);
    }
  }
  current_worker = {};
}

Runnable* MultiThreadScheduler::NextTask(Worker* w) {
  if (w->ticks % kMaintenanceInterval == kMaintenanceInterval - 1) {
    ++w->ticks;  // once per interval, however this call ends
    w->driver->Turn(/*may_block=*/false);
    if (Runnable* task = PopInject()) return Injected(w, task);
  }
  if (w->lifo != nullptr) {
    if (w->lifo_runs < kMaxLifoRuns) {
      ++w->lifo_runs;
      return std::exchange(w->lifo, nullptr);
    }
    PushLocal(w, std::exchange(w->lifo, nullptr));
  }
  w->lifo_runs = 0;
  if (Runnable* task = w->queue.Pop()) return task;
  return Injected(w, PopInject());
}

Runnable* MultiThreadScheduler::Injected(Worker* w, Runnable* task) {
  if (task != nullptr) w->counters->taken_injected.Add();
  return task;
}

Runnable* MultiThreadScheduler::Steal(Worker* w) {
  const size_t n = workers_.size();
  const size_t start = NextRandom(w->rng) % n;
  for (size_t i = 0; i < n; ++i) {
    Worker* victim = workers_[(start + i) % n].get();
    if (victim == w) continue;
    // Half of what it has: the first to run now, the rest to our queue
    // (which is empty: we steal only when out of work).
    size_t want = (victim->queue.size() + 1) / 2;
    Runnable* first = victim->queue.Pop();
    if (first == nullptr) continue;
    size_t stolen = 1;
    for (size_t k = 1; k < want; ++k) {
      Runnable* more = victim->queue.Pop();
      if (more == nullptr) break;
      w->queue.Push(more);
      ++stolen;
    }
    w->driver->counters().tasks_stolen.Add(stolen);
    if (!w->queue.empty()) NotifyOne();
    return first;
  }
  return Injected(w, PopInject());
}

void MultiThreadScheduler::Schedule(Runnable* task, Reason reason) {
  if (current_worker.scheduler == this) {
    auto* w = static_cast<Worker*>(current_worker.worker);
    w->counters->pool_scheduled_local.Add();
    if (reason != Reason::kWake) {
      // New work (a spawn) goes where idle workers steal from, so that it
      // runs at once even while the spawner keeps this worker busy; a yield
      // goes behind what is queued.
      PushLocal(w, task);
    } else if (Runnable* previous = std::exchange(w->lifo, task)) {
      PushLocal(w, previous);
    } else {
      return;  // only the LIFO slot changed: nothing for others to take
    }
    NotifyOne();
    return;
  }
  PushInject(task);
  NotifyOne();
}

bool MultiThreadScheduler::HasWorkHere() const {
  if (current_worker.scheduler != this) return false;
  auto* w = static_cast<const Worker*>(current_worker.worker);
  return w->lifo != nullptr || !w->queue.empty();
}

void MultiThreadScheduler::PushLocal(Worker* w, Runnable* task) {
  if (w->queue.Push(task)) return;
  // Full: move half of it, and the task, to the injection queue.
  RunQueue overflow;
  size_t moved = 0;
  for (; moved < StealQueue::kCapacity / 2; ++moved) {
    Runnable* r = w->queue.Pop();
    if (r == nullptr) break;
    overflow.Push(r);
  }
  overflow.Push(task);
  ++moved;
  RunQueue refused;
  {
    MutexLock lock(&inject_mu_);
    if (closed_) {
      refused.Append(overflow);
    } else {
      inject_.Append(overflow);
      inject_len_.fetch_add(moved, std::memory_order_release);
    }
  }
  while (Runnable* r = refused.Pop()) r->discard(r);
}

void MultiThreadScheduler::PushInject(Runnable* task) {
  {
    MutexLock lock(&inject_mu_);
    if (!closed_) {
      inject_.Push(task);
      inject_len_.fetch_add(1, std::memory_order_release);
      return;
    }
  }
  task->discard(task);
}

Runnable* MultiThreadScheduler::PopInject() {
  if (inject_len_.load(std::memory_order_acquire) == 0) return nullptr;
  MutexLock lock(&inject_mu_);
  Runnable* task = inject_.Pop();
  if (task != nullptr) inject_len_.fetch_sub(1, std::memory_order_relaxed);
  return task;
}

bool MultiThreadScheduler::WorkVisible() const {
  if (stopping_.load(std::memory_order_acquire)) return true;
  if (inject_len_.load(std::memory_order_acquire) > 0) return true;
  for (const auto& w : workers_) {
    if (!w->queue.empty()) return true;
  }
  return false;
}

void MultiThreadScheduler::Park(Worker* w) {
  {
    MutexLock lock(&idle_mu_);
    idle_.push_back(w->index);
    // Pairs with the read-modify-write in NotifyOne: the two are ordered in
    // num_idle_'s modification order, so either the producer sees us idle
    // and wakes us, or its push happens-before our look at the queues.
    num_idle_.fetch_add(1, std::memory_order_acq_rel);
  }
  if (!WorkVisible()) w->driver->Turn(/*may_block=*/true);
  Unidle(w);
}

void MultiThreadScheduler::Unidle(Worker* w) {
  MutexLock lock(&idle_mu_);
  auto it = std::find(idle_.begin(), idle_.end(), w->index);
  if (it != idle_.end()) {
    idle_.erase(it);
    num_idle_.fetch_sub(1, std::memory_order_relaxed);
  }
}

void MultiThreadScheduler::NotifyOne() {
  // A read-modify-write, not a load: see Park. (No fence: TSan does not
  // model fences.)
  if (num_idle_.fetch_add(0, std::memory_order_acq_rel) == 0) return;
  int index = -1;
  {
    MutexLock lock(&idle_mu_);
    if (idle_.empty()) return;
    index = idle_.back();
    idle_.pop_back();
    num_idle_.fetch_sub(1, std::memory_order_relaxed);
  }
  workers_[index]->driver->backend().Wake();
}

void MultiThreadScheduler::AddLiveTask(internal::TaskHeader* task) {
  MutexLock lock(&live_mu_);
  live_.PushBack(task);
}

void MultiThreadScheduler::RemoveLiveTask(internal::TaskHeader* task) {
  MutexLock lock(&live_mu_);
  live_.Unlink(task);
}

void MultiThreadScheduler::AbortAll() {
  // Referenced under the lock, aborted outside it: an abort wakes the task,
  // which takes the queues' locks.
  std::vector<internal::TaskHeader*> tasks;
  {
    MutexLock lock(&live_mu_);
    for (internal::TaskHeader* t = live_.front(); t != nullptr;
         t = internal::LiveTaskList::next(t)) {
      t->Ref();
      tasks.push_back(t);
    }
  }
  for (internal::TaskHeader* t : tasks) {
    t->Abort();
    t->Unref();
  }
}

void MultiThreadScheduler::DiscardQueued() {
  RunQueue doomed;
  {
    MutexLock lock(&inject_mu_);
    closed_ = true;
    doomed.Append(inject_);
    inject_len_.store(0, std::memory_order_relaxed);
  }
  for (auto& w : workers_) {
    if (w->lifo != nullptr) doomed.Push(std::exchange(w->lifo, nullptr));
    while (Runnable* r = w->queue.Pop()) doomed.Push(r);
  }
  while (Runnable* r = doomed.Pop()) r->discard(r);
}

void MultiThreadScheduler::Shutdown() {
  stopping_.store(true, std::memory_order_release);
  for (auto& w : workers_) w->driver->backend().Wake();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  // As a driver's shutdown does: every operation completes before any frame
  // goes. Completions wake tasks into the injection queue.
  for (auto& w : workers_) w->driver->DrainOperations();
  DiscardQueued();
  for (;;) {
    internal::TaskHeader* task;
    {
      MutexLock lock(&live_mu_);
      task = live_.front();
    }
    if (task == nullptr) break;
    task->Abandon();
  }
  // Each driver frees its own SpawnLocal tasks and posted callbacks.
  for (auto& w : workers_) w->driver.reset();
}

}  // namespace polyio
