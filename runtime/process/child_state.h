// ChildState: what a Child and its Wait futures share (internal).
//
// The pid, the way its exit is seen — a pidfd in an FdHandle (so that the
// driver that polled it forgets it before it is closed), or a SIGCHLD
// stream — and, once reaped, the exit status. Reaping and signalling happen
// under one lock: Kill never signals a pid that TryReap has freed, and
// never uses a pidfd after it was closed (the pidfd is closed only after
// the status is recorded, outside the lock, because forgetting it may wait
// for its driver's thread, which may be the one calling Kill).
//
// Also the pidfd primitives (Linux), and whether a spawn uses them:
// pidfd_open and waitid(P_PIDFD) (Linux 5.4) are tried once; either missing
// — or POLYIO_PROCESS_FORCE_SIGCHLD=1 in the environment, or
// ForceSigchldForTesting(true) — makes the spawns that follow use the
// SIGCHLD path. Each child keeps the path it was spawned with.
//
// Where the backend sees exits natively (backends/backend.h's
// kNativeProcExit: kqueue's EVFILT_PROC), a child spawned without the
// SIGCHLD path forced is waited for with a kProcExit operation instead
// (native_exit()); its pidfd, where the system has them, then serves only
// Kill and the reaper.
//
// Where the backend reaps in the kernel (backend.h's kNativeWaitId:
// io_uring's IORING_OP_WAITID), Wait hands the pidfd to a kWaitId operation
// and the status arrives with its completion (EndKernelWait). Until that
// result is recorded the kernel may already have reaped the child, so a
// waitid of our own (TryReap, from TryWait or a dropped Child) finds no
// child: with a kernel wait outstanding, that ECHILD means "not recorded
// yet" and TryReap reports the child as still running; Kill's ESRCH then
// means "waited for" (success, as after a Wait).
//
// Thread-safe.
#ifndef POLYIO_RUNTIME_PROCESS_CHILD_STATE_H_
#define POLYIO_RUNTIME_PROCESS_CHILD_STATE_H_

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/selected.h"
#include "platform/mutex.h"
#include "platform/ref_ptr.h"
#include "platform/unique_fd.h"
#include "runtime/io/fd_handle.h"
#include "runtime/process/exit_status.h"
#include "runtime/signal/signal.h"

namespace polyio::internal {

// True when a child spawned now is waited for through a pidfd.
bool UsePidfds();
// Whether the SIGCHLD path is forced (the environment or the call below).
bool SigchldForced();
// Tests: spawn with the SIGCHLD path from now on (true), or back to the
// default (false). Thread-safe; children already spawned keep theirs.
void ForceSigchldForTesting(bool force);
// pidfd_open(pid, 0): the fd (close-on-exec), or -1 with errno.
int PidfdOpen(pid_t pid);

class ChildState {
 public:
  // `pidfd` set: pidfd mode; else `sigchld` must be a SIGCHLD stream
  // created before the child was spawned.
  ChildState(pid_t pid, std::string program, bool kill_on_drop, UniqueFd pidfd,
             std::optional<SignalStream> sigchld);
  ChildState(const ChildState&) = delete;
  ChildState& operator=(const ChildState&) = delete;
  ~ChildState();

  pid_t pid() const { return pid_; }
  const std::string& program() const { return program_; }
  bool kill_on_drop() const { return kill_on_drop_; }
  // pidfd mode: the pidfd's handle (null in SIGCHLD mode).
  const RefPtr<FdHandle>& pidfd() const { return pidfd_; }
  // SIGCHLD mode: the stream Wait awaits.
  SignalStream* sigchld() { return sigchld_ ? &*sigchld_ : nullptr; }
  // Native mode (kqueue builds; see above): Wait awaits a kProcExit
  // operation on the pid. Every child spawned without a SIGCHLD stream.
  bool native_exit() const {
    return BackendHasNativeProcExit<Backend> && !sigchld_;
  }

  // The status if the child has exited (reaping it now if it was not yet),
  // nullopt while it runs. After Orphan(): FailedPrecondition.
  absl::StatusOr<std::optional<ExitStatus>> TryReap();
  // The status if it was reaped already.
  std::optional<ExitStatus> status();
  absl::Status Kill(int signo);
  // A kWaitId operation on the pidfd is about to be submitted (Begin), or
  // has ended with `res` (End, once per Begin, also when it was cancelled
  // or never reached the kernel): res 0 means the kernel reaped the child
  // and filled `*info`, whose status is recorded as TryReap would.
  void BeginKernelWait();
  void EndKernelWait(int32_t res, const siginfo_t* info);
  // The Child is gone: futures still alive fail from now on. Returns the
  // pidfd for the reaper (a copy, close-on-exec; invalid in SIGCHLD mode),
  // or nothing when the child was reaped already; closes the state's own.
  std::optional<UniqueFd> Orphan();

 private:
  void ClosePidfd();
  std::string Describe() const;  // "pid 123 (/bin/cat)"

  const pid_t pid_;
  const std::string program_;
  const bool kill_on_drop_;
  RefPtr<FdHandle> pidfd_;
  std::optional<SignalStream> sigchld_;
  Mutex mu_;
  std::optional<ExitStatus> status_ ABSL_GUARDED_BY(mu_);
  bool orphaned_ ABSL_GUARDED_BY(mu_) = false;
  int kernel_waits_ ABSL_GUARDED_BY(mu_) = 0;  // Begin minus End
};

// From waitid's siginfo of an exited child.
ExitStatus StatusFromSiginfo(const siginfo_t& info);

}  // namespace polyio::internal

#endif  // POLYIO_RUNTIME_PROCESS_CHILD_STATE_H_
