#include "runtime/net/unix_stream.h"

#include <sys/socket.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "runtime/net/socket_errors.h"

namespace polyio {

Poll<absl::StatusOr<UnixStream>> UnixConnectFuture::Poll(Context& cx) {
  using Result = absl::StatusOr<UnixStream>;
  if (!addr_.ok()) return Result(addr_.status());
  if (!fd_) {
    absl::StatusOr<UniqueFd> fd = NewUnixSocket(SOCK_STREAM);
    if (!fd.ok()) return Result(fd.status());
    fd_ = std::move(*fd);
    Operation& op = io_.op();
    op.kind = OpKind::kConnect;
    op.fd = fd_.get();
    op.addr = const_cast<sockaddr*>(addr_->data());
    op.addrlen = addr_->size();
  }
  polyio::Poll<int32_t> res = io_.PollResult(cx);
  if (res.pending()) return kPending;
  // The driver the connect went to: the backend may have registered the fd.
  UnixStream stream(std::move(fd_), io_.driver());
  if (res.value() < 0) {
    stream.Close().IgnoreError();
    return Result(absl::ErrnoToStatus(
        -res.value(), absl::StrCat("connect ", addr_->ToString())));
  }
  return Result(std::move(stream));
}

UnixConnectFuture::~UnixConnectFuture() {
  if (!fd_) return;
  io_.Abandon();
  UnixStream(std::move(fd_), io_.driver()).Close().IgnoreError();
}

absl::StatusOr<std::pair<UnixStream, UnixStream>> UnixStream::Pair() {
  UniqueFd a, b;
  if (absl::Status s = NewUnixPair(SOCK_STREAM, &a, &b); !s.ok()) return s;
  return std::pair<UnixStream, UnixStream>(UnixStream(std::move(a)),
                                           UnixStream(std::move(b)));
}

absl::Status UnixStream::ShutdownWrite() {
  if (!is_open()) return ClosedError("shutdown", "stream");
  if (::shutdown(fd(), SHUT_WR) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("shutdown fd ", fd()));
  }
  return absl::OkStatus();
}

}  // namespace polyio
