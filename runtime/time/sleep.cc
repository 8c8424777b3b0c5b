#include "runtime/time/sleep.h"

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace polyio {

SleepFuture::SleepFuture(SleepFuture&& other) noexcept
    : entry_(&Fire), deadline_(other.deadline_), fired_(other.fired_) {
  if (TimerWheel::Linked(&other.entry_)) {
    std::fprintf(stderr, "polyio: SleepFuture moved after its first poll\n");
    std::abort();
  }
}

SleepFuture::~SleepFuture() {
  if (driver_ != nullptr) driver_->timers().Remove(&entry_);
}

void SleepFuture::Fire(TimerEntry* entry) {
  auto* self = reinterpret_cast<SleepFuture*>(reinterpret_cast<char*>(entry) -
                                              offsetof(SleepFuture, entry_));
  self->fired_ = true;
  std::move(self->waker_).Wake();
}

Poll<absl::Status> SleepFuture::Poll(Context& cx) {
  if (fired_) return absl::OkStatus();
  if (cx.cancelled()) {
    if (driver_ != nullptr) driver_->timers().Remove(&entry_);
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
    driver_->timers().Insert(&entry_, deadline_);
    waker_ = cx.waker();
    return kPending;
  }
  if (!waker_.WillWake(cx.waker())) waker_ = cx.waker();
  return kPending;
}

}  // namespace polyio
