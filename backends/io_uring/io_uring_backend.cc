#include "backends/io_uring/io_uring_backend.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/status/status.h"
#include "backends/io_uring/io_uring_setup.h"
#include "backends/io_uring/waitid_sqe.h"
#include "backends/readiness/try_op.h"

namespace polyio {
namespace {

// user_data values that are not Operation addresses (those are aligned to
// 8): the wake-up poll, and cancels (whose CQEs say nothing about the
// operation; its own CQE does).
constexpr uint64_t kWakeTag = 1;
constexpr uint64_t kCancelTag = 2;

// backend_state bits.
constexpr uint32_t kInFlight = 1u << 0;
constexpr uint32_t kCancelRequested = 1u << 1;
// Waiting for readiness after an -EAGAIN; the next CQE is a poll mask.
constexpr uint32_t kPollPhase = 1u << 2;
// Linked in by_fd_ (every operation in flight is, between phases aside).
constexpr uint32_t kTracked = 1u << 3;
// Its result was taken off the CQ outside Wait and sits in `res`.
constexpr uint32_t kStashed = 1u << 4;
// A connect went through a readiness wait: EISCONN now means success.
constexpr uint32_t kConnectPolled = 1u << 5;

// read/write(2) never move more than this at once (MAX_RW_COUNT); it also
// keeps byte counts inside `res`.
constexpr size_t kMaxTransfer = 0x7ffff000;

// Bounded retries when the kernel refuses submissions (-EBUSY/-EAGAIN): it
// frees up as completions are reaped, or it is broken for good.
constexpr int kSubmitAttempts = 1000;

unsigned Clamp(size_t len) {
  return static_cast<unsigned>(len < kMaxTransfer ? len : kMaxTransfer);
}

}  // namespace

absl::StatusOr<std::unique_ptr<IoUringBackend>> IoUringBackend::Create(
    const BackendOptions& options) {
  std::unique_ptr<IoUringBackend> b(new IoUringBackend());
  absl::Status s = OpenRing(options, &b->ring_, &b->features_);
  if (!s.ok()) return s;
  b->ring_ready_ = true;
  b->wake_fd_ = UniqueFd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!b->wake_fd_) return absl::ErrnoToStatus(errno, "io_uring: eventfd");
  b->ArmWake();
  return b;
}

IoUringBackend::~IoUringBackend() {
  // The kernel cancels what is still pending when the ring goes; the driver
  // has drained every Operation by now (backend.h), so no buffer is in use.
  if (ring_ready_) io_uring_queue_exit(&ring_);
}

// One SQE for `op`, tracked as in flight; -EBUSY inline when the ring has
// no free entry.
bool IoUringBackend::Issue(Operation* op) {
  io_uring_sqe* sqe = GetSqe();
  if (sqe == nullptr) {
    op->res = -EBUSY;
    return true;
  }
  op->backend_state = kInFlight;
  ++in_flight_;
  Track(op);
  Prepare(sqe, op);
  return false;
}

bool IoUringBackend::SubmitSpecial(Operation* op) {
  // kWaitId where the kernel has IORING_OP_WAITID: an SQE on the pidfd like
  // any fd's. Without it the runtime learns here that it must poll the
  // pidfd instead.
  if (op->kind == OpKind::kWaitId && features_.waitid) return SubmitOp(op);
  // Kinds of backends with native signals and process exits (operation.h),
  // which the runtime never sends here, and path operations the kernel
  // lacks. A path kind's fd may be AT_FDCWD, which is negative.
  if (!IsPathKind(op->kind)) {
    op->res = op->fd < 0 ? -EBADF : -EOPNOTSUPP;
    return true;
  }
  if (!PathKindSupported(op->kind)) {
    op->res = -EOPNOTSUPP;
    return true;
  }
  return Issue(op);
}

bool IoUringBackend::PathKindSupported(OpKind kind) const {
  switch (kind) {
    case OpKind::kOpenAt:
      return features_.openat;
    case OpKind::kStatx:
      return features_.statx;
    case OpKind::kRenameAt:
      return features_.renameat;
    case OpKind::kUnlinkAt:
      return features_.unlinkat;
    case OpKind::kMkdirAt:
      return features_.mkdirat;
    default:
      return false;
  }
}

bool IoUringBackend::SubmitOp(Operation* op) {
  if (op->fd < 0) {
    op->res = -EBADF;
    return true;
  }
  if (op->kind == OpKind::kClose) {
    // "Cancel the fd's pending operations, then close": the cancels are
    // queued ahead of the close, so the kernel issues them first.
    Forget(op->fd);
  }
  return Issue(op);
}

void IoUringBackend::Prepare(io_uring_sqe* sqe, Operation* op) {
  const int fd = op->fd;
  switch (op->kind) {
    case OpKind::kRead:  // offset -1: the file position, as read(2)
      io_uring_prep_read(sqe, fd, op->buf, Clamp(op->len), ~uint64_t{0});
      break;
    case OpKind::kWrite:
      io_uring_prep_write(sqe, fd, op->buf, Clamp(op->len), ~uint64_t{0});
      break;
    case OpKind::kRecv:
      io_uring_prep_recv(sqe, fd, op->buf, Clamp(op->len), op->flags);
      break;
    case OpKind::kSend:
      io_uring_prep_send(sqe, fd, op->buf, Clamp(op->len),
                         op->flags | MSG_NOSIGNAL);
      break;
    case OpKind::kRecvMsg:
      io_uring_prep_recvmsg(sqe, fd, op->msg, static_cast<unsigned>(op->flags));
      break;
    case OpKind::kSendMsg:
      io_uring_prep_sendmsg(sqe, fd, op->msg,
                            static_cast<unsigned>(op->flags | MSG_NOSIGNAL));
      break;
    case OpKind::kAccept:
      io_uring_prep_accept(sqe, fd, op->addr, op->addrlen_out,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
      break;
    case OpKind::kConnect:
      io_uring_prep_connect(sqe, fd, op->addr, op->addrlen);
      break;
    case OpKind::kPollFd:
      io_uring_prep_poll_add(sqe, fd, op->poll_events);
      break;
    case OpKind::kClose:
      io_uring_prep_close(sqe, fd);
      break;
    case OpKind::kPread:
      io_uring_prep_read(sqe, fd, op->buf, Clamp(op->len), op->offset);
      break;
    case OpKind::kPwrite:
      io_uring_prep_write(sqe, fd, op->buf, Clamp(op->len), op->offset);
      break;
    case OpKind::kFsync:
      io_uring_prep_fsync(sqe, fd, 0);
      break;
    case OpKind::kWaitId:
      PrepareWaitId(sqe, fd, static_cast<siginfo_t*>(op->buf));
      break;
    case OpKind::kSignal:
    case OpKind::kProcExit:
      break;  // refused by Submit
    case OpKind::kOpenAt:
    case OpKind::kStatx:
    case OpKind::kRenameAt:
    case OpKind::kUnlinkAt:
    case OpKind::kMkdirAt:
      PreparePath(sqe, op);
      break;
  }
  io_uring_sqe_set_data(sqe, op);
}

void IoUringBackend::PreparePath(io_uring_sqe* sqe, Operation* op) {
  const auto* args = static_cast<const PathArgs*>(op->buf);
  const int dir = op->fd;
  switch (op->kind) {
    case OpKind::kOpenAt:
      io_uring_prep_openat(sqe, dir, args->path, args->flags, args->mode);
      // See the header: from io-wq, an open waits as open(2) does.
      if (!(args->flags & O_NONBLOCK)) sqe->flags |= IOSQE_ASYNC;
      break;
    case OpKind::kStatx:
      io_uring_prep_statx(sqe, dir, args->path, args->flags, args->mask,
                          args->statx_buf);
      break;
    case OpKind::kRenameAt:
      io_uring_prep_renameat(sqe, dir, args->path, dir, args->new_path,
                             static_cast<unsigned>(args->flags));
      break;
    case OpKind::kUnlinkAt:
      io_uring_prep_unlinkat(sqe, dir, args->path, args->flags);
      break;
    case OpKind::kMkdirAt:
      io_uring_prep_mkdirat(sqe, dir, args->path, args->mode);
      break;
    default:
      break;
  }
}

io_uring_sqe* IoUringBackend::GetSqe() {
  for (int attempt = 0; attempt < kSubmitAttempts; ++attempt) {
    if (io_uring_sqe* sqe = io_uring_get_sqe(&ring_)) return sqe;
    // Full: hand the batch to the kernel now. With SQPOLL, wait for its
    // thread to consume entries instead.
    if (features_.sqpoll) {
      io_uring_submit(&ring_);
      io_uring_sqring_wait(&ring_);
      continue;
    }
    int r = io_uring_submit(&ring_);
    if (r > 0 || r == -EINTR) continue;
    // -EBUSY (older kernels, CQ overflow pending) or -EAGAIN (no memory
    // for requests): make room on the CQ without delivering anything.
    StashCompletions();
    io_uring_get_events(&ring_);
    if (attempt > 8) sched_yield();
  }
  return nullptr;
}

void IoUringBackend::SubmitNow() {
  for (int attempt = 0; io_uring_sq_ready(&ring_) > 0; ++attempt) {
    if (attempt == kSubmitAttempts) return;
    int r = io_uring_submit(&ring_);
    if (features_.sqpoll) {
      sched_yield();
    } else if (r <= 0 && r != -EINTR) {
      StashCompletions();
      io_uring_get_events(&ring_);
    }
  }
}

void IoUringBackend::StashCompletions() {
  // Results stay on their operations, which stay linked by fd: callers of
  // GetSqe may be walking those lists. Wait collects them.
  io_uring_cqe* cqe = nullptr;
  while (io_uring_peek_cqe(&ring_, &cqe) == 0) {
    uint64_t data = cqe->user_data;
    int32_t res = cqe->res;
    io_uring_cqe_seen(&ring_, cqe);
    if (data == kWakeTag) {
      OnWake();
    } else if (data > kCancelTag && data != LIBURING_UDATA_TIMEOUT) {
      auto* op = reinterpret_cast<Operation*>(data);
      op->res = res;
      op->backend_state |= kStashed;
      ++stashed_;
    }
  }
}

void IoUringBackend::DeliverStashed() {
  OpList batch;
  auto take_stashed = [&batch](int, OpList& list) {
    for (Operation* op = list.front(); op != nullptr;) {
      Operation* next = OpList::next(op);
      if (op->backend_state & kStashed) {
        list.Unlink(op);
        op->backend_state &= ~kTracked;
        batch.PushBack(op);
      }
      op = next;
    }
  };
  by_fd_.ForEach(take_stashed);
  take_stashed(-1, path_ops_);
  stashed_ = 0;
  while (Operation* op = batch.PopFront()) OnResult(op, op->res);
}

void IoUringBackend::Track(Operation* op) {
  TrackedOn(op).PushBack(op);
  op->backend_state |= kTracked;
}

void IoUringBackend::Untrack(Operation* op) {
  if (!(op->backend_state & kTracked)) return;
  TrackedOn(op).Unlink(op);
  op->backend_state &= ~kTracked;
}

void IoUringBackend::QueueCancel(Operation* op) {
  op->backend_state |= kCancelRequested;
  // A stashed result is already in; a cancel could only miss.
  if (op->backend_state & kStashed) return;
  io_uring_sqe* sqe = GetSqe();
  if (sqe == nullptr) return;
  io_uring_prep_cancel64(sqe, reinterpret_cast<uint64_t>(op), 0);
  io_uring_sqe_set_data64(sqe, kCancelTag);
}

void IoUringBackend::Cancel(Operation* op) {
  uint32_t st = op->backend_state;
  if (!(st & kInFlight) || (st & kCancelRequested)) return;
  QueueCancel(op);
}

void IoUringBackend::Forget(int fd) {
  if (fd < 0) return;
  OpList* list = by_fd_.Find(fd);
  if (list == nullptr || list->empty()) return;
  if (features_.cancel_fd) {
    for (Operation* op = list->front(); op != nullptr; op = OpList::next(op)) {
      op->backend_state |= kCancelRequested;
    }
    if (io_uring_sqe* sqe = GetSqe()) {
      io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
      io_uring_sqe_set_data64(sqe, kCancelTag);
    }
  } else {
    for (Operation* op = list->front(); op != nullptr; op = OpList::next(op)) {
      if (!(op->backend_state & kCancelRequested)) QueueCancel(op);
    }
  }
  // The kernel looks fd up when it issues an SQE: the queued operations on
  // it and the cancel must get there before the caller closes fd.
  SubmitNow();
}

void IoUringBackend::CancelAll() {
  // By user_data, not by fd: an fd closed without Forget (a caller's bug)
  // must not leave an operation that shutdown then waits for forever.
  auto cancel = [this](int, OpList& list) {
    for (Operation* op = list.front(); op != nullptr; op = OpList::next(op)) {
      if (!(op->backend_state & kCancelRequested)) QueueCancel(op);
    }
  };
  by_fd_.ForEach(cancel);
  cancel(-1, path_ops_);
}

void IoUringBackend::Wake() {
  wake_latch_.Wake([this] {
    uint64_t one = 1;
    // EAGAIN means the counter is saturated: a wake is pending anyway.
    [[maybe_unused]] ssize_t n = write(wake_fd_.get(), &one, sizeof(one));
  });
}

void IoUringBackend::ArmWake() {
  io_uring_sqe* sqe = GetSqe();
  if (sqe == nullptr) return;
  io_uring_prep_poll_add(sqe, wake_fd_.get(), POLLIN);
  io_uring_sqe_set_data64(sqe, kWakeTag);
}

void IoUringBackend::OnWake() {
  wake_latch_.Clear([this] {
    [[maybe_unused]] ssize_t n =
        read(wake_fd_.get(), &wake_buf_, sizeof(wake_buf_));
  });
  // Re-armed at the end of Wait, not here: this may run inside GetSqe.
  rearm_wake_ = true;
}

bool IoUringBackend::Requeue(Operation* op) {
  io_uring_sqe* sqe = GetSqe();
  if (sqe == nullptr) return false;
  if (!(op->backend_state & kTracked)) Track(op);
  Prepare(sqe, op);
  return true;
}

bool IoUringBackend::WaitForReadiness(Operation* op) {
  io_uring_sqe* sqe = GetSqe();
  if (sqe == nullptr) return false;
  if (!(op->backend_state & kTracked)) Track(op);
  io_uring_prep_poll_add(
      sqe, op->fd, DirectionOf(*op) == WaitsFor::kWrite ? POLLOUT : POLLIN);
  io_uring_sqe_set_data(sqe, op);
  op->backend_state |= kPollPhase;
  if (op->kind == OpKind::kConnect) op->backend_state |= kConnectPolled;
  return true;
}

void IoUringBackend::OnResult(Operation* op, int32_t res) {
  const uint32_t st = op->backend_state;
  op->backend_state &= ~kStashed;
  const bool cancelled = st & kCancelRequested;
  if (IsPathKind(op->kind)) [[unlikely]] {
    // Interrupted in io-wq: by our cancel (a FIFO's open waiting for its
    // other end), or by anything else, which is no answer: issue it again.
    // -ERESTARTSYS and its kin (512..516) are the kernel's own names for
    // an interrupted call, which io_uring hands back as they are.
    if (res == -EINTR || (res <= -512 && res >= -516)) {
      if (cancelled) {
        res = -ECANCELED;
      } else if (Requeue(op)) {
        return;
      } else {
        res = -EBUSY;
      }
    }
  } else if (st & kPollPhase) {
    // The readiness wait after an -EAGAIN ended: issue the operation again,
    // unless it was cancelled or the poll itself failed.
    op->backend_state &= ~kPollPhase;
    if (res >= 0 && !cancelled && Requeue(op)) return;
    if (res >= 0) res = -ECANCELED;
  } else if (res == -EAGAIN || res == -EINTR ||
             (op->kind == OpKind::kConnect &&
              (res == -EINPROGRESS || res == -EALREADY))) {
    // Old kernels hand these back for O_NONBLOCK files and sockets.
    if (cancelled) {
      res = -ECANCELED;
    } else if (res == -EINTR ? Requeue(op) : WaitForReadiness(op)) {
      return;
    } else {
      res = -EBUSY;
    }
  } else if (res == -EISCONN && (st & kConnectPolled)) {
    res = 0;
  }
  Deliver(op, res);
}

void IoUringBackend::Deliver(Operation* op, int32_t res) {
  Untrack(op);
  op->res = res;
  op->backend_state = 0;
  --in_flight_;
  ++delivered_;
  op->on_complete(op);
}

void IoUringBackend::Dispatch(uint64_t user_data, int32_t res) {
  if (user_data == kWakeTag) {
    OnWake();
  } else if (user_data > kCancelTag && user_data != LIBURING_UDATA_TIMEOUT) {
    OnResult(reinterpret_cast<Operation*>(user_data), res);
  }
}

void IoUringBackend::Reap() {
  // Bounded, so that callbacks whose new operations complete at once (when
  // a full SQ forces a submit mid-reap) cannot keep one Wait going forever.
  unsigned budget = 2 * features_.cq_entries + 64;
  io_uring_cqe* cqe = nullptr;
  // io_uring_peek_cqe enters the kernel when the CQ overflowed (NODROP
  // kept the rest) or task work is due (COOP_TASKRUN), so nothing is left
  // behind while there is room.
  while (budget-- > 0 && io_uring_peek_cqe(&ring_, &cqe) == 0) {
    uint64_t data = cqe->user_data;
    int32_t res = cqe->res;
    io_uring_cqe_seen(&ring_, cqe);
    Dispatch(data, res);
  }
}

int IoUringBackend::Wait(int64_t timeout_ns) {
  delivered_ = 0;
  if (stashed_ > 0) DeliverStashed();
  if (delivered_ > 0 || io_uring_cq_ready(&ring_) > 0 ||
      io_uring_cq_has_overflow(&ring_)) {
    timeout_ns = 0;
  }
  // One io_uring_enter: submit the turn's batch and wait.
  if (timeout_ns == 0) {
    if (io_uring_sq_ready(&ring_) > 0) io_uring_submit_and_get_events(&ring_);
  } else if (timeout_ns < 0) {
    io_uring_submit_and_wait(&ring_, 1);
  } else {
    __kernel_timespec ts{};
    ts.tv_sec = timeout_ns / 1000000000;
    ts.tv_nsec = timeout_ns % 1000000000;
    io_uring_cqe* cqe = nullptr;
    // -ETIME and -EINTR are ordinary ends of a wait.
    io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
  }
  Reap();
  if (rearm_wake_) {
    rearm_wake_ = false;
    ArmWake();
  }
  return delivered_;
}

}  // namespace polyio
