// IoUringBackend: the completion (proactor) backend, on Linux's io_uring.
//
// Every Operation becomes one SQE of the matching io_uring opcode, with
// user_data = the Operation's address; nothing is emulated through
// readiness. The contract of backends/backend.h is kept like this:
//
// - Submit only fills an SQE (when the SQ is full it first submits what is
//   queued) and returns false; the kernel sees the batch at the next Wait,
//   which submits and waits in one io_uring_enter. So a driver turn costs
//   one syscall however many operations it started.
// - Wait delivers each CQE as `op->res = cqe->res; op->on_complete(op)`.
//   No completion is ever delivered inside Submit, Cancel or Forget.
// - Cancel queues an IORING_OP_ASYNC_CANCEL keyed by user_data; the cancel's
//   own CQE carries a reserved tag and is dropped. The operation completes
//   once, with -ECANCELED or its real result.
// - Forget(fd) cancels every operation pending on fd (one
//   IORING_ASYNC_CANCEL_FD|ALL where the kernel has it, else one cancel per
//   operation, found through a per-fd intrusive list) and submits at once:
//   the kernel resolves fd numbers when it issues an SQE, so both the
//   operations still queued and the cancel must reach it before the caller
//   closes fd and the number is reused. io_uring holds a file reference
//   while an operation is pending, so close() alone would not end it.
// - A full CQ loses nothing: Create requires IORING_FEAT_NODROP, and
//   reaping goes through io_uring_peek_cqe, which flushes the kernel's
//   overflow list. If a submit inside Submit is refused because of it
//   (-EBUSY, older kernels), CQEs are moved to a private list first.
// - EAGAIN and EINTR never escape: on old kernels io_uring returns -EAGAIN
//   for O_NONBLOCK files; the operation then waits for readiness with
//   IORING_OP_POLL_ADD (same user_data) and is issued again.
// - Wake() writes an eventfd that the ring always has a POLL_ADD on.
// - Path operations (operation.h's path kinds: OPENAT, STATX, RENAMEAT,
//   UNLINKAT, MKDIRAT) are SQEs like the rest where the probe found the
//   opcode, else finish inline with -EOPNOTSUPP. They name no fd to
//   Forget, so they are tracked on a list of their own (CancelAll finds
//   them there). An open without O_NONBLOCK is issued with IOSQE_ASYNC:
//   the kernel's inline attempt opens with O_NONBLOCK, under which a FIFO
//   opens for reading without a writer and fails with ENXIO for writing
//   without a reader, where open(2) waits; from io-wq it waits as open(2)
//   does, and a cancel interrupts it (its -ERESTARTSYS becomes
//   -ECANCELED, or without a cancel is issued again, as -EINTR is).
// - kWaitId (backend.h's kNativeWaitId) is one IORING_OP_WAITID SQE, filled
//   by hand (waitid_sqe.h), where the kernel has it (6.7+); elsewhere it is
//   refused inline with -EOPNOTSUPP and the runtime polls the pidfd.
//
// Availability: Create fails with an Unavailable status that says why and
// what to do when io_uring cannot be used (no kernel support, a seccomp
// filter, kernel.io_uring_disabled, missing opcodes). For tests,
// POLYIO_IO_URING_FORCE_UNAVAILABLE=1 in the environment makes Create fail
// the same way without asking the kernel.
//
// Thread-hostile, except Wake() (thread-safe and async-signal-safe).
#ifndef POLYIO_BACKENDS_IO_URING_IO_URING_BACKEND_H_
#define POLYIO_BACKENDS_IO_URING_IO_URING_BACKEND_H_

#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/io_uring/io_uring_features.h"
#include "backends/operation.h"
#include "backends/readiness/fd_table.h"
#include "backends/readiness/op_list.h"
#include "backends/wake_latch.h"
#include "platform/unique_fd.h"

namespace polyio {

// The advice every "io_uring unavailable" status ends with.
inline constexpr char kIoUringAdvice[] =
    "; build with --config=epoll or --config=auto";

class IoUringBackend {
 public:
  static absl::StatusOr<std::unique_ptr<IoUringBackend>> Create(
      const BackendOptions& options);
  ~IoUringBackend();
  IoUringBackend(const IoUringBackend&) = delete;
  IoUringBackend& operator=(const IoUringBackend&) = delete;

  bool Submit(Operation* op) {
    // The kinds after kFsync: path operations, and the native events of
    // other backends. One compare on the common path.
    if (op->kind >= OpKind::kSignal) [[unlikely]]
      return SubmitSpecial(op);
    return SubmitOp(op);
  }
  void Cancel(Operation* op);
  void Forget(int fd);
  int Wait(int64_t timeout_ns);
  void Wake();
  void CancelAll();
  size_t InFlight() const { return in_flight_; }
  // Results taken off the CQ outside Wait, or CQEs on the ring.
  bool HasReady() const {
    return stashed_ > 0 || io_uring_cq_ready(&ring_) > 0;
  }

  std::string_view Name() const { return "io_uring"; }
  CompletionModel Model() const { return CompletionModel::kCompletion; }
  // READ/WRITE/FSYNC SQEs: the kernel's io-wq absorbs a blocking disk.
  static constexpr bool NativeFileIo() { return true; }
  // kWaitId: one IORING_OP_WAITID SQE where the kernel has it (features():
  // waitid), else refused inline with -EOPNOTSUPP (backend.h).
  static constexpr bool kNativeWaitId = true;

  // What the kernel offered and what this backend uses of it.
  const IoUringFeatures& features() const { return features_; }

 private:
  IoUringBackend() = default;

  // Returns a free SQE, submitting queued ones first if the SQ is full; null
  // only when the kernel keeps refusing submissions.
  io_uring_sqe* GetSqe();
  // Submits what is queued now (and, with SQPOLL, waits until the kernel
  // thread took it).
  void SubmitNow();
  // Takes ready CQEs off the ring without delivering them (marks their
  // operations kStashed); DeliverStashed, from Wait, finishes them.
  void StashCompletions();
  void DeliverStashed();

  bool SubmitOp(Operation* op);

  bool Issue(Operation* op);
  bool SubmitSpecial(Operation* op);
  bool PathKindSupported(OpKind kind) const;
  void Prepare(io_uring_sqe* sqe, Operation* op);
  static void PreparePath(io_uring_sqe* sqe, Operation* op);
  // Where an operation in flight is tracked: its fd's list, or path_ops_.
  OpList& TrackedOn(Operation* op) {
    return IsPathKind(op->kind) ? path_ops_ : by_fd_.At(op->fd);
  }
  bool Requeue(Operation* op);
  bool WaitForReadiness(Operation* op);
  void QueueCancel(Operation* op);
  void ArmWake();
  void OnWake();

  void Track(Operation* op);
  void Untrack(Operation* op);
  // Routes one result: finishes the operation, or continues it (an
  // -EAGAIN, a readiness wait that ended).
  void OnResult(Operation* op, int32_t res);
  void Deliver(Operation* op, int32_t res);
  void Dispatch(uint64_t user_data, int32_t res);
  void Reap();

  io_uring ring_{};
  bool ring_ready_ = false;
  IoUringFeatures features_;
  UniqueFd wake_fd_;
  // Later wakes skip the write(2) until the wake-up poll has completed.
  WakeLatch wake_latch_;
  uint64_t wake_buf_ = 0;
  bool rearm_wake_ = false;
  // Every operation in flight, per fd, so that Forget can find them where
  // the kernel cannot cancel by fd, and CancelAll everywhere.
  FdTable<OpList> by_fd_;
  // Path operations in flight (they have no fd of their own to list by).
  OpList path_ops_;
  // Operations whose result was taken off the CQ outside Wait.
  size_t stashed_ = 0;
  size_t in_flight_ = 0;
  int delivered_ = 0;
};

}  // namespace polyio

#endif  // POLYIO_BACKENDS_IO_URING_IO_URING_BACKEND_H_
