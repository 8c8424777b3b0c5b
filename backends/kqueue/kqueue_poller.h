// KqueuePoller: the readiness source of the kqueue backend (macOS, the BSDs,
// and Linux through libkqueue).
//
// What it promises ReadinessReactor (backends/readiness/reactor.h):
// - Level-triggered, on every platform: an fd is registered for exactly the
//   directions that have waiters (EVFILT_READ / EVFILT_WRITE, no EV_CLEAR),
//   with EV_ADD when a direction gains its first waiter and EV_DELETE when
//   it loses its last. An fd that stays ready is reported on every wait
//   until its waiters are gone, and no fd nobody waits on is reported.
// - Registrations are batched: Arm only records what the fd should have;
//   the next Poll turns the difference into a changelist and hands it to the
//   kernel in the same kevent() call that waits. This batching is what makes
//   level triggering cheap here: adding and deleting filters as operations
//   park and complete costs no system call of its own, however many fds a
//   turn touched (an fd armed and disarmed within one turn costs nothing at
//   all). It is also what keeps missed events from being lost: an event the
//   kernel could not hand over in one call (libkqueue drops what does not fit
//   in the event list) is reported again by the next, because the condition
//   still holds.
// - Because Arm returns before the kernel has seen the change, an EV_ADD
//   that fails is reported from Poll through
//   `sink.ArmFailed(fd, read, write, -errno)`, per direction (a pipe's
//   read end may refuse EVFILT_WRITE alone). A failed EV_DELETE means the
//   filter is gone already and is not reported.
// - A socket's pending error that an EVFILT_WRITE event carries (EV_EOF,
//   fflags) goes to the fd's writers through ArmFailed, before the
//   readiness report: libkqueue consumes that error while reporting it.
// - Disarm removes the fd at once (EV_DELETE in its own kevent call, and
//   nothing queued for it survives), because the caller closes the fd right
//   after Forget and libkqueue keeps a stale registration for an fd closed
//   without EV_DELETE. It also drops this turn's not-yet-dispatched events of
//   that fd, so a number reused inside one batch never receives the old fd's
//   events or errors.
// - Wake() triggers an EVFILT_USER event (NOTE_TRIGGER) registered at
//   creation; wakes coalesce until Poll has seen it.
// - Native events (backend.h's kNativeSignals, kNativeProcExit): an
//   OpKind::kSignal or kProcExit operation is handed over whole (Watch) and
//   registered at once, in a kevent() call of its own, as an EV_ONESHOT
//   knote: EVFILT_SIGNAL (ident: the signal number) or EVFILT_PROC
//   NOTE_EXIT (ident: the pid). At once, not batched: a caller that checks
//   for a delivery right after submitting (the signal registry drains its
//   recorder) must know that any later delivery fires the knote. Operations
//   of one knote share it (a kqueue has one knote per ident and filter) and
//   all complete when it fires, through sink.Fired(op, res); an operation
//   watched while Poll dispatches a batch is not completed by that batch's
//   events (its knote is a new one). Unwatch deletes the knote with its last
//   operation, and drops its undispatched events.
//
// Every kevent() call keeps the kernel from blocking on a failed change:
// the event list always has a slot per change, and on libkqueue (which
// waits for the timeout when a change fails and event slots are left over)
// a call that carries changes offers exactly one slot per change. See
// docs/backends.md (kqueue) for the platform and libkqueue differences.
//
// Thread-hostile, except Wake() (thread-safe; async-signal-safe on native
// kqueue, where it is one system call, but not through libkqueue, which
// takes a lock inside kevent()).
#ifndef POLYIO_BACKENDS_KQUEUE_KQUEUE_POLLER_H_
#define POLYIO_BACKENDS_KQUEUE_KQUEUE_POLLER_H_

#include <sys/types.h>
// sys/types.h first: the BSDs' sys/event.h uses its types without including
// it.
#include <sys/event.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/kqueue/kqueue_signal_recorder.h"
#include "backends/operation.h"
#include "backends/readiness/fd_table.h"
#include "backends/readiness/op_list.h"
#include "backends/readiness/poller.h"
#include "backends/wake_latch.h"
#include "platform/unique_fd.h"

#if !defined(EVFILT_USER) || !defined(NOTE_TRIGGER)
// FreeBSD >= 8.1, macOS >= 10.6, NetBSD >= 10 and libkqueue have it.
#error "the kqueue backend needs EVFILT_USER/NOTE_TRIGGER for Wake()"
#endif

namespace polyio {

class KqueuePoller {
 public:
  // "kqueue" also over libkqueue: the name says which contract runs, and
  // callers compare it with the build setting's value.
  static constexpr std::string_view kName = "kqueue";
  static constexpr bool kEdgeTriggered = false;

  // libkqueue (kqueue emulated on Linux) defines LIBKQUEUE in sys/event.h.
#if defined(LIBKQUEUE)
  static constexpr bool kEmulated = true;
#else
  static constexpr bool kEmulated = false;
#endif

  // Native events (see the top of this file and backends/backend.h).
  static constexpr bool kNativeSignals = true;
  static constexpr bool kNativeProcExit = true;
  using SignalRecorder = KqueueSignalRecorder;

  // Reads options.max_events (events fetched per wait).
  static absl::StatusOr<KqueuePoller> Create(const BackendOptions& options);

  // Records that `fd` should be registered for exactly the directions
  // given; the next Poll submits the EV_ADD / EV_DELETE changes that takes.
  // Returns 0, or -EBADF for a negative fd; kernel errors come later through
  // sink.ArmFailed.
  int Arm(int fd, bool want_read, bool want_write);
  void Disarm(int fd);
  void Wake();

  // Takes an OpKind::kSignal or kProcExit operation: registers its knote
  // and keeps the operation until the knote fires (Poll then calls
  // sink.Fired) or Unwatch. Returns false when it finished at once instead,
  // with op->res set: 0 for the exit of a process that is gone already
  // (ESRCH: reaped or a zombie), else -errno of the registration.
  bool Watch(Operation* op);
  // Takes back a watched operation (it will not be reported).
  void Unwatch(Operation* op);
  // Unwatches every watched operation, passing each to `take`.
  template <class F>
  void UnwatchAll(F&& take) {
    AdoptFresh();
    while (Operation* op = watching_.front()) {
      Unwatch(op);
      take(op);
    }
  }

  // Submits the changelist and waits up to `timeout_ns` (-1: no limit) in
  // one kevent() call, then reports each fd: sink.Ready(fd, readable,
  // writable, hung_up) for readiness (hung_up: EV_EOF on the read filter,
  // or a socket error), sink.ArmFailed(fd, read, write, -errno) for
  // failed registrations. Callbacks may Arm and Disarm.
  template <PollerReportSink Sink>
  void Poll(int64_t timeout_ns, Sink&& sink) {
    batch_end_ = Kevent(timeout_ns, sink);
    for (size_t i = 0; i < batch_end_;) {
      const struct kevent& first = events_[i];
      if (first.filter == EVFILT_USER) {
        DrainWake();
        ++i;
        continue;
      }
      if (first.filter == EVFILT_SIGNAL || first.filter == EVFILT_PROC) {
        batch_next_ = ++i;
        Fire(first, sink);
        continue;
      }
      if (!Reportable(first)) {
        ++i;
        continue;
      }
      // Entries of one fd are usually adjacent (its changes are queued
      // together and the kernel reports an fd's filters together); merge
      // them into one report. Take all fields before a callback can Disarm
      // the fd.
      int fd = static_cast<int>(first.ident);
      bool is_error = (first.flags & EV_ERROR) != 0;
      bool read = false;
      bool write = false;
      bool eof = false;
      int32_t error = 0;
      size_t j = i;
      for (; j < batch_end_ && events_[j].ident == first.ident &&
             Reportable(events_[j]) &&
             ((events_[j].flags & EV_ERROR) != 0) == is_error;
           ++j) {
        uint8_t bit = events_[j].filter == EVFILT_READ ? kRead : kWrite;
        if (is_error) {
          if (error == 0) error = -static_cast<int32_t>(events_[j].data);
          filters_.At(fd).registered &= static_cast<uint8_t>(~bit);
        } else if (bit == kWrite) {
          error = SocketError(events_[j]);
        }
        (bit == kRead ? read : write) = true;
        // EV_EOF on the write filter says only that the peer stopped
        // reading: our reads may still block.
        eof |= bit == kRead && (events_[j].flags & EV_EOF) != 0;
      }
      batch_next_ = j;
      if (is_error) {
        sink.ArmFailed(fd, read, write, error);
      } else {
        if (error != 0) {
          sink.ArmFailed(fd, false, true, error);
          // Disarmed by a callback: the rest belongs to a closed fd.
          if ((filters_.At(fd).registered & kWrite) == 0) {
            i = j;
            continue;
          }
        }
        // Also after a socket error: the retry keeps the reactor's idea of
        // the fd's directions in step with what is registered.
        sink.Ready(fd, read, write, eof || error != 0);
      }
      i = j;
    }
    batch_next_ = batch_end_ = 0;
    AdoptFresh();
  }

  // Changes the next Poll will submit (for tests).
  size_t PendingChanges();

 private:
  static constexpr uint8_t kRead = 1;
  static constexpr uint8_t kWrite = 2;
  // A filter value no kqueue uses: marks an entry Disarm dropped.
  static constexpr short kDropped = 0;
  // The ident of the EVFILT_USER event behind Wake(); filters have separate
  // ident spaces, so it cannot clash with an fd.
  static constexpr uintptr_t kWakeIdent = 0;

  // What one fd should have and what the kernel has (or will have once the
  // submitted changelist is applied), as kRead | kWrite bits.
  struct Filters {
    uint8_t wanted = 0;
    uint8_t registered = 0;
    bool dirty = false;  // on dirty_
  };

  KqueuePoller(UniqueFd kq, uint32_t max_events);

  // Whether a fetched entry is a readiness event or the failure of an
  // EV_ADD, for an fd still known. Dropped entries, receipts, filters this
  // poller never registers and failed EV_DELETEs (the filter is gone
  // already: ENOENT, or EBADF for a closed fd) are not. A failed change
  // comes back as an EV_ERROR copy of itself; whether it was an add or a
  // delete is read from `registered`, which the changelist already
  // reflects (FreeBSD overwrites the flags of an error entry, so they
  // cannot tell). Each filter of an fd has at most one change per call.
  bool Reportable(const struct kevent& e) {
    if (e.filter != EVFILT_READ && e.filter != EVFILT_WRITE) return false;
    if ((e.flags & EV_ERROR) == 0) return true;
    if (e.data == 0) return false;
    Filters* f = filters_.Find(static_cast<int>(e.ident));
    uint8_t bit = e.filter == EVFILT_READ ? kRead : kWrite;
    return f != nullptr && (f->registered & bit) != 0;
  }

  // The pending error of a socket, as -errno, that an EVFILT_WRITE event
  // carries (EV_EOF, error in fflags), else 0. Handed to the writers
  // directly because libkqueue reads it with getsockopt(SO_ERROR), which
  // clears it on Linux: a writer that retried would no longer see it (a
  // refused connect() would fail with ECONNABORTED). On BSD the error is
  // still pending, and a retry would return the same. Only for sockets:
  // libkqueue puts EIO there for other fds, where a retry tells better
  // (EPIPE for a pipe whose reader is gone).
  static int32_t SocketError(const struct kevent& e) {
    if ((e.flags & EV_EOF) == 0 || e.fflags == 0) return 0;
    struct stat st;
    if (fstat(static_cast<int>(e.ident), &st) < 0 || !S_ISSOCK(st.st_mode)) {
      return 0;
    }
    return -static_cast<int32_t>(e.fflags);
  }

  // The knote a native-event operation waits on.
  static short FilterOf(const Operation& op) {
    return op.kind == OpKind::kSignal ? EVFILT_SIGNAL : EVFILT_PROC;
  }
  static bool SameKnote(const Operation& op, short filter, uintptr_t ident) {
    return FilterOf(op) == filter && static_cast<uintptr_t>(op.fd) == ident;
  }
  // backend_state bit of a watched operation registered while Poll
  // dispatched a batch: on fresh_, not on watching_.
  static constexpr uint32_t kFresh = 1u << 9;

  // The batch is over: the operations watched during it wait like the
  // others from now on.
  void AdoptFresh() {
    for (Operation* op = fresh_.front(); op != nullptr; op = OpList::next(op)) {
      op->backend_state &= ~kFresh;
    }
    watching_.Splice(fresh_);
  }

  // A signal or process knote fired (EV_ONESHOT: it is gone): completes
  // every operation that waited on it. A failed registration cannot show up
  // here: Watch registers with EV_RECEIPT and reads its receipt.
  template <class Sink>
  void Fire(const struct kevent& e, Sink& sink) {
    if (e.flags & EV_ERROR) return;
    const short filter = e.filter;
    const uintptr_t ident = e.ident;
    int32_t res = 0;
    if (filter == EVFILT_SIGNAL) {
      res = e.data <= 0 ? 1
                        : static_cast<int32_t>(
                              std::min<int64_t>(e.data, int64_t{INT32_MAX}));
    }
    // One at a time, each taken off before its callback, and the list
    // searched again after it: a callback may cancel another waiter of this
    // knote (Unwatch) or watch it again (that one goes to fresh_).
    for (;;) {
      Operation* op = watching_.front();
      while (op != nullptr && !SameKnote(*op, filter, ident)) {
        op = OpList::next(op);
      }
      if (op == nullptr) return;
      watching_.Unlink(op);
      sink.Fired(op, res);
    }
  }

  // Appends the changes of the dirty fds to changes_ and records them as
  // registered.
  void BuildChanges();

  // One kevent() call: submits the changes of the dirty fds and fetches
  // events into events_; returns how many. If the call fails outright
  // (other than EINTR, after which the changes have been applied), its
  // EV_ADDs are reported as failed, so that no parked operation waits for a
  // registration that never happened, and its EV_DELETEs are queued again.
  template <class Sink>
  size_t Kevent(int64_t timeout_ns, Sink& sink) {
    BuildChanges();
    int n = Call(timeout_ns);
    int err = errno;
    if (n >= 0 || err == EINTR) {
      changes_.clear();
      return n >= 0 ? static_cast<size_t>(n) : 0;
    }
    // Undo first, report after: ArmFailed callbacks may Arm these fds again.
    failed_.clear();
    for (const struct kevent& c : changes_) {
      int fd = static_cast<int>(c.ident);
      Filters& f = filters_.At(fd);
      uint8_t bit = c.filter == EVFILT_READ ? kRead : kWrite;
      if (c.flags & EV_ADD) {
        f.registered &= static_cast<uint8_t>(~bit);
        if (!failed_.empty() && failed_.back().fd == fd) {
          failed_.back().bits |= bit;
        } else {
          failed_.push_back({fd, bit});
        }
      } else {
        f.registered |= bit;
        MarkDirty(fd, f);
      }
    }
    changes_.clear();
    for (const FailedAdd& a : failed_) {
      sink.ArmFailed(a.fd, (a.bits & kRead) != 0, (a.bits & kWrite) != 0, -err);
    }
    failed_.clear();
    return 0;
  }

  void MarkDirty(int fd, Filters& f) {
    if (f.dirty) return;
    f.dirty = true;
    dirty_.push_back(fd);
  }

  // kevent(changes_, events_) with the slot rules above: returns the number
  // of events, or -1 with errno set.
  int Call(int64_t timeout_ns);
  void DrainWake();

  struct FailedAdd {
    int fd;
    uint8_t bits;
  };

  UniqueFd kq_;
  // Watched native-event operations (Watch): registered before the batch
  // being dispatched, and during it (kFresh).
  OpList watching_;
  OpList fresh_;
  FdTable<Filters> filters_;
  std::vector<int> dirty_;  // fds whose wanted may differ from registered
  std::vector<struct kevent> changes_;  // built by Poll from dirty_
  std::vector<FailedAdd> failed_;       // of a call that failed outright
  std::vector<struct kevent> events_;
  // The part of events_ that Poll has not dispatched yet: [batch_next_,
  // batch_end_). Disarm drops the entries of its fd from it.
  size_t batch_next_ = 0;
  size_t batch_end_ = 0;
  // Later wakes skip the kevent() call until Poll has seen the user event.
  WakeLatch wake_latch_;
};

static_assert(ReadinessPoller<KqueuePoller>);

}  // namespace polyio

#endif  // POLYIO_BACKENDS_KQUEUE_KQUEUE_POLLER_H_
