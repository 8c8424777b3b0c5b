#include "runtime/net/tcp_stream.h"

#include <sys/socket.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "platform/socket.h"
#include "runtime/net/socket_errors.h"

namespace polyio {
namespace {

absl::Status Closed(const char* op) { return ClosedError(op, "stream"); }

// An operation that failed with `res`: socket_errors.h's, with TcpStream's
// wording ("read fd 7: Connection reset by peer").
absl::Status OperationError(const FdHandle& handle, int32_t res, const char* op,
                            int fd) {
  return polyio::OperationError(handle, res, op, absl::StrCat(op, " fd ", fd),
                                "stream");
}

absl::Status Busy(const char* op) {
  return absl::FailedPreconditionError(absl::StrCat(
      op, ": another ", op,
      " is pending on this stream (one read and one write at a time)"));
}

}  // namespace

absl::StatusOr<size_t> ReadFuture::Closed() const {
  return polyio::Closed("read");
}

absl::StatusOr<size_t> ReadFuture::Busy() const { return polyio::Busy("read"); }

absl::StatusOr<size_t> ReadFuture::Error(int32_t res) const {
  return OperationError(*handle_, res, "read", handle_->fd());
}

absl::StatusOr<size_t> ReadFuture::KeepCancelled(int32_t n) {
  handle_->KeepBytes(buf_.first(static_cast<size_t>(n)));
  return absl::CancelledError(
      absl::StrCat("read: cancelled; the ", n,
                   " bytes it received are kept for the next read"));
}

void ReadFuture::KeepUnseen(int32_t res) {
  if (res > 0) handle_->KeepBytes(buf_.first(static_cast<size_t>(res)));
  Release();
}

Poll<absl::StatusOr<size_t>> ReadFuture::FromKept(Context& cx) {
  using Result = absl::StatusOr<size_t>;
  if (cx.cancelled()) return Result(absl::CancelledError("read: cancelled"));
  if (!cx.ConsumeBudget()) {
    cx.waker().WakeByRef();
    return kPending;
  }
  return Result(handle_->TakeKeptBytes(buf_));
}

absl::StatusOr<size_t> WriteFuture::Closed() const {
  return polyio::Closed("write");
}

absl::StatusOr<size_t> WriteFuture::Busy() const {
  return polyio::Busy("write");
}

absl::StatusOr<size_t> WriteFuture::Error(int32_t res) const {
  return OperationError(*handle_, res, "write", handle_->fd());
}

WriteFuture::~WriteFuture() {
  if (io_ == nullptr) return;
  io_->Abandon();  // what it wrote is written; nobody is told
  handle_->ReleaseSlot(FdHandle::Direction::kWrite);
}

WriteAllFuture::~WriteAllFuture() {
  if (io_ == nullptr) return;
  io_->Abandon();
  handle_->ReleaseSlot(FdHandle::Direction::kWrite);
}

Poll<absl::Status> WriteAllFuture::Poll(Context& cx) {
  while (written_ < buf_.size()) {
    absl::Status error;
    if (!handle_ || handle_->closed()) {
      error = Closed("write");
    } else {
      if (io_ == nullptr) {
        io_ = handle_->ClaimSlot(FdHandle::Direction::kWrite);
        if (io_ == nullptr) return Busy("write");
        io_->op().kind = OpKind::kSend;
        io_->op().byte_stream = true;
      }
      Operation& op = io_->op();
      op.buf = const_cast<char*>(buf_.data()) + written_;
      op.len = buf_.size() - written_;
      polyio::Poll<int32_t> res = io_->PollResult(cx);
      if (res.pending()) return kPending;
      // The same slot again for the rest (a short write).
      io_->Reset();
      if (res.value() >= 0) {
        written_ += static_cast<size_t>(res.value());
        continue;
      }
      error = OperationError(*handle_, res.value(), "write", handle_->fd());
    }
    Release();
    return absl::Status(error.code(),
                        absl::StrCat(error.message(), " (wrote ", written_,
                                     " of ", buf_.size(), " bytes)"));
  }
  Release();
  return absl::OkStatus();
}

void WriteAllFuture::Release() {
  if (io_ == nullptr) return;
  io_ = nullptr;
  handle_->ReleaseSlot(FdHandle::Direction::kWrite);
}

Poll<absl::StatusOr<TcpStream>> ConnectFuture::Poll(Context& cx) {
  using Result = absl::StatusOr<TcpStream>;
  if (!fd_) {
    absl::StatusOr<UniqueFd> fd = NewStreamSocket(addr_.family());
    if (!fd.ok()) return Result(fd.status());
    fd_ = std::move(*fd);
    Operation& op = io_.op();
    op.kind = OpKind::kConnect;
    op.fd = fd_.get();
    op.addr = const_cast<sockaddr*>(addr_.data());
    op.addrlen = addr_.size();
  }
  polyio::Poll<int32_t> res = io_.PollResult(cx);
  if (res.pending()) return kPending;
  // The driver the connect went to: the backend may have registered the fd.
  Driver* driver = io_.driver();
  TcpStream stream(std::move(fd_), driver);
  if (res.value() < 0) {
    stream.Close().IgnoreError();
    return Result(absl::ErrnoToStatus(
        -res.value(), absl::StrCat("connect ", addr_.ToString())));
  }
  return Result(std::move(stream));
}

ConnectFuture::~ConnectFuture() {
  if (!fd_) return;
  io_.Abandon();
  TcpStream(std::move(fd_), io_.driver()).Close().IgnoreError();
}

TcpStream& TcpStream::operator=(TcpStream&& other) noexcept {
  if (this != &other) {
    Close().IgnoreError();
    handle_ = std::move(other.handle_);
  }
  return *this;
}

absl::Status TcpStream::ShutdownWrite() {
  if (!is_open()) return Closed("shutdown");
  if (::shutdown(fd(), SHUT_WR) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("shutdown fd ", fd()));
  }
  return absl::OkStatus();
}

absl::Status TcpStream::SetNoDelay(bool on) {
  if (!is_open()) return Closed("set TCP_NODELAY");
  return polyio::SetNoDelay(fd(), on);
}

absl::StatusOr<SocketAddress> TcpStream::LocalAddress() const {
  if (!is_open()) return Closed("local address");
  return polyio::LocalAddress(fd());
}

absl::StatusOr<SocketAddress> TcpStream::PeerAddress() const {
  if (!is_open()) return Closed("peer address");
  return polyio::PeerAddress(fd());
}

absl::Status TcpStream::Close() {
  if (!handle_) return absl::OkStatus();
  return handle_->Close();
}

}  // namespace polyio
