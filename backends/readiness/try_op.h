// TryOp: the one attempt a readiness backend makes at an operation.
//
// Performs the syscall for `op` once, non-blocking, retrying EINTR, and
// returns what io_uring would put in `res` (bytes, a new fd, a readiness
// mask, 0, or -errno) — or -EAGAIN when the fd is not ready yet, in which
// case the caller parks `op` and calls TryOp again on readiness. The file
// kinds (kPread, kPwrite, kFsync) and the path kinds (kOpenAt ...) are
// refused with -EOPNOTSUPP: readiness backends do not take them
// (NativeFileIo() is false). Shared by epoll,
// poll and kqueue. Thread-compatible.
#ifndef POLYIO_BACKENDS_READINESS_TRY_OP_H_
#define POLYIO_BACKENDS_READINESS_TRY_OP_H_

#include <sys/socket.h>

#include <cerrno>
#include <cstdint>

#include "backends/operation.h"
#include "platform/raw_syscall.h"

namespace polyio {

#if defined(MSG_NOSIGNAL)
inline constexpr int kNoSignal = MSG_NOSIGNAL;
#else
inline constexpr int kNoSignal = 0;  // macOS: sockets carry SO_NOSIGPIPE.
#endif

// Which readiness an operation waits for when TryOp says -EAGAIN.
enum class WaitsFor : uint8_t { kRead, kWrite, kEither };
// Inline: the reactor asks on every submission.
inline WaitsFor DirectionOf(const Operation& op) {
  switch (op.kind) {
    case OpKind::kWrite:
    case OpKind::kSend:
    case OpKind::kSendMsg:
    case OpKind::kConnect:
    case OpKind::kPwrite:
      return WaitsFor::kWrite;
    case OpKind::kPollFd:
      if ((op.poll_events & kPollIn) && (op.poll_events & kPollOut)) {
        return WaitsFor::kEither;
      }
      return (op.poll_events & kPollOut) ? WaitsFor::kWrite : WaitsFor::kRead;
    default:
      return WaitsFor::kRead;
  }
}

// The data transfers, inline and through raw system calls
// (platform/raw_syscall.h): every message of every stream passes here.
inline int32_t TryTransfer(Operation* op) {
  for (;;) {
    long r;
    switch (op->kind) {
      case OpKind::kRecv:
        r = sys::Recv(op->fd, op->buf, op->len, op->flags);
        break;
      case OpKind::kSend:
        r = sys::Send(op->fd, op->buf, op->len, op->flags | kNoSignal);
        break;
      case OpKind::kRead:
        r = sys::Read(op->fd, op->buf, op->len);
        break;
      default:  // kWrite
        r = sys::Write(op->fd, op->buf, op->len);
        break;
    }
    if (r == -EINTR) continue;
    if (r == -EWOULDBLOCK) return -EAGAIN;
    return static_cast<int32_t>(r);
  }
}

// Every other kind (try_op.cc).
int32_t TryOtherOp(Operation* op);

inline int32_t TryOp(Operation* op) {
  switch (op->kind) {
    case OpKind::kRecv:
    case OpKind::kSend:
    case OpKind::kRead:
    case OpKind::kWrite:
      return TryTransfer(op);
    default:
      return TryOtherOp(op);
  }
}

// backend_state bit TryOp sets once a connect() is under way, so that the
// next attempt asks for the outcome instead of connecting again.
inline constexpr uint32_t kConnectStarted = 1u << 8;

}  // namespace polyio

#endif  // POLYIO_BACKENDS_READINESS_TRY_OP_H_
