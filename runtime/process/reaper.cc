#include "runtime/process/reaper.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "platform/mutex.h"
#include "runtime/signal/signal_registry.h"

#if defined(__linux__) && !defined(P_PIDFD)
#define P_PIDFD 3
#endif

namespace polyio::internal {
namespace {

// How long the thread sleeps at most while it holds an orphan it has no
// pidfd and no SIGCHLD stream for.
constexpr int kFallbackPollMs = 1000;

struct Orphan {
  pid_t pid;
  UniqueFd pidfd;
};

class Reaper {
 public:
  static Reaper& Get() {
    // Leaked: the thread may still run while static destructors do.
    static Reaper* reaper = new Reaper();
    return *reaper;
  }

  void Adopt(pid_t pid, UniqueFd pidfd) {
    {
      MutexLock lock(&mu_);
      if (!started_) Start();
      if (!pidfd && sigchld_ == nullptr) {
        // No pidfd (SIGCHLD mode): listen, so that the registry keeps
        // SIGCHLD's handler (and signalfd mask) and wakes this thread —
        // from now on, which costs nothing once installed.
        auto* listener = new SignalListener(SIGCHLD);
        if (SignalRegistry::Get().Add(listener).ok()) {
          sigchld_ = listener;
        } else {
          delete listener;
        }
      }
      orphans_.push_back(Orphan{pid, std::move(pidfd)});
    }
    Wake();
  }

  size_t Pending() {
    MutexLock lock(&mu_);
    return orphans_.size();
  }

 private:
  Reaper() = default;

  void Start() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    int p[2];
#if defined(__APPLE__)
    if (::pipe(p) == 0) {
      for (int fd : p) {
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
      }
#else
    if (::pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0) {
#endif
      wake_read_.Reset(p[0]);
      wake_write_.Reset(p[1]);
    }
    // The thread inherits a mask that blocks everything: no handler ever
    // runs on it, and it never takes a signal meant for the program.
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    std::thread([this] { Run(); }).detach();
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    started_ = true;
  }

  void Wake() {
    if (!wake_write_) return;
    const char byte = 1;
    ssize_t ignored = ::write(wake_write_.get(), &byte, 1);
    (void)ignored;
  }

  // waitid(WNOHANG) on one orphan: 0 (info.si_pid 0 while it runs) or -1.
  static int WaitOne(const Orphan& o, siginfo_t* info) {
    std::memset(info, 0, sizeof(*info));
    for (;;) {
      int r;
#if defined(__linux__)
      if (o.pidfd) {
        r = waitid(static_cast<idtype_t>(P_PIDFD),
                   static_cast<id_t>(o.pidfd.get()), info, WEXITED | WNOHANG);
      } else
#endif
      {
        r = waitid(P_PID, static_cast<id_t>(o.pid), info, WEXITED | WNOHANG);
      }
      if (r == 0 || errno != EINTR) return r;
    }
  }

  // Drops the orphans that have exited, reaping them.
  void ReapExited() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (size_t i = 0; i < orphans_.size();) {
      siginfo_t info;
      int r = WaitOne(orphans_[i], &info);
      // Reaped now, or by somebody else (ECHILD): either way not ours.
      if ((r == 0 && info.si_pid != 0) || (r < 0 && errno == ECHILD)) {
        orphans_[i] = std::move(orphans_.back());
        orphans_.pop_back();
        continue;
      }
      ++i;
    }
  }

  void Run() {
    std::vector<pollfd> fds;
    for (;;) {
      fds.clear();
      int timeout = -1;
      bool sigchld = false;
      {
        MutexLock lock(&mu_);
        ReapExited();
        if (wake_read_) fds.push_back(pollfd{wake_read_.get(), POLLIN, 0});
        for (const Orphan& o : orphans_) {
          if (o.pidfd) {
            fds.push_back(pollfd{o.pidfd.get(), POLLIN, 0});
          } else if (sigchld_ == nullptr) {
            timeout = kFallbackPollMs;
          }
        }
        if (sigchld_ != nullptr) {
          sigchld = true;
          SignalRegistry& registry = SignalRegistry::Get();
          bool waitable = false;
          for (int fd : {registry.signal_fd(), registry.pipe_fd()}) {
            if (fd >= 0) {
              fds.push_back(pollfd{fd, POLLIN, 0});
              waitable = true;
            }
          }
          // A registry with no fd to poll (native signals, kqueue builds:
          // drivers wait with kSignal operations, and this thread has no
          // backend) cannot wake the thread: look again now and then.
          if (!waitable && !orphans_.empty()) timeout = kFallbackPollMs;
        }
        if (!wake_read_) timeout = kFallbackPollMs;
      }
      // The fds stay open during the poll: only this thread removes
      // orphans (and closes their pidfds).
      int n = ::poll(fds.data(), fds.size(), timeout);
      if (n < 0 && errno != EINTR) {
        // Should not happen; do not spin if it does.
        ::poll(nullptr, 0, kFallbackPollMs);
      }
      if (wake_read_) {
        char buf[64];
        while (::read(wake_read_.get(), buf, sizeof(buf)) > 0) {
        }
      }
      if (sigchld) {
        // Hands SIGCHLD (and anything else that came) to every listener;
        // this one's count is not needed, the loop reaps what it can.
        SignalRegistry::Get().Drain();
        sigchld_->pending.store(0, std::memory_order_relaxed);
      }
    }
  }

  Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Orphan> orphans_ ABSL_GUARDED_BY(mu_);
  SignalListener* sigchld_ = nullptr;  // set once, under mu_; never freed
  UniqueFd wake_read_;                 // set once, under mu_, before the thread
  UniqueFd wake_write_;
};

}  // namespace

void AdoptOrphan(pid_t pid, UniqueFd pidfd) {
  Reaper::Get().Adopt(pid, std::move(pidfd));
}

size_t OrphansPending() { return Reaper::Get().Pending(); }

}  // namespace polyio::internal
