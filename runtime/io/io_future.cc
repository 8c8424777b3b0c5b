#include "runtime/io/io_future.h"

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace polyio {

IoFuture::IoFuture(IoFuture&& other) noexcept : op_(other.op_) {
  if (other.state_ != State::kIdle) {
    std::fprintf(stderr, "polyio: IoFuture moved after its first poll\n");
    std::abort();
  }
  op_.on_complete = &OnComplete;
}

IoFuture::~IoFuture() {
  if (in_flight_) driver_->CancelAndWait(&op_, &in_flight_);
}

void IoFuture::OnComplete(Operation* op) {
  auto* self = reinterpret_cast<IoFuture*>(reinterpret_cast<char*>(op) -
                                           offsetof(IoFuture, op_));
  self->in_flight_ = false;
  self->state_ = State::kDone;
  std::move(self->waker_).Wake();
}

Poll<int32_t> IoFuture::PollResult(Context& cx) {
  switch (state_) {
    case State::kDone:
      return op_.res;
    case State::kInFlight:
      if (cx.cancelled() && !cancel_requested_) {
        cancel_requested_ = true;
        driver_->backend().Cancel(&op_);
      }
      if (!waker_.WillWake(cx.waker())) waker_ = cx.waker();
      return kPending;
    case State::kIdle:
      break;
  }
  if (cx.cancelled()) return -ECANCELED;
  if (!cx.ConsumeBudget()) {
    cx.waker().WakeByRef();
    return kPending;
  }
  driver_ = Driver::Current();
  if (driver_ == nullptr) {
    std::fprintf(stderr,
                 "polyio: an I/O future was polled on a thread that runs no "
                 "driver; await it inside a task\n");
    std::abort();
  }
  cancel_requested_ = false;
  if (driver_->backend().Submit(&op_)) {
    state_ = State::kDone;
    return op_.res;
  }
  state_ = State::kInFlight;
  in_flight_ = true;
  waker_ = cx.waker();
  return kPending;
}

}  // namespace polyio
