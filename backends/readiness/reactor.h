// ReadinessReactor<Poller>: the completion contract of backends/backend.h on
// top of a readiness mechanism.
//
// How it keeps the contract:
// - Submit tries the syscall at once (TryOp). Only on EAGAIN is the
//   operation parked on its fd's list for its direction, and the fd armed in
//   the poller. Because every operation is tried unless the fd is known to
//   have nothing for it, data that arrived while nobody was waiting is never
//   lost: this is what makes edge-triggered pollers (epoll with EPOLLET)
//   safe.
// - Readiness is remembered per fd and direction, as mio and tokio do: an
//   attempt that found nothing (EAGAIN), or a short transfer on a byte
//   stream (Operation::byte_stream: fewer bytes than asked means the socket
//   had no more, or no more room), marks the direction exhausted, and the
//   next operation of that direction parks without a syscall that would
//   fail. Only the poller's next report for that direction clears it (or,
//   on a level-triggered poller, a cancel taking the direction's last
//   waiter: see ForgetMarksOfIdleDirections). That
//   report cannot be missed: data that arrives after the attempt saw the
//   socket empty raises an edge (queued by the kernel until the next wait),
//   and a level-triggered poller, armed when the operation parks, reports
//   what is there. An echo server thus makes two syscalls per message (the
//   read and the write), not three. One thing a short read does not show is
//   a peer's FIN (or an error) that arrived with the data: its edge may have
//   been reported before the read, and no other follows. So once the poller
//   reports a hang-up, the fd's reads are never skipped again (read_closed,
//   sticky until the fd is forgotten), as tokio keeps its read-closed bit.
// - When the poller reports an fd ready, the parked operations of that
//   direction are retried in FIFO order until one says EAGAIN again.
// - Cancel and Forget move parked operations to a queue of finished ones,
//   delivered by the next Wait, so no callback ever runs inside Cancel.
//
// The Poller is the OS mechanism underneath (poller.h, the ReadinessPoller
// concept). The reactor arms an edge-triggered poller once per fd for both
// directions (no syscall per operation after that), and a level-triggered
// one with the directions that have waiters (a direction that lost them
// stays armed until its next report, to spare two updates per message). A
// registration that
// failed late (reported through ReportSink::ArmFailed, for the directions
// whose filter failed) completes the parked operations of those directions
// with the error; when both failed the fd counts as unregistered again, so
// the next park re-arms it. A direction that failed alone (kqueue:
// EVFILT_WRITE on a pipe's read end) is not retried, because operations of
// that direction fail at once on such an fd anyway.
//
// Native events (a NativeEventPoller: kqueue): kSignal and kProcExit
// operations name no fd, so they bypass the fd table and go to the poller
// whole (Watch); Cancel and CancelAll take them back (Unwatch), and the
// poller reports them through ReportSink::Fired. Compiled only for such a
// poller: epoll's and poll's Submit are unchanged.
//
// Thread-hostile, except Wake() (thread-safe).
#ifndef POLYIO_BACKENDS_READINESS_REACTOR_H_
#define POLYIO_BACKENDS_READINESS_REACTOR_H_

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "backends/operation.h"
#include "backends/readiness/fd_table.h"
#include "backends/readiness/op_list.h"
#include "backends/readiness/poller.h"
#include "backends/readiness/try_op.h"

namespace polyio {

template <ReadinessPoller Poller>
class ReadinessReactor {
 public:
  explicit ReadinessReactor(Poller poller) : poller_(std::move(poller)) {}
  ReadinessReactor(const ReadinessReactor&) = delete;
  ReadinessReactor& operator=(const ReadinessReactor&) = delete;

  bool Submit(Operation* op) {
    if constexpr (NativeEventPoller<Poller>) {
      if (IsNativeEvent(op->kind)) return SubmitWatch(op);
    }
    if (op->kind == OpKind::kClose) {
      Forget(op->fd);
      op->res = TryOp(op);
      return true;
    }
    op->backend_state = 0;
    if (op->fd < 0) {
      // A path kind's fd may be AT_FDCWD; those are refused (TryOp).
      op->res = IsPathKind(op->kind) ? -EOPNOTSUPP : -EBADF;
      return true;
    }
    FdState& fd = table_.At(op->fd);
    // Looked up once: the kind's direction is a switch.
    bool* const exhausted = ExhaustedFlag(fd, *op);
    if (exhausted == nullptr || !*exhausted) {
      int32_t res = TryOp(op);
      Note(fd, exhausted, *op, res);
      if (res != -EAGAIN) {
        op->res = res;
        return true;
      }
    }
    Park(op, fd);
    return false;
  }

  void Cancel(Operation* op) {
    if (!(op->backend_state & kParked)) return;
    if constexpr (NativeEventPoller<Poller>) {
      if (IsNativeEvent(op->kind)) {
        poller_.Unwatch(op);
        Finish(op, -ECANCELED);
        return;
      }
    }
    FdState& fd = table_.At(op->fd);
    ListOf(fd, op).Unlink(op);
    Finish(op, -ECANCELED);
    ForgetMarksOfIdleDirections(fd);
    UpdateInterest(op->fd, fd);
  }

  void Forget(int fd) {
    FdState* state = table_.Find(fd);
    if (state == nullptr) return;
    FinishAll(*state, -ECANCELED);
    if (state->registered) poller_.Disarm(fd);
    *state = FdState{};
  }

  void CancelAll() {
    table_.ForEach([this](int fd, FdState& state) {
      FinishAll(state, -ECANCELED);
      ForgetMarksOfIdleDirections(state);
      UpdateInterest(fd, state);
    });
    if constexpr (NativeEventPoller<Poller>) {
      poller_.UnwatchAll([this](Operation* op) { Finish(op, -ECANCELED); });
    }
  }

  int Wait(int64_t timeout_ns) {
    delivered_ = 0;
    DeliverFinished();
    if (delivered_ > 0 || !finished_.empty()) timeout_ns = 0;
    poller_.Poll(timeout_ns, ReportSink(this));
    return delivered_;
  }

  void Wake() { poller_.Wake(); }
  size_t InFlight() const { return in_flight_; }
  // Cancelled or forgotten operations wait in finished_ for the next Wait.
  bool HasReady() const { return !finished_.empty(); }

 private:
  // backend_state bits (TryOp owns kConnectStarted).
  static constexpr uint32_t kParked = 1u << 0;
  static constexpr uint32_t kFinished = 1u << 1;

  struct FdState {
    OpList readers;
    OpList writers;
    OpList either;  // poll-for-readiness in both directions
    bool registered = false;
    bool armed_read = false;
    bool armed_write = false;
    // The last attempt in that direction found nothing (no room), and the
    // poller has not reported it ready since (see the top of this file).
    bool read_exhausted = false;
    bool write_exhausted = false;
    // The poller reported a hang-up or an error: reads end (EOF or the
    // error) without blocking from now on, so a short one proves nothing.
    bool read_closed = false;
  };

  static bool IsNativeEvent(OpKind kind) {
    return kind == OpKind::kSignal || kind == OpKind::kProcExit;
  }

  // A native event goes to the poller as it is (see the top of this file).
  bool SubmitWatch(Operation* op) {
    op->backend_state = kParked;
    if (!poller_.Watch(op)) {
      op->backend_state = 0;
      return true;
    }
    ++in_flight_;
    return false;
  }

  // The direction an operation's readiness state belongs to, for the kinds
  // whose attempt can be skipped: data transfers and accept. (Connect must
  // always make its call; poll-for-readiness asks the kernel anyway.)
  static bool* ExhaustedFlag(FdState& fd, const Operation& op) {
    switch (op.kind) {
      case OpKind::kRead:
      case OpKind::kRecv:
      case OpKind::kRecvMsg:
      case OpKind::kAccept:
        return &fd.read_exhausted;
      case OpKind::kWrite:
      case OpKind::kSend:
      case OpKind::kSendMsg:
        return &fd.write_exhausted;
      default:
        return nullptr;
    }
  }

  // What one attempt says about the fd's readiness; true when it found the
  // direction exhausted. `flag` is ExhaustedFlag(fd, op).
  static bool Note(FdState& fd, bool* flag, const Operation& op, int32_t res) {
    if (flag == nullptr) return res == -EAGAIN;
    bool short_transfer = op.byte_stream && res > 0 &&
                          static_cast<size_t>(res) < op.len &&
                          !(flag == &fd.read_exhausted && fd.read_closed);
    if (res != -EAGAIN && !short_transfer) return false;
    *flag = true;
    return true;
  }

  // Where Poller::Poll reports ready fds and late registration failures
  // (a PollerReportSink): straight into this reactor.
  class ReportSink {
   public:
    explicit ReportSink(ReadinessReactor* reactor) : reactor_(reactor) {}
    void Ready(int fd, bool readable, bool writable, bool hung_up) const {
      reactor_->OnReady(fd, readable, writable, hung_up);
    }
    void ArmFailed(int fd, bool read, bool write, int32_t error) const {
      reactor_->OnArmFailed(fd, read, write, error);
    }
    // A watched native event completed; the poller has let go of `op`.
    void Fired(Operation* op, int32_t res) const { reactor_->Deliver(op, res); }

   private:
    ReadinessReactor* reactor_;
  };
  static_assert(PollerReportSink<ReportSink>);

  static OpList& ListOf(FdState& fd, const Operation* op) {
    switch (DirectionOf(*op)) {
      case WaitsFor::kRead:
        return fd.readers;
      case WaitsFor::kWrite:
        return fd.writers;
      case WaitsFor::kEither:
        break;
    }
    return fd.either;
  }

  void Park(Operation* op, FdState& fd) {
    ++in_flight_;
    ListOf(fd, op).PushBack(op);
    op->backend_state |= kParked;
    if (int err = UpdateInterest(op->fd, fd); err != 0) {
      ListOf(fd, op).Unlink(op);
      Finish(op, err);
    }
  }

  // Tells the poller which directions of `fd` to watch: those with waiters.
  // On a level-triggered poller a direction that lost its waiters stays
  // armed until the poller reports it with nobody waiting (`idle_read`,
  // `idle_write`), and only then is disarmed: an echo's read is delivered
  // and the next one parks a moment later, and disarming and re-arming in
  // between cost two poller updates per message. Disarming at the first
  // idle report keeps a ready fd that nobody reads from making every Poll
  // return at once.
  int UpdateInterest(int fd, FdState& state, bool idle_read = false,
                     bool idle_write = false) {
    if constexpr (Poller::kEdgeTriggered) {
      if (state.registered) return 0;
      if (state.readers.empty() && state.writers.empty() &&
          state.either.empty()) {
        return 0;
      }
      int err = poller_.Arm(fd, /*want_read=*/true, /*want_write=*/true);
      state.registered = (err == 0);
      return err;
    } else {
      bool want_read = !state.readers.empty() || !state.either.empty() ||
                       (state.armed_read && !idle_read);
      bool want_write = !state.writers.empty() || !state.either.empty() ||
                        (state.armed_write && !idle_write);
      if (state.registered && want_read == state.armed_read &&
          want_write == state.armed_write) {
        return 0;
      }
      int err = poller_.Arm(fd, want_read, want_write);
      if (err != 0) return err;
      state.registered = true;
      state.armed_read = want_read;
      state.armed_write = want_write;
      return 0;
    }
  }

  // A level-triggered poller reports only armed directions, so an
  // exhausted mark is cleared only while its direction is armed, and a
  // direction without waiters is disarmed at its next report (see
  // UpdateInterest). When a cancel takes a direction's last waiter before
  // the poller reported it, the mark is forgotten: else the next operation
  // would park untried again and again, if each is cancelled as soon as it
  // parks (a select that gives up at once). A delivery keeps the mark: the
  // direction is still armed (disarming is lazy), so the next operation parks
  // and the poller's next report says whether it is ready — no attempt that
  // the last one already showed would fail (poll's echo made a failing recv
  // per message before). An edge-triggered
  // poller reports every edge whoever waits, so its marks need no forgetting.
  static void ForgetMarksOfIdleDirections(FdState& state) {
    if constexpr (!Poller::kEdgeTriggered) {
      if (state.readers.empty() && state.either.empty()) {
        state.read_exhausted = false;
      }
      if (state.writers.empty() && state.either.empty()) {
        state.write_exhausted = false;
      }
    }
  }

  void OnReady(int fd, bool readable, bool writable, bool hung_up) {
    FdState* state = table_.Find(fd);
    if (state == nullptr) return;
    state->read_closed |= hung_up;
    // Directions reported with nobody waiting in them: a level-triggered
    // poller's UpdateInterest disarms those. (An edge-triggered one stays
    // armed, and epoll's hot path does not pay for the question.)
    bool idle_read = false;
    bool idle_write = false;
    if constexpr (!Poller::kEdgeTriggered) {
      const bool nobody_waits = state->either.empty();
      idle_read = readable && nobody_waits && state->readers.empty();
      idle_write = writable && nobody_waits && state->writers.empty();
    }
    // An edge-triggered poller reports both directions on every edge: most
    // reports find no waiter in one of them.
    if (readable) {
      state->read_exhausted = false;
      if (!state->readers.empty()) Retry(*state, state->readers);
    }
    if (writable) {
      state->write_exhausted = false;
      if (!state->writers.empty()) Retry(*state, state->writers);
    }
    if ((readable || writable) && !state->either.empty()) {
      RetryAll(state->either);
    }
    UpdateInterest(fd, *state, idle_read, idle_write);
  }

  // A late registration of `fd` failed for the given directions.
  void OnArmFailed(int fd, bool read, bool write, int32_t error) {
    FdState* state = table_.Find(fd);
    if (state == nullptr || !state->registered) return;
    // Taken off the fd first: completion callbacks may park new operations
    // on it, and those must not inherit this error.
    OpList failed;
    if (read) {
      failed.Splice(state->readers);
      state->armed_read = false;
    }
    if (write) {
      failed.Splice(state->writers);
      state->armed_write = false;
    }
    if (read && write) {
      failed.Splice(state->either);
      state->registered = false;
    }
    while (Operation* op = failed.PopFront()) Deliver(op, error);
    // A waiter parked since (or by a callback above) in a failed direction
    // asks the poller again; the poller reports a second failure the same way.
    if (state->registered) UpdateInterest(fd, *state);
  }

  // Retries parked operations in order until one would block again, or one
  // found the direction exhausted (the next would block).
  void Retry(FdState& fd, OpList& list) {
    while (Operation* op = list.front()) {
      int32_t res = TryOp(op);
      bool exhausted = Note(fd, ExhaustedFlag(fd, *op), *op, res);
      if (res == -EAGAIN) return;
      list.Unlink(op);
      Deliver(op, res);
      if (exhausted) return;
    }
  }

  // Operations that only observe readiness do not consume it: retry them all.
  void RetryAll(OpList& list) {
    OpList still_waiting;
    while (Operation* op = list.PopFront()) {
      int32_t res = TryOp(op);
      if (res == -EAGAIN) {
        still_waiting.PushBack(op);
      } else {
        Deliver(op, res);
      }
    }
    list.Splice(still_waiting);
  }

  void FinishAll(FdState& state, int32_t res) {
    for (OpList* list : {&state.readers, &state.writers, &state.either}) {
      while (Operation* op = list->PopFront()) Finish(op, res);
    }
  }

  // Queues a parked operation for delivery by the next Wait.
  void Finish(Operation* op, int32_t res) {
    op->res = res;
    op->backend_state = kFinished;
    finished_.PushBack(op);
  }

  void DeliverFinished() {
    OpList batch;
    batch.Splice(finished_);
    while (Operation* op = batch.PopFront()) Deliver(op, op->res);
  }

  void Deliver(Operation* op, int32_t res) {
    op->res = res;
    op->backend_state = 0;
    --in_flight_;
    ++delivered_;
    op->on_complete(op);
  }

  Poller poller_;
  FdTable<FdState> table_;
  OpList finished_;
  size_t in_flight_ = 0;
  int delivered_ = 0;
};

}  // namespace polyio

#endif  // POLYIO_BACKENDS_READINESS_REACTOR_H_
