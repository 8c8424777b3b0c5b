#include "runtime/task/task_header.h"

#include <cstdio>
#include <exception>
#include <string>
#include <utility>

#include "runtime/metrics/worker_counters.h"

namespace polyio {
namespace {

void PrintDetachedTaskException(std::exception_ptr error,
                                SourceLocation where) {
  const char* what = "an exception that is not a std::exception";
  std::string text;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    text = e.what();
    what = text.c_str();
  } catch (...) {
  }
  std::fprintf(stderr,
               "polyio: a task nobody awaits (spawned at %s:%u, in %s) ended "
               "with an exception: %s\n",
               where.file_name(), static_cast<unsigned>(where.line()),
               where.function_name(), what);
}

std::atomic<DetachedTaskExceptionHook> detached_hook{
    &PrintDetachedTaskException};

}  // namespace

DetachedTaskExceptionHook SetDetachedTaskExceptionHook(
    DetachedTaskExceptionHook hook) {
  if (hook == nullptr) hook = &PrintDetachedTaskException;
  return detached_hook.exchange(hook, std::memory_order_acq_rel);
}

namespace internal {

const WakerVTable TaskHeader::kWakerVTable = {
    /*clone=*/
    [](void* data) -> void* {
      static_cast<TaskHeader*>(data)->Ref();
      return data;
    },
    /*wake=*/
    [](void* data) {
      auto* task = static_cast<TaskHeader*>(data);
      task->Wake();
      task->Unref();
    },
    /*wake_by_ref=*/
    [](void* data) { static_cast<TaskHeader*>(data)->Wake(); },
    /*drop=*/
    [](void* data) { static_cast<TaskHeader*>(data)->Unref(); },
};

TaskHeader::TaskHeader(const VTable* vtable, TaskScheduler* scheduler,
                       SourceLocation spawned_at)
    : Runnable(&RunThunk, &DiscardThunk),
      vtable_(vtable),
      scheduler_(scheduler),
      spawned_at_(spawned_at) {
  scheduler_->Ref();
}

TaskHeader::~TaskHeader() { scheduler_->Unref(); }

void TaskHeader::Schedule() {
  scheduler_->TaskStarted();
  if (metrics::WorkerCounters* c = metrics::CurrentWorkerCounters()) {
    c->tasks_spawned.Add();
  }
  if (scheduler_->refusing_spawns()) {  // the runtime is shutting down
    Abandon();
    return;
  }
  state_.fetch_or(kScheduled, std::memory_order_acq_rel);
  Ref();
  scheduler_->Schedule(this, TaskScheduler::Reason::kSpawn);
}

void TaskHeader::Wake() {
  uint32_t s = state_.load(std::memory_order_acquire);
  for (;;) {
    if (s & (kComplete | kScheduled)) return;
    uint32_t next = (s & kRunning) ? (s | kNotified) : (s | kScheduled);
    if (state_.compare_exchange_weak(s, next, std::memory_order_acq_rel)) {
      if (next & kScheduled) {
        Ref();  // the queue's reference
        scheduler_->Schedule(this, TaskScheduler::Reason::kWake);
      }
      return;
    }
  }
}

void TaskHeader::Abort() {
  cancelled_.store(true, std::memory_order_release);
  Wake();
}

void TaskHeader::RunThunk(Runnable* r) { static_cast<TaskHeader*>(r)->Run(); }

void TaskHeader::DiscardThunk(Runnable* r) {
  auto* task = static_cast<TaskHeader*>(r);
  task->Abandon();
  task->Unref();  // the queue's reference
}

void TaskHeader::Run() {
  uint32_t s = state_.load(std::memory_order_acquire);
  while (!state_.compare_exchange_weak(s, (s & ~kScheduled) | kRunning,
                                       std::memory_order_acq_rel)) {
  }
  if (s & kComplete) {  // abandoned while queued
    Unref();
    return;
  }
  if (!registered_) {
    registered_ = true;
    scheduler_->AddLiveTask(this);
    if (scheduler_->cancelling_new()) {
      cancelled_.store(true, std::memory_order_release);
    }
  }
  // The queue's reference becomes this poll's waker reference.
  Waker waker(this, &kWakerVTable);
  int budget = Context::kDefaultBudget;
  Context cx(waker, &cancelled_, &budget);
  cx.set_task(this);
  // Counted, and published as the running task (the task dump and the
  // stall detector read it): a TLS load and three plain stores.
  metrics::WorkerCounters* counters = metrics::CurrentWorkerCounters();
  if (counters != nullptr) {
    counters->tasks_polled.Add();
    counters->running.store(this, std::memory_order_relaxed);
  }
  wait_word_.store(0, std::memory_order_relaxed);  // WaitKind::kUnknown
  const bool done = vtable_->step(this, cx);
  if (counters != nullptr) {
    counters->running.store(nullptr, std::memory_order_relaxed);
  }
  if (done) {
    frame_alive_ = false;
    Complete();
    MarkEndOf(kEnded);
    return;
  }
  s = state_.load(std::memory_order_acquire);
  for (;;) {
    uint32_t next = s & ~(kRunning | kNotified);
    if (s & kNotified) next |= kScheduled;
    if (state_.compare_exchange_weak(s, next, std::memory_order_acq_rel)) {
      break;
    }
  }
  if (s & kNotified) {
    // It woke itself while running: behind the work already queued.
    Ref();
    scheduler_->Schedule(this, TaskScheduler::Reason::kYield);
  }
}

void TaskHeader::Complete() {
  state_.fetch_or(kComplete, std::memory_order_acq_rel);
  state_.fetch_and(~(kRunning | kNotified), std::memory_order_acq_rel);
  if (registered_) {
    scheduler_->RemoveLiveTask(this);
    registered_ = false;
  }
  scheduler_->TaskEnded();
  // After kComplete is set: a joiner that registers from now on sees it.
  join_waker_.Wake();
  Unref();  // the live reference
}

void TaskHeader::Abandon() {
  if (!frame_alive_ || complete()) return;
  frame_alive_ = false;
  abandoned_.store(true, std::memory_order_release);
  vtable_->destroy_frame(this);
  Complete();
}

void TaskHeader::Detach() { MarkEndOf(kHandleGone); }

void TaskHeader::MarkEndOf(uint8_t event) {
  uint8_t before = ends_.fetch_or(event, std::memory_order_acq_rel);
  if (before == 0) return;  // the first of the two
  // The second of the two: nobody can take the exception any more.
  if (std::exception_ptr e = TakeException()) {
    detached_hook.load(std::memory_order_acquire)(std::move(e), spawned_at_);
  }
}

bool TaskHeader::PollJoin(const Waker& waker) {
  if (complete()) return true;
  join_waker_.Register(waker);
  // Complete() sets the flag before it wakes: if it ran in between, the
  // flag is visible now.
  return complete();
}

}  // namespace internal
}  // namespace polyio
