#include "backends/kqueue/kqueue_signal_recorder.h"

#include <fcntl.h>
#include <sys/types.h>
// sys/types.h first: the BSDs' sys/event.h uses its types without including
// it.
#include <sys/event.h>
#include <sys/time.h>

#include <cerrno>
#include <ctime>
#include <utility>

#include "absl/strings/str_cat.h"

namespace polyio {

absl::StatusOr<KqueueSignalRecorder> KqueueSignalRecorder::Create() {
  UniqueFd kq(kqueue());
  if (!kq) return absl::ErrnoToStatus(errno, "kqueue");
  int fdfl = fcntl(kq.get(), F_GETFD);
  if (fdfl < 0 || fcntl(kq.get(), F_SETFD, fdfl | FD_CLOEXEC) < 0) {
    return absl::ErrnoToStatus(errno, "fcntl FD_CLOEXEC kqueue");
  }
  return KqueueSignalRecorder(std::move(kq));
}

absl::Status KqueueSignalRecorder::Add(int signo) {
  // EV_RECEIPT with one slot: the change's result comes back at once
  // (libkqueue waits for the timeout when slots are left over).
  struct kevent change;
  EV_SET(&change, static_cast<uintptr_t>(signo), EVFILT_SIGNAL,
         EV_ADD | EV_RECEIPT, 0, 0, nullptr);
  struct kevent receipt;
  timespec zero{0, 0};
  int n;
  while ((n = kevent(kq_.get(), &change, 1, &receipt, 1, &zero)) < 0 &&
         errno == EINTR) {
  }
  int err = n < 0 ? errno
            : (n == 1 && (receipt.flags & EV_ERROR) != 0)
                ? static_cast<int>(receipt.data)
                : 0;
  if (err != 0) {
    return absl::ErrnoToStatus(
        err, absl::StrCat("kevent EV_ADD EVFILT_SIGNAL ", signo));
  }
  return absl::OkStatus();
}

void KqueueSignalRecorder::Remove(int signo) {
  struct kevent change;
  EV_SET(&change, static_cast<uintptr_t>(signo), EVFILT_SIGNAL,
         EV_DELETE | EV_RECEIPT, 0, 0, nullptr);
  struct kevent receipt;
  timespec zero{0, 0};
  while (kevent(kq_.get(), &change, 1, &receipt, 1, &zero) < 0 &&
         errno == EINTR) {
  }
}

void KqueueSignalRecorder::Take(uint64_t* counts, int limit) {
  struct kevent events[16];
  timespec zero{0, 0};
  for (;;) {
    int n = kevent(kq_.get(), nullptr, 0, events, 16, &zero);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    for (int i = 0; i < n; ++i) {
      const struct kevent& e = events[i];
      if (e.filter != EVFILT_SIGNAL || (e.flags & EV_ERROR) != 0) continue;
      if (e.ident == 0 || e.ident >= static_cast<uintptr_t>(limit)) continue;
      // data: the deliveries since the knote was last fetched (EV_CLEAR
      // is implied for signals).
      counts[e.ident] += e.data > 0 ? static_cast<uint64_t>(e.data) : 1;
    }
    if (n < 16) return;
  }
}

}  // namespace polyio
