#include "backends/kqueue/kqueue_poller.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <utility>

#include "absl/status/status.h"

namespace polyio {
namespace {

// Longest single wait. kevent() rejects or mishandles some huge timespecs
// (FreeBSD treats tv_sec > INT32_MAX specially, macOS converts to absolute
// time), so a longer wait is cut into turns of about 12 days; the caller's
// loop goes on after a turn that delivered nothing.
constexpr int64_t kMaxWaitSeconds = int64_t{1} << 20;

}  // namespace

absl::StatusOr<KqueuePoller> KqueuePoller::Create(
    const BackendOptions& options) {
  UniqueFd kq(kqueue());
  if (!kq) return absl::ErrnoToStatus(errno, "kqueue");
  // The BSDs do not pass a kqueue to a fork()ed child, but exec() after
  // fork() from another thread still would leak it without FD_CLOEXEC.
  int fdfl = fcntl(kq.get(), F_GETFD);
  if (fdfl < 0 || fcntl(kq.get(), F_SETFD, fdfl | FD_CLOEXEC) < 0) {
    return absl::ErrnoToStatus(errno, "fcntl FD_CLOEXEC kqueue");
  }
  struct kevent wake;
  EV_SET(&wake, kWakeIdent, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, 0);
  if (kevent(kq.get(), &wake, 1, nullptr, 0, nullptr) < 0) {
    return absl::ErrnoToStatus(errno, "kevent EV_ADD EVFILT_USER");
  }
  return KqueuePoller(std::move(kq),
                      options.max_events == 0 ? 1 : options.max_events);
}

KqueuePoller::KqueuePoller(UniqueFd kq, uint32_t max_events)
    : kq_(std::move(kq)), events_(max_events) {}

int KqueuePoller::Arm(int fd, bool want_read, bool want_write) {
  if (fd < 0) return -EBADF;
  Filters& f = filters_.At(fd);
  f.wanted =
      static_cast<uint8_t>((want_read ? kRead : 0) | (want_write ? kWrite : 0));
  MarkDirty(fd, f);
  return 0;
}

void KqueuePoller::BuildChanges() {
  for (int fd : dirty_) {
    Filters& f = filters_.At(fd);
    f.dirty = false;
    for (auto [bit, filter] : {std::pair<uint8_t, short>{kRead, EVFILT_READ},
                               {kWrite, EVFILT_WRITE}}) {
      bool want = (f.wanted & bit) != 0;
      if (want == ((f.registered & bit) != 0)) continue;
      struct kevent change;
      EV_SET(&change, static_cast<uintptr_t>(fd), filter,
             want ? EV_ADD : EV_DELETE, 0, 0, 0);
      changes_.push_back(change);
      f.registered ^= bit;
    }
  }
  dirty_.clear();
}

size_t KqueuePoller::PendingChanges() {
  size_t n = 0;
  for (int fd : dirty_) {
    const Filters& f = filters_.At(fd);
    uint8_t diff = f.wanted ^ f.registered;
    n += ((diff & kRead) != 0) + ((diff & kWrite) != 0);
  }
  return n;
}

void KqueuePoller::Disarm(int fd) {
  const uintptr_t ident = static_cast<uintptr_t>(fd);
  // Events of this turn not dispatched yet belong to the fd being forgotten;
  // if the number is reused before Poll reaches them, they must not reach
  // the new fd.
  for (size_t i = batch_next_; i < batch_end_; ++i) {
    if (events_[i].ident == ident && (events_[i].filter == EVFILT_READ ||
                                      events_[i].filter == EVFILT_WRITE)) {
      events_[i].filter = kDropped;
    }
  }
  Filters* f = filters_.Find(fd);
  if (f == nullptr) return;
  // Changes not submitted yet are dropped with `wanted` (an fd still on
  // dirty_ then has nothing to change); what the kernel has is deleted now,
  // not in the next changelist: the caller closes the fd right after Forget.
  // BSD would drop the registration on close, but libkqueue keeps it and
  // then refuses the next EV_ADD of the reused number. EV_RECEIPT with one
  // slot per change makes every change report and the call return at once
  // (also on libkqueue) instead of stopping at the first failure. ENOENT (a
  // filter that failed to register) and EBADF (the fd is already closed)
  // both mean there is nothing left to delete.
  uint8_t registered = f->registered;
  f->wanted = f->registered = 0;
  struct kevent del[2];
  int n = 0;
  if (registered & kRead) {
    EV_SET(&del[n++], ident, EVFILT_READ, EV_DELETE | EV_RECEIPT, 0, 0, 0);
  }
  if (registered & kWrite) {
    EV_SET(&del[n++], ident, EVFILT_WRITE, EV_DELETE | EV_RECEIPT, 0, 0, 0);
  }
  if (n == 0) return;
  struct kevent receipts[2];
  timespec zero{0, 0};
  while (kevent(kq_.get(), del, n, receipts, n, &zero) < 0 && errno == EINTR) {
  }
}

bool KqueuePoller::Watch(Operation* op) {
  const short filter = FilterOf(*op);
  const uintptr_t ident = static_cast<uintptr_t>(op->fd);
  if (op->fd <= 0) {
    op->res = -EINVAL;
    return false;
  }
  // EV_RECEIPT and one slot: the call returns the change's own result at
  // once, never an event of another knote (and libkqueue does not wait for
  // the timeout, which it would with slots to spare).
  struct kevent change;
  EV_SET(&change, ident, filter, EV_ADD | EV_ONESHOT | EV_RECEIPT,
         filter == EVFILT_PROC ? NOTE_EXIT : 0, 0, nullptr);
  struct kevent receipt;
  timespec zero{0, 0};
  int n;
  while ((n = kevent(kq_.get(), &change, 1, &receipt, 1, &zero)) < 0 &&
         errno == EINTR) {
  }
  int err = 0;
  if (n < 0) {
    err = errno;
  } else if (n == 1 && (receipt.flags & EV_ERROR) != 0) {
    err = static_cast<int>(receipt.data);
  }
  if (err != 0) {
    // A process that cannot be watched because it is gone has exited: the
    // caller's wait finds its status (or that somebody reaped it).
    op->res = (filter == EVFILT_PROC && err == ESRCH) ? 0 : -err;
    return false;
  }
  if (batch_end_ > 0) {
    op->backend_state |= kFresh;
    fresh_.PushBack(op);
  } else {
    op->backend_state &= ~kFresh;
    watching_.PushBack(op);
  }
  return true;
}

void KqueuePoller::Unwatch(Operation* op) {
  (op->backend_state & kFresh ? fresh_ : watching_).Unlink(op);
  op->backend_state &= ~kFresh;
  const short filter = FilterOf(*op);
  const uintptr_t ident = static_cast<uintptr_t>(op->fd);
  for (OpList* list : {&watching_, &fresh_}) {
    for (Operation* o = list->front(); o != nullptr; o = OpList::next(o)) {
      if (SameKnote(*o, filter, ident)) return;  // still wanted
    }
  }
  // The knote's last operation: delete it, and what it fired this turn.
  // ENOENT means it fired already (a one-shot knote goes when fetched).
  for (size_t i = batch_next_; i < batch_end_; ++i) {
    if (events_[i].ident == ident && events_[i].filter == filter) {
      events_[i].filter = kDropped;
    }
  }
  struct kevent del;
  EV_SET(&del, ident, filter, EV_DELETE | EV_RECEIPT, 0, 0, nullptr);
  struct kevent receipt;
  timespec zero{0, 0};
  while (kevent(kq_.get(), &del, 1, &receipt, 1, &zero) < 0 && errno == EINTR) {
  }
}

void KqueuePoller::Wake() {
  wake_latch_.Wake([this] {
    struct kevent trigger;
    EV_SET(&trigger, kWakeIdent, EVFILT_USER, 0, NOTE_TRIGGER, 0, 0);
    // No event slots: the change cannot fail, and nothing is waited for.
    while (kevent(kq_.get(), &trigger, 1, nullptr, 0, nullptr) < 0 &&
           errno == EINTR) {
    }
  });
}

void KqueuePoller::DrainWake() {
  // Nothing to drain: EV_CLEAR reset the event when it was fetched.
  wake_latch_.Clear([] {});
}

int KqueuePoller::Call(int64_t timeout_ns) {
  const int nchanges = static_cast<int>(changes_.size());
  // A slot per change: a failed change is reported in a slot, and without
  // one the kernel stops applying the rest of the changelist and fails the
  // call. libkqueue additionally waits for the whole timeout when a change
  // fails while event slots are left over, so there a call with changes
  // offers exactly one slot per change (and fetches fewer events that turn;
  // the others stay queued in the kqueue for the next one).
  if (events_.size() < changes_.size()) events_.resize(changes_.size());
  int nevents = static_cast<int>(events_.size());
  if (kEmulated && nchanges > 0) nevents = nchanges;
  timespec ts{};
  if (timeout_ns >= 0) {
    int64_t sec = std::min(timeout_ns / 1000000000, kMaxWaitSeconds);
    ts.tv_sec = static_cast<time_t>(sec);
    ts.tv_nsec = static_cast<long>(timeout_ns % 1000000000);
  }
  return kevent(kq_.get(), changes_.data(), nchanges, events_.data(), nevents,
                timeout_ns < 0 ? nullptr : &ts);
}

}  // namespace polyio
