// Child: a running (or finished) child process made by Command::Spawn.
//
//   absl::StatusOr<Child> child = Command("/bin/sleep").Arg("10").Spawn();
//   absl::Status k = child->Kill(SIGTERM);
//   absl::StatusOr<ExitStatus> st = co_await child->Wait();  // killed by
//   SIGTERM
//
// - Wait() completes with the child's ExitStatus once it has exited, and
//   reaps it (no zombie is left). Waiting again returns the same status.
//   TryWait() asks without waiting: nullopt while it runs.
// - Kill(signo) sends a signal (default SIGKILL). On Linux it goes through
//   the child's pidfd, so it can never reach another process that got the
//   pid after the child was reaped; elsewhere kill(2) is used, and the pid
//   is only freed by Wait/TryWait under the same lock. Killing a child that
//   has been waited for is OK and does nothing (Rust std's choice).
// - TakeStdin/TakeStdout/TakeStderr: the parent's ends of the pipes made
//   for Stdio::Piped(), once each (nullopt otherwise). Closing stdin (or
//   dropping it) is how the child sees end of input.
// - WaitWithOutput(): closes stdin, reads stdout and stderr to their end
//   (concurrently, so a child filling one pipe never blocks on it), then
//   waits.
// - Destroying a Child that was not waited for: with KillOnDrop it is sent
//   SIGKILL; either way a process-wide reaper thread takes over and reaps
//   it when it exits, so no zombie outlives it (tokio's orphan queue does
//   the same job; docs/signals.md).
//
// How the exit is seen (docs/signals.md): on kqueue (macOS, the BSDs, and
// libkqueue on Linux) EVFILT_PROC NOTE_EXIT, a kProcExit operation on the
// pid, then waitid(P_PID, pid, WNOHANG). Elsewhere, on Linux 5.4+, a pidfd
// (pidfd_open right after the spawn): on io_uring with Linux 6.7+ one
// kWaitId operation (IORING_OP_WAITID) waits and reaps; otherwise — epoll,
// poll, older io_uring — it is waited for with kPollFd through the normal
// operation path and reaped with waitid(P_PIDFD). Without either (older
// kernels, or POLYIO_PROCESS_FORCE_SIGCHLD=1 for tests) a SIGCHLD stream
// (signal.h) wakes Wait, which reaps with waitid(WNOHANG) on its own pid only,
// so other children of the process are left alone. Code elsewhere in the
// process that reaps any child (wait(), waitpid(-1), SIGCHLD set to
// SIG_IGN) can take the status first: Wait then fails with ECHILD.
//
// Cancellation (docs/cancellation.md): Wait is cancel-safe — a cancelled
// Wait reaps nothing, or keeps the status it reaped in the Child for the
// next Wait (a kernel waitid that won the race with the cancel: the
// cancelled Wait then returns that status too). WaitWithOutput is not: the
// output read so far is lost.
//
// Threads and lifetime: Pid, Kill and TryWait are thread-safe and may race
// a Wait in another task; one Wait at a time. A Child may be moved; its
// futures share its state, but must not outlive it (they then fail with
// FailedPrecondition — or return the status, when a kernel waitid in flight
// reaped the child before the reaper could). A Child whose Wait was polled —
// like a stream — must be destroyed before that Runtime. Thread-compatible
// otherwise.
#ifndef POLYIO_RUNTIME_PROCESS_CHILD_H_
#define POLYIO_RUNTIME_PROCESS_CHILD_H_

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/selected.h"
#include "runtime/io/io_future.h"
#include "runtime/pipe/pipe.h"
#include "runtime/process/exit_status.h"
#include "runtime/task/context.h"
#include "runtime/task/poll.h"
#include "runtime/task/task.h"

namespace polyio {

class Command;

namespace internal {
class ChildState;
}  // namespace internal

// The parent's ends of the child's pipes (runtime/pipe/pipe.h).
using ChildStdin = PipeWriter;
using ChildStdout = PipeReader;
using ChildStderr = PipeReader;

// What Command::Output and Child::WaitWithOutput collect.
struct ProcessOutput {
  ExitStatus status = ExitStatus::Exited(0);
  std::string out;  // all the child wrote to stdout (if piped)
  std::string err;  // and to stderr
};

// Future of Child::Wait. Cancel-safe (above).
class ChildWaitFuture {
 public:
  explicit ChildWaitFuture(std::shared_ptr<internal::ChildState> state);
  ChildWaitFuture(ChildWaitFuture&&) = default;  // only before the first poll
  ~ChildWaitFuture();
  polyio::Poll<absl::StatusOr<ExitStatus>> Poll(Context& cx);

 private:
  static constexpr bool kKernelWaitId = BackendHasNativeWaitId<Backend>;
  struct Siginfo {
    siginfo_t* get() { return &info; }
    siginfo_t info{};
  };
  struct NoSiginfo {
    siginfo_t* get() { return nullptr; }
  };

  // kWaitId: hands the pidfd to the backend, which reaps into info_.
  void StartKernelWait();
  // Its result: recorded in the state; an error status when it says
  // something TryReap would not.
  absl::Status FinishKernelWait(int32_t res);

  std::shared_ptr<internal::ChildState> state_;
  // pidfd mode: waiting for the pidfd to be readable (the child exited), or
  // for the kernel to reap it (kWaitId).
  std::optional<IoFuture> exited_;
  // kWaitId's siginfo, kept here (the future does not move once polled)
  // while the kernel may write it; absent where the backend never takes
  // kWaitId.
  [[no_unique_address]] std::conditional_t<kKernelWaitId, Siginfo, NoSiginfo>
      info_;
  // This kernel refused kWaitId (-EOPNOTSUPP): poll the pidfd instead.
  bool waitid_refused_ = false;
  // A kWaitId ended without reaping (cancelled by someone else, ...): ask
  // waitid(WNOHANG) before waiting again.
  bool reap_next_ = false;
};

class Child {
 public:
  Child(Child&&) noexcept = default;
  Child& operator=(Child&& other) noexcept;
  ~Child();

  pid_t Pid() const;

  ChildWaitFuture Wait() { return ChildWaitFuture(state_); }
  absl::StatusOr<std::optional<ExitStatus>> TryWait();
  absl::Status Kill(int signo = SIGKILL);

  std::optional<ChildStdin> TakeStdin() { return Take(stdin_); }
  std::optional<ChildStdout> TakeStdout() { return Take(stdout_); }
  std::optional<ChildStderr> TakeStderr() { return Take(stderr_); }

  // The pipes the Child still holds go to the task, which needs no more of
  // the Child than its shared state.
  Task<absl::StatusOr<ProcessOutput>> WaitWithOutput();

 private:
  friend class Command;
  Child(std::shared_ptr<internal::ChildState> state,
        std::optional<ChildStdin> in, std::optional<ChildStdout> out,
        std::optional<ChildStderr> err);
  template <class T>
  static std::optional<T> Take(std::optional<T>& slot) {
    std::optional<T> taken = std::move(slot);
    slot.reset();
    return taken;
  }
  void Release();

  std::shared_ptr<internal::ChildState> state_;
  std::optional<ChildStdin> stdin_;
  std::optional<ChildStdout> stdout_;
  std::optional<ChildStderr> stderr_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_PROCESS_CHILD_H_
