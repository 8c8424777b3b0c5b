#include "runtime/task_header.h"

#include <utility>

namespace polyio {
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

TaskHeader::TaskHeader(const VTable* vtable, TaskScheduler* scheduler)
    : Runnable(&RunThunk, &DiscardThunk),
      vtable_(vtable),
      scheduler_(scheduler) {
  scheduler_->Ref();
}

TaskHeader::~TaskHeader() { scheduler_->Unref(); }

void TaskHeader::Schedule() {
  state_.fetch_or(kScheduled, std::memory_order_acq_rel);
  Ref();
  scheduler_->Schedule(this, /*yield=*/false);
}

void TaskHeader::Wake() {
  uint32_t s = state_.load(std::memory_order_acquire);
  for (;;) {
    if (s & (kComplete | kScheduled)) return;
    uint32_t next = (s & kRunning) ? (s | kNotified) : (s | kScheduled);
    if (state_.compare_exchange_weak(s, next, std::memory_order_acq_rel)) {
      if (next & kScheduled) {
        Ref();  // the queue's reference
        scheduler_->Schedule(this, /*yield=*/false);
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
  }
  // The queue's reference becomes this poll's waker reference.
  Waker waker(this, &kWakerVTable);
  int budget = Context::kDefaultBudget;
  Context cx(waker, &cancelled_, &budget);
  if (vtable_->step(this, cx)) {
    Complete();
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
    scheduler_->Schedule(this, /*yield=*/true);
  }
}

void TaskHeader::Complete() {
  state_.fetch_or(kComplete, std::memory_order_acq_rel);
  state_.fetch_and(~(kRunning | kNotified), std::memory_order_acq_rel);
  if (registered_) {
    scheduler_->RemoveLiveTask(this);
    registered_ = false;
  }
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

bool TaskHeader::PollJoin(const Waker& waker) {
  if (complete()) return true;
  join_waker_.Register(waker);
  // Complete() sets the flag before it wakes: if it ran in between, the
  // flag is visible now.
  return complete();
}

}  // namespace internal
}  // namespace polyio
