#include "backends/readiness/try_op.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace polyio {
namespace {

// Runs `call` until it stops failing with EINTR; returns its result or -errno.
template <class Call>
int32_t Retrying(Call call) {
  for (;;) {
    long r = call();
    if (r >= 0) return static_cast<int32_t>(r);
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return -EAGAIN;
    return -errno;
  }
}

int32_t Accept(Operation* op) {
  return Retrying([op] {
#if defined(__APPLE__)
    int fd = ::accept(op->fd, op->addr, op->addrlen_out);
    if (fd >= 0) {
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
      fcntl(fd, F_SETFD, FD_CLOEXEC);
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
    }
    return fd;
#else
    return ::accept4(op->fd, op->addr, op->addrlen_out,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
#endif
  });
}

// First attempt: connect(). Later attempts: the pending error, if any, then a
// second connect() to tell "connected" (EISCONN) from "still going".
int32_t Connect(Operation* op) {
  if (op->backend_state & kConnectStarted) {
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(op->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return -errno;
    if (err != 0) return -err;
  }
  for (;;) {
    if (::connect(op->fd, op->addr, op->addrlen) == 0) return 0;
    if (errno == EINTR) continue;
    if (errno == EISCONN && (op->backend_state & kConnectStarted)) return 0;
    if (errno == EINPROGRESS || errno == EALREADY) {
      op->backend_state |= kConnectStarted;
      return -EAGAIN;
    }
    return -errno;
  }
}

int32_t PollNow(Operation* op) {
  pollfd p{op->fd, static_cast<short>(op->poll_events), 0};
  int32_t n = Retrying([&p] { return ::poll(&p, 1, 0); });
  if (n < 0) return n;
  if (p.revents & POLLNVAL) return -EBADF;
  return n == 0 ? -EAGAIN : static_cast<int32_t>(p.revents);
}

}  // namespace

int32_t TryOtherOp(Operation* op) {
  switch (op->kind) {
    case OpKind::kRead:
    case OpKind::kWrite:
    case OpKind::kRecv:
    case OpKind::kSend:
      return TryTransfer(op);
    case OpKind::kRecvMsg:
      return Retrying([op] { return ::recvmsg(op->fd, op->msg, op->flags); });
    case OpKind::kSendMsg:
      return Retrying(
          [op] { return ::sendmsg(op->fd, op->msg, op->flags | kNoSignal); });
    case OpKind::kAccept:
      return Accept(op);
    case OpKind::kConnect:
      return Connect(op);
    case OpKind::kPollFd:
      return PollNow(op);
    case OpKind::kClose:
      // close(2) is not retried on EINTR: the fd is released either way.
      return ::close(op->fd) == 0 ? 0 : -errno;
    // Not for readiness backends (NativeFileIo() is false, so the runtime
    // runs them on the blocking pool): done here they would block the
    // driver on a slow disk, so a caller that sends one anyway is told.
    case OpKind::kPread:
    case OpKind::kPwrite:
    case OpKind::kFsync:
      return -EOPNOTSUPP;
    // Only a poller with native events takes these (the reactor hands them
    // over before TryOp); elsewhere the runtime never sends them.
    case OpKind::kSignal:
    case OpKind::kProcExit:
    case OpKind::kWaitId:
      return -EOPNOTSUPP;
    // Path operations: the runtime runs them on the blocking pool here
    // (NativeFileIo() is false), for the reason file kinds are refused.
    case OpKind::kOpenAt:
    case OpKind::kStatx:
    case OpKind::kRenameAt:
    case OpKind::kUnlinkAt:
    case OpKind::kMkdirAt:
      return -EOPNOTSUPP;
  }
  return -EINVAL;
}

}  // namespace polyio
