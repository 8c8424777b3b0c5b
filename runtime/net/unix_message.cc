#include "runtime/net/unix_message.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "runtime/net/fd_passing.h"
#include "runtime/net/socket_errors.h"

namespace polyio {
namespace {

// Fds a cancelled receive kept, oldest first.
std::vector<UniqueFd> TakeKeptFds(FdHandle& handle) {
  std::vector<UniqueFd> fds;
  while (handle.has_kept_fd()) fds.push_back(handle.TakeKeptFd());
  return fds;
}

// Points `msg` at one buffer, a name (null: none) and the control bytes
// (empty: none).
void SetUpMsg(msghdr* msg, iovec* iov, const void* buf, size_t len,
              const void* name, socklen_t name_len,
              std::vector<char>* control) {
  iov->iov_base = const_cast<void*>(buf);
  iov->iov_len = len;
  *msg = msghdr{};
  if (name != nullptr) {
    msg->msg_name = const_cast<void*>(name);
    msg->msg_namelen = name_len;
  }
  msg->msg_iov = iov;
  msg->msg_iovlen = 1;
  if (!control->empty()) {
    msg->msg_control = control->data();
    msg->msg_controllen = control->size();
  }
}

}  // namespace

// ---- receive ----

UnixRecvFuture::~UnixRecvFuture() {
  if (io_ == nullptr) return;
  int32_t res = io_->Abandon();
  // Kept before the slot is given back, so that the next receive finds it.
  if (res >= 0) Keep(res);
  Release();
}

void UnixRecvFuture::Release() {
  io_ = nullptr;
  handle_->ReleaseSlot(FdHandle::Direction::kRead);
}

void UnixRecvFuture::Keep(int32_t n) {
  std::vector<UniqueFd> fds;
  TakeRights(msg_, kMaxFdsPerMessage, &fds);
  for (UniqueFd& fd : fds) handle_->KeepFd(std::move(fd));
  if (info_.byte_stream) {
    if (n > 0) handle_->KeepBytes(buf_.first(static_cast<size_t>(n)));
    return;
  }
  FdHandle::KeptDatagram d;
  d.data.assign(buf_.data(), static_cast<size_t>(n));
  static_assert(sizeof(from_) <= sizeof(d.from));
  std::memcpy(&d.from, &from_, sizeof(from_));
  d.from_len = msg_.msg_namelen;
  d.msg_flags = msg_.msg_flags;
  handle_->KeepDatagram(std::move(d));
}

absl::StatusOr<UnixMessage> UnixRecvFuture::Received(int32_t n) {
  UnixMessage m;
  m.bytes = static_cast<size_t>(n);
  // Fds a cancelled receive kept come before the ones just received.
  bool dropped = TakeUpTo(TakeKeptFds(*handle_), max_fds_, &m.fds);
  dropped = TakeRights(msg_, max_fds_, &m.fds) || dropped;
  m.fds_truncated = dropped;
  if (!info_.byte_stream) {
    m.truncated = (msg_.msg_flags & MSG_TRUNC) != 0;
    m.peer = UnixAddress::FromSockaddr(from_, msg_.msg_namelen);
  }
  return m;
}

Poll<absl::StatusOr<UnixMessage>> UnixRecvFuture::FromKept(Context& cx) {
  using Result = absl::StatusOr<UnixMessage>;
  if (cx.cancelled()) {
    return Result(absl::CancelledError(absl::StrCat(info_.op, ": cancelled")));
  }
  if (!cx.ConsumeBudget()) {
    cx.waker().WakeByRef();
    return kPending;
  }
  UnixMessage m;
  bool dropped = false;
  if (info_.byte_stream) {
    m.bytes = handle_->TakeKeptBytes(buf_);
  } else {
    FdHandle::KeptDatagram kept = handle_->TakeKeptDatagram();
    m.bytes = std::min(kept.data.size(), buf_.size());
    if (m.bytes > 0) std::memcpy(buf_.data(), kept.data.data(), m.bytes);
    m.truncated =
        m.bytes < kept.data.size() || (kept.msg_flags & MSG_TRUNC) != 0;
    dropped = (kept.msg_flags & MSG_CTRUNC) != 0;
    sockaddr_un from{};
    std::memcpy(&from, &kept.from, sizeof(from));
    m.peer = UnixAddress::FromSockaddr(from, kept.from_len);
  }
  m.fds_truncated =
      TakeUpTo(TakeKeptFds(*handle_), max_fds_, &m.fds) || dropped;
  return Result(std::move(m));
}

Poll<absl::StatusOr<UnixMessage>> UnixRecvFuture::Poll(Context& cx) {
  using Result = absl::StatusOr<UnixMessage>;
  if (io_ == nullptr) {
    if (!handle_ || handle_->closed()) {
      return Result(ClosedError(info_.op, info_.noun));
    }
    if (info_.byte_stream ? handle_->has_kept_bytes()
                          : handle_->has_kept_datagram()) {
      return FromKept(cx);
    }
    if (info_.byte_stream && buf_.empty()) {
      // recvmsg would return 0, which on a stream means its end.
      return Result(absl::InvalidArgumentError(
          absl::StrCat(info_.op,
                       ": an empty buffer; on a stream fds travel "
                       "with bytes, so give room for one at least")));
    }
    io_ = handle_->ClaimSlot(FdHandle::Direction::kRead);
    if (io_ == nullptr) {
      return Result(BusyError(info_.op, "receive", info_.noun));
    }
    control_.assign(RightsControlSpace(max_fds_), 0);
    SetUpMsg(&msg_, &iov_, buf_.data(), buf_.size(),
             info_.byte_stream ? nullptr : &from_, sizeof(from_), &control_);
    Operation& op = io_->op();
    op.kind = OpKind::kRecvMsg;
    op.byte_stream = info_.byte_stream;
    op.msg = &msg_;
    op.flags = CloexecRecvFlags();
  }
  polyio::Poll<int32_t> res = io_->PollResult(cx);
  if (res.pending()) return kPending;
  Release();
  const int32_t n = res.value();
  // A stream's 0 (its end) is nothing to keep; a datagram of 0 bytes is one.
  if (n >= 0 && cx.cancelled() && (n > 0 || !info_.byte_stream)) {
    Keep(n);
    return Result(absl::CancelledError(
        absl::StrCat(info_.op,
                     ": cancelled; what it received is kept for the next "
                     "receive")));
  }
  if (n < 0) {
    return Result(OperationError(*handle_, n, info_.op,
                                 absl::StrCat(info_.op, " fd ", handle_->fd()),
                                 info_.noun));
  }
  return Received(n);
}

// ---- send ----

UnixSendFuture::UnixSendFuture(RefPtr<FdHandle> handle,
                               absl::Span<const char> data,
                               absl::Span<const int> fds,
                               std::optional<UnixAddress> to, UnixOpInfo info)
    : handle_(std::move(handle)), data_(data), to_(std::move(to)), info_(info) {
  invalid_ = BuildRightsControl(info_.op, fds, &control_);
  if (invalid_.ok() && info_.byte_stream && !fds.empty() && data_.empty()) {
    invalid_ = absl::InvalidArgumentError(
        absl::StrCat(info_.op,
                     ": no data; on a stream fds travel with bytes, so send "
                     "one at least"));
  }
}

UnixSendFuture::~UnixSendFuture() {
  if (io_ == nullptr) return;
  io_->Abandon();  // sent or not; nobody is told
  handle_->ReleaseSlot(FdHandle::Direction::kWrite);
}

Poll<absl::StatusOr<size_t>> UnixSendFuture::Poll(Context& cx) {
  using Result = absl::StatusOr<size_t>;
  if (io_ == nullptr) {
    if (!invalid_.ok()) return Result(invalid_);
    if (!handle_ || handle_->closed()) {
      return Result(ClosedError(info_.op, info_.noun));
    }
    io_ = handle_->ClaimSlot(FdHandle::Direction::kWrite);
    if (io_ == nullptr) return Result(BusyError(info_.op, "send", info_.noun));
    SetUpMsg(&msg_, &iov_, data_.data(), data_.size(),
             to_.has_value() ? to_->data() : nullptr,
             to_.has_value() ? to_->size() : 0, &control_);
    Operation& op = io_->op();
    op.kind = OpKind::kSendMsg;
    op.byte_stream = info_.byte_stream;
    op.msg = &msg_;
    op.flags = 0;
  }
  polyio::Poll<int32_t> res = io_->PollResult(cx);
  if (res.pending()) return kPending;
  io_ = nullptr;
  handle_->ReleaseSlot(FdHandle::Direction::kWrite);
  if (res.value() < 0) {
    std::string what = info_.op;
    if (to_.has_value()) absl::StrAppend(&what, " ", to_->ToString());
    absl::StrAppend(&what, " fd ", handle_->fd());
    return Result(
        OperationError(*handle_, res.value(), info_.op, what, info_.noun));
  }
  return Result(static_cast<size_t>(res.value()));
}

}  // namespace polyio
