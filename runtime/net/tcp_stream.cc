#include "runtime/net/tcp_stream.h"

#include <sys/socket.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "platform/socket.h"

namespace polyio {
namespace {

absl::Status Closed(const char* op) {
  return absl::FailedPreconditionError(
      absl::StrCat(op, ": the stream is closed"));
}

}  // namespace

absl::StatusOr<size_t> TransferFuture::Error(const Operation& op, int32_t res) {
  const char* what = op.kind == OpKind::kRecv ? "read" : "write";
  if (op.fd < 0) return Closed(what);
  return ResultError(res, what, op.fd);
}

Poll<absl::Status> WriteAllFuture::Poll(Context& cx) {
  Operation& op = io_.op();
  while (written_ < buf_.size()) {
    absl::Status error;
    if (op.fd < 0) {
      error = Closed("write");
    } else {
      polyio::Poll<int32_t> res = io_.PollResult(cx);
      if (res.pending()) return kPending;
      if (res.value() >= 0) {
        written_ += static_cast<size_t>(res.value());
        // The same operation again for the rest (a short write).
        io_.Reset();
        op.buf = const_cast<char*>(buf_.data()) + written_;
        op.len = buf_.size() - written_;
        continue;
      }
      error = ResultError(res.value(), "write", op.fd);
    }
    return absl::Status(error.code(),
                        absl::StrCat(error.message(), " (wrote ", written_,
                                     " of ", buf_.size(), " bytes)"));
  }
  return absl::OkStatus();
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
  if (res.value() < 0) {
    HomeDriver(driver).Forget(fd_.get());
    fd_.Reset();
    return Result(absl::ErrnoToStatus(
        -res.value(), absl::StrCat("connect ", addr_.ToString())));
  }
  return Result(TcpStream(std::move(fd_), driver));
}

TcpStream& TcpStream::operator=(TcpStream&& other) noexcept {
  if (this != &other) {
    Close().IgnoreError();
    fd_ = std::move(other.fd_);
    home_ = std::move(other.home_);
  }
  return *this;
}

absl::Status TcpStream::ShutdownWrite() {
  if (!fd_) return Closed("shutdown");
  if (::shutdown(fd_.get(), SHUT_WR) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("shutdown fd ", fd_.get()));
  }
  return absl::OkStatus();
}

absl::Status TcpStream::SetNoDelay(bool on) {
  if (!fd_) return Closed("set TCP_NODELAY");
  return polyio::SetNoDelay(fd_.get(), on);
}

absl::StatusOr<SocketAddress> TcpStream::LocalAddress() const {
  if (!fd_) return Closed("local address");
  return polyio::LocalAddress(fd_.get());
}

absl::StatusOr<SocketAddress> TcpStream::PeerAddress() const {
  if (!fd_) return Closed("peer address");
  return polyio::PeerAddress(fd_.get());
}

absl::Status TcpStream::Close() {
  if (!fd_) return absl::OkStatus();
  home_.Forget(fd_.get());
  int fd = fd_.Release();
  if (::close(fd) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("close fd ", fd));
  }
  return absl::OkStatus();
}

}  // namespace polyio
