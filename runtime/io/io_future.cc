#include "runtime/io/io_future.h"

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace polyio {
namespace {

IoFuture* FromOp(Operation* op, size_t offset) {
  return reinterpret_cast<IoFuture*>(reinterpret_cast<char*>(op) - offset);
}

}  // namespace

IoFuture::IoFuture(IoFuture&& other) noexcept
    : op_(other.op_), driver_(other.driver_), fd_source_(other.fd_source_) {
  if (other.submitted_) {
    std::fprintf(stderr, "polyio: IoFuture moved after its first poll\n");
    std::abort();
  }
  op_.on_complete = &OnComplete;
}

void IoFuture::CancelAndWait() { driver_->CancelAndWait(&op_, &in_flight_); }

void IoFuture::OnComplete(Operation* op) {
  IoFuture* self = FromOp(op, offsetof(IoFuture, op_));
  // Only cancellations are counted per completion (a branch on the
  // per-message path); completed = submitted - cancelled - in flight.
  if (op->res == -ECANCELED) [[unlikely]] {
    self->driver_->counters().ops_cancelled[static_cast<int>(op->kind)].Add();
  }
  // Take the waker first: once in_flight_ is false the owner may destroy
  // the future on another thread.
  Waker waker = self->waker_.Take();
  self->in_flight_.store(false, std::memory_order_release);
  std::move(waker).Wake();
}

void IoFuture::SubmitOnDriverThread(Runnable* r) {
  IoFuture* self = reinterpret_cast<IoFuture*>(
      reinterpret_cast<char*>(r) - offsetof(IoFuture, remote_submit_));
  self->TakeFd();
  self->driver_->counters()
      .ops_submitted[static_cast<int>(self->op_.kind)]
      .Add();
  if (self->driver_->backend().Submit(&self->op_)) OnComplete(&self->op_);
}

Poll<int32_t> IoFuture::PollInFlight(Context& cx) {
  if (cx.cancelled() && !cancel_requested_) {
    cancel_requested_ = true;
    Operation* op = &op_;
    Driver* driver = driver_;
    driver->RunOnDriverThread([driver, op] {
      // The submission may still be in the driver's mailbox: sent from
      // another worker, and this poll runs on the driver's own thread before
      // it was served. A cancel now would find nothing, and the operation
      // would park uncancelled once served (a task aborted in a receive
      // that never came hung so). Serve the mailbox first.
      driver->ServeRequests();
      driver->backend().Cancel(op);
    });
  }
  waker_.Register(cx.waker());
  if (!in_flight_.load(std::memory_order_acquire)) return op_.res;
  // The fd from its source, not op_.fd: a submission sent through another
  // driver's mailbox writes op_.fd on that driver's thread (TakeFd), and
  // this poll may run meanwhile (TSan saw it in conformance_fallback_test).
  internal::TaskHeader::NoteWaitIo(
      cx, static_cast<uint8_t>(op_.kind),
      fd_source_ != nullptr ? fd_source_->load(std::memory_order_relaxed)
                            : op_.fd);
  return kPending;
}

Poll<int32_t> IoFuture::SubmitElsewhere(Context& cx) {
  if (driver_ == nullptr) {
    std::fprintf(stderr,
                 "polyio: an I/O future was polled on a thread that runs no "
                 "driver; await it inside a task\n");
    std::abort();
  }
  submitted_ = true;
  cancel_requested_ = false;
  in_flight_.store(true, std::memory_order_relaxed);
  waker_.Register(cx.waker());
  internal::TaskHeader::NoteWaitIo(
      cx, static_cast<uint8_t>(op_.kind),
      fd_source_ != nullptr ? fd_source_->load(std::memory_order_relaxed)
                            : op_.fd);
  driver_->Dispatch(&remote_submit_);
  return kPending;
}

}  // namespace polyio
