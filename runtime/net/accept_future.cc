#include "runtime/net/accept_future.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "platform/socket.h"

namespace polyio {
namespace {

constexpr Duration kFirstBackoff = std::chrono::milliseconds(10);
constexpr Duration kMaxBackoff = std::chrono::seconds(1);

bool OutOfResources(int err) {
  return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

}  // namespace

AcceptFdFuture::AcceptFdFuture(RefPtr<FdHandle> listener)
    : listener_(std::move(listener)) {
  if (!listener_) return;
  io_.set_driver(listener_->home());
  io_.set_fd_source(listener_->fd_source());
  PrepareAccept();
}

AcceptFdFuture::AcceptFdFuture(AcceptFdFuture&& other) noexcept
    : listener_(std::move(other.listener_)) {
  if (!listener_) return;
  io_.set_driver(other.io_.driver());
  io_.set_fd_source(listener_->fd_source());
  PrepareAccept();
}

AcceptFdFuture::~AcceptFdFuture() {
  if (!submitted_) return;
  // An accept that completed unseen: its connection waits for the next.
  int32_t fd = io_.Abandon();
  if (fd >= 0) listener_->KeepFd(UniqueFd(fd));
}

void AcceptFdFuture::PrepareAccept() {
  Operation& op = io_.op();
  op.kind = OpKind::kAccept;
  op.addr = reinterpret_cast<sockaddr*>(&peer_);
  peer_len_ = sizeof(peer_);
  op.addrlen_out = &peer_len_;
}

Poll<absl::StatusOr<UniqueFd>> AcceptFdFuture::Accepted(Context& cx,
                                                        UniqueFd fd) {
  using Result = absl::StatusOr<UniqueFd>;
  if (cx.cancelled()) {
    listener_->KeepFd(std::move(fd));
    return Result(absl::CancelledError(
        "accept: cancelled; the connection it accepted is kept for the "
        "next accept"));
  }
  backoff_ = Duration::zero();
  return Result(std::move(fd));
}

Poll<absl::StatusOr<UniqueFd>> AcceptFdFuture::Poll(Context& cx) {
  using Result = absl::StatusOr<UniqueFd>;
  auto closed = [] {
    return Result(
        absl::FailedPreconditionError("accept: the listener is closed"));
  };
  if (!listener_) return closed();
  for (;;) {
    if (backoff_sleep_) {
      polyio::Poll<absl::Status> slept = backoff_sleep_->Poll(cx);
      if (slept.pending()) return kPending;
      backoff_sleep_.reset();
      if (!slept.value().ok()) return Result(slept.value());
    }
    if (!submitted_) {
      if (listener_->closed()) return closed();
      if (listener_->has_kept_fd()) {
        if (cx.cancelled()) {
          return Result(absl::CancelledError("accept: cancelled"));
        }
        return Result(listener_->TakeKeptFd());
      }
      submitted_ = true;
    }
    polyio::Poll<int32_t> res = io_.PollResult(cx);
    if (res.pending()) return kPending;
    submitted_ = false;
    int32_t fd = res.value();
    if (fd >= 0) return Accepted(cx, UniqueFd(fd));
    io_.Reset();
    PrepareAccept();
    if (listener_->closed()) {
      if (fd == -ECANCELED) {
        return Result(
            absl::CancelledError("accept: cancelled: the listener was closed"));
      }
      return closed();
    }
    if (fd == -ECONNABORTED || fd == -EPROTO) continue;
    if (OutOfResources(-fd)) {
      backoff_ = backoff_ == Duration::zero()
                     ? kFirstBackoff
                     : std::min(backoff_ * 2, kMaxBackoff);
      backoff_sleep_.emplace(Now() + backoff_);
      continue;
    }
    return Result(ResultError(fd, "accept", io_.op().fd));
  }
}

}  // namespace polyio
