// TryOp: the one attempt a readiness backend makes at an operation.
//
// Performs the syscall for `op` once, non-blocking, retrying EINTR, and
// returns what io_uring would put in `res` (bytes, a new fd, a readiness
// mask, 0, or -errno) — or -EAGAIN when the fd is not ready yet, in which
// case the caller parks `op` and calls TryOp again on readiness. The file
// kinds (kPread, kPwrite, kFsync) are refused with -EOPNOTSUPP: readiness
// backends do not take them (NativeFileIo() is false). Shared by epoll,
// poll and kqueue. Thread-compatible.
#ifndef POLYIO_BACKENDS_READINESS_TRY_OP_H_
#define POLYIO_BACKENDS_READINESS_TRY_OP_H_

#include <cstdint>

#include "backends/operation.h"

namespace polyio {

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

int32_t TryOp(Operation* op);

// backend_state bit TryOp sets once a connect() is under way, so that the
// next attempt asks for the outcome instead of connecting again.
inline constexpr uint32_t kConnectStarted = 1u << 8;

}  // namespace polyio

#endif  // POLYIO_BACKENDS_READINESS_TRY_OP_H_
