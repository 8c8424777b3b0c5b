#include "runtime/process/child_state.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/signal/signal_registry.h"

#if defined(__linux__)
#include <sys/syscall.h>
#endif

// waitid's idtype for a pidfd (Linux 5.4); older C libraries lack the name.
#if defined(__linux__) && !defined(P_PIDFD)
#define P_PIDFD 3
#endif

namespace polyio::internal {
namespace {

int WaitidPidfd([[maybe_unused]] int pidfd, [[maybe_unused]] siginfo_t* info,
                [[maybe_unused]] int options) {
#if defined(__linux__)
  return waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), info,
                options);
#else
  errno = ENOSYS;
  return -1;
#endif
}

int PidfdSendSignal([[maybe_unused]] int pidfd, [[maybe_unused]] int signo) {
#if defined(__linux__) && defined(SYS_pidfd_send_signal)
  return static_cast<int>(
      syscall(SYS_pidfd_send_signal, pidfd, signo, nullptr, 0));
#else
  errno = ENOSYS;
  return -1;
#endif
}

bool ForcedByEnvironment() {
  const char* force = std::getenv("POLYIO_PROCESS_FORCE_SIGCHLD");
  return force != nullptr && std::string_view(force) == "1";
}

bool DetectPidfds() {
  if (ForcedByEnvironment()) return false;
  int fd = PidfdOpen(getpid());
  if (fd < 0) return false;
  siginfo_t info;
  std::memset(&info, 0, sizeof(info));
  int r = WaitidPidfd(fd, &info, WEXITED | WNOHANG);
  int err = errno;
  ::close(fd);
  // The process is not its own child: ECHILD says P_PIDFD is understood
  // (a kernel without it says EINVAL).
  return r == 0 || err == ECHILD;
}

std::atomic<bool> g_force_sigchld{false};

}  // namespace

bool UsePidfds() {
  static const bool available = DetectPidfds();
  return available && !g_force_sigchld.load(std::memory_order_acquire);
}

bool SigchldForced() {
  static const bool by_environment = ForcedByEnvironment();
  return by_environment || g_force_sigchld.load(std::memory_order_acquire);
}

void ForceSigchldForTesting(bool force) {
  g_force_sigchld.store(force, std::memory_order_release);
}

int PidfdOpen([[maybe_unused]] pid_t pid) {
#if defined(__linux__) && defined(SYS_pidfd_open)
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  errno = ENOSYS;
  return -1;
#endif
}

ExitStatus StatusFromSiginfo(const siginfo_t& info) {
  switch (info.si_code) {
    case CLD_EXITED:
      return ExitStatus::Exited(info.si_status);
    case CLD_DUMPED:
      return ExitStatus::Killed(info.si_status, /*core_dumped=*/true);
    default:
      return ExitStatus::Killed(info.si_status);
  }
}

ChildState::ChildState(pid_t pid, std::string program, bool kill_on_drop,
                       UniqueFd pidfd, std::optional<SignalStream> sigchld)
    : pid_(pid),
      program_(std::move(program)),
      kill_on_drop_(kill_on_drop),
      sigchld_(std::move(sigchld)) {
  if (pidfd) pidfd_ = FdHandle::Make(std::move(pidfd), nullptr, "Child");
}

ChildState::~ChildState() { ClosePidfd(); }

std::string ChildState::Describe() const {
  return absl::StrCat("pid ", pid_, " (", program_, ")");
}

void ChildState::ClosePidfd() {
  if (pidfd_) pidfd_->Close().IgnoreError();
}

absl::StatusOr<std::optional<ExitStatus>> ChildState::TryReap() {
  using Result = absl::StatusOr<std::optional<ExitStatus>>;
  std::optional<ExitStatus> reaped;
  {
    MutexLock lock(&mu_);
    if (status_) return Result(status_);
    if (orphaned_) {
      return Result(absl::FailedPreconditionError(
          absl::StrCat("wait ", Describe(), ": the Child was destroyed")));
    }
    siginfo_t info;
    std::memset(&info, 0, sizeof(info));
    int r;
    do {
      // Only this child, never "any child": other code's children are
      // theirs to reap.
      r = pidfd_ ? WaitidPidfd(pidfd_->fd(), &info, WEXITED | WNOHANG)
                 : waitid(P_PID, static_cast<id_t>(pid_), &info,
                          WEXITED | WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
      // A kernel wait in flight reaped it; its completion records the
      // status (see the header).
      if (errno == ECHILD && kernel_waits_ > 0) return Result(std::nullopt);
      return Result(
          absl::ErrnoToStatus(errno, absl::StrCat("wait ", Describe())));
    }
    if (info.si_pid == 0) return Result(std::nullopt);  // still running
    status_ = StatusFromSiginfo(info);
    reaped = status_;
  }
  // Outside the lock (see the header): Kill sees the status and no longer
  // needs the pidfd.
  ClosePidfd();
  return Result(reaped);
}

void ChildState::BeginKernelWait() {
  MutexLock lock(&mu_);
  ++kernel_waits_;
}

void ChildState::EndKernelWait(int32_t res, const siginfo_t* info) {
  bool reaped = false;
  {
    MutexLock lock(&mu_);
    --kernel_waits_;
    if (res == 0 && info != nullptr && !status_) {
      status_ = StatusFromSiginfo(*info);
      reaped = true;
    }
  }
  // As in TryReap: outside the lock.
  if (reaped) ClosePidfd();
}

std::optional<ExitStatus> ChildState::status() {
  MutexLock lock(&mu_);
  return status_;
}

absl::Status ChildState::Kill(int signo) {
  char buf[16];
  if (signo < 0 || signo >= kSignalLimit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kill ", Describe(), ": ", signo, " is not a signal number"));
  }
  MutexLock lock(&mu_);
  // Reaped: nothing runs under that pid any more that is ours to signal.
  if (status_ || orphaned_) return absl::OkStatus();
  int r = pidfd_ ? PidfdSendSignal(pidfd_->fd(), signo) : ::kill(pid_, signo);
  // Reaped by a kernel wait whose completion is not recorded yet: as
  // above, waited for.
  if (r < 0 && errno == ESRCH && kernel_waits_ > 0) return absl::OkStatus();
  if (r < 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat(
                   "kill ", Describe(), " with ",
                   signo == 0 ? "signal 0" : SignalRegistry::Name(signo, buf)));
  }
  return absl::OkStatus();
}

std::optional<UniqueFd> ChildState::Orphan() {
  std::optional<UniqueFd> handed;
  {
    MutexLock lock(&mu_);
    orphaned_ = true;
    if (!status_) {
      UniqueFd copy;
      if (pidfd_ && pidfd_->fd() >= 0) {
        copy.Reset(fcntl(pidfd_->fd(), F_DUPFD_CLOEXEC, 0));
      }
      handed = std::move(copy);
    }
  }
  ClosePidfd();
  return handed;
}

}  // namespace polyio::internal
