#include "runtime/time/sleep.h"

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "runtime/task/task_header.h"

namespace polyio {

SleepFuture::SleepFuture(SleepFuture&& other) noexcept
    : entry_(&Fire),
      deadline_(other.deadline_),
      fired_(other.fired_.load(std::memory_order_relaxed)) {
  if (other.driver_ != nullptr) {
    std::fprintf(stderr, "polyio: SleepFuture moved after its first poll\n");
    std::abort();
  }
}

SleepFuture::~SleepFuture() { RemoveTimer(); }

void SleepFuture::RemoveTimer() {
  if (driver_ == nullptr || fired_.load(std::memory_order_acquire)) return;
  Driver* driver = driver_;
  TimerEntry* entry = &entry_;
  driver->RunOnDriverThread(
      [driver, entry] { driver->timers().Remove(entry); });
}

void SleepFuture::Fire(TimerEntry* entry) {
  auto* self = reinterpret_cast<SleepFuture*>(reinterpret_cast<char*>(entry) -
                                              offsetof(SleepFuture, entry_));
  // Take the waker first: once fired_ is set the owner may destroy the
  // future on another thread.
  Waker waker = self->waker_.Take();
  self->fired_.store(true, std::memory_order_release);
  std::move(waker).Wake();
}

Poll<absl::Status> SleepFuture::Poll(Context& cx) {
  if (fired_.load(std::memory_order_acquire)) return absl::OkStatus();
  if (cx.cancelled()) {
    RemoveTimer();
    return absl::CancelledError("sleep: cancelled");
  }
  if (driver_ == nullptr) {
    if (Now() >= deadline_) return absl::OkStatus();
    driver_ = Driver::Current();
    if (driver_ == nullptr) {
      std::fprintf(stderr,
                   "polyio: Sleep polled on a thread that runs no driver\n");
      std::abort();
    }
    waker_.Register(cx.waker());
    driver_->timers().Insert(&entry_, deadline_);
    internal::TaskHeader::NoteWaitTimer(cx,
                                        deadline_.time_since_epoch().count());
    return kPending;
  }
  waker_.Register(cx.waker());
  if (fired_.load(std::memory_order_acquire)) return absl::OkStatus();
  internal::TaskHeader::NoteWaitTimer(cx, deadline_.time_since_epoch().count());
  return kPending;
}

}  // namespace polyio
