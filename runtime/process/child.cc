#include "runtime/process/child.h"

#include <cerrno>
#include <cstring>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backends/backend.h"
#include "backends/operation.h"
#include "backends/selected.h"
#include "runtime/compose/when_all.h"
#include "runtime/process/child_state.h"
#include "runtime/process/reaper.h"

namespace polyio {
namespace {

absl::Status MovedFrom(const char* op) {
  return absl::FailedPreconditionError(
      absl::StrCat(op, ": the Child was moved from"));
}

// Everything `reader` gives until end of data ("" without a reader).
Task<absl::StatusOr<std::string>> ReadToEnd(PipeReader* reader) {
  std::string all;
  if (reader == nullptr) co_return all;
  std::vector<char> buf(64 * 1024);
  for (;;) {
    absl::StatusOr<size_t> n = co_await reader->Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return all;
    all.append(buf.data(), *n);
  }
}

Task<absl::StatusOr<ProcessOutput>> CollectOutput(
    std::shared_ptr<internal::ChildState> state, std::optional<ChildStdin> in,
    std::optional<ChildStdout> out, std::optional<ChildStderr> err) {
  // End of input first: a child that reads stdin to its end (cat) would
  // otherwise never finish.
  in.reset();
  std::tuple<absl::StatusOr<std::string>, absl::StatusOr<std::string>> got =
      co_await WhenAll(ReadToEnd(out ? &*out : nullptr),
                       ReadToEnd(err ? &*err : nullptr));
  // Closed before waiting: a child still writing after a read failed gets
  // EPIPE instead of blocking forever.
  out.reset();
  err.reset();
  absl::StatusOr<ExitStatus> status = co_await ChildWaitFuture(state);
  if (!status.ok()) co_return status.status();
  if (!std::get<0>(got).ok()) co_return std::get<0>(got).status();
  if (!std::get<1>(got).ok()) co_return std::get<1>(got).status();
  ProcessOutput output;
  output.status = *status;
  output.out = std::move(*std::get<0>(got));
  output.err = std::move(*std::get<1>(got));
  co_return output;
}

}  // namespace

ChildWaitFuture::ChildWaitFuture(std::shared_ptr<internal::ChildState> state)
    : state_(std::move(state)) {}

ChildWaitFuture::~ChildWaitFuture() {
  if constexpr (kKernelWaitId) {
    // A kernel waitid may reap the child before the cancel reaches it: its
    // result must reach the state, or the status would be lost and the
    // next Wait (or the reaper) would find no child.
    if (exited_ && exited_->op().kind == OpKind::kWaitId) {
      state_->EndKernelWait(exited_->Abandon(), info_.get());
    }
  }
}

void ChildWaitFuture::StartKernelWait() {
  const RefPtr<FdHandle>& pidfd = state_->pidfd();
  exited_.emplace();
  exited_->set_driver(pidfd->home());
  exited_->set_fd_source(pidfd->fd_source());
  siginfo_t* info = info_.get();
  if (info != nullptr) std::memset(info, 0, sizeof(*info));
  exited_->op().kind = OpKind::kWaitId;
  exited_->op().buf = info;
  state_->BeginKernelWait();
}

absl::Status ChildWaitFuture::FinishKernelWait(int32_t res) {
  state_->EndKernelWait(res, info_.get());
  switch (-res) {
    case 0:  // reaped: the status is in the state
      return absl::OkStatus();
    case EOPNOTSUPP:  // a kernel before 6.7, or epoll under auto
      waitid_refused_ = true;
      return absl::OkStatus();
    // Cancelled (by this task, or by a Forget of a reused fd number), the
    // pidfd closed under it (a TryWait reaped the child), or the child
    // reaped elsewhere: waitid(WNOHANG) tells which.
    case ECANCELED:
    case EBADF:
    case ECHILD:
      reap_next_ = true;
      return absl::OkStatus();
    default:
      return absl::ErrnoToStatus(
          -res, absl::StrCat("wait pid ", state_->pid(), ": io_uring waitid"));
  }
}

Poll<absl::StatusOr<ExitStatus>> ChildWaitFuture::Poll(Context& cx) {
  using Result = absl::StatusOr<ExitStatus>;
  if (!state_) return Result(MovedFrom("wait"));
  for (;;) {
    if (std::optional<ExitStatus> done = state_->status()) return Result(*done);
    if constexpr (kKernelWaitId) {
      // Polled even when the task is cancelled (the IoFuture then cancels
      // it): the kernel may have reaped the child already, and only the
      // completion says so.
      if (exited_ && exited_->op().kind == OpKind::kWaitId) {
        polyio::Poll<int32_t> reaped = exited_->PollResult(cx);
        if (reaped.pending()) return kPending;
        exited_.reset();
        absl::Status s = FinishKernelWait(reaped.value());
        if (!s.ok()) return Result(std::move(s));
        continue;
      }
    }
    // Cancelled: nothing reaped (a poll of the pidfd in flight ends with
    // this future).
    if (cx.cancelled()) {
      return Result(absl::CancelledError(
          absl::StrCat("wait pid ", state_->pid(), ": cancelled")));
    }
    if (exited_) {
      polyio::Poll<int32_t> ready = exited_->PollResult(cx);
      if (ready.pending()) return kPending;
      const int32_t res = ready.value();
      exited_.reset();
      // -EBADF, -ECANCELED: the pidfd was closed under the poll, by a
      // TryWait that reaped the child (or the driver shut down); the status
      // says so below.
      if (res < 0 && res != -EBADF && res != -ECANCELED) {
        return Result(absl::ErrnoToStatus(
            -res, absl::StrCat("wait pid ", state_->pid(),
                               state_->native_exit() ? ": kevent EVFILT_PROC"
                                                     : ": poll pidfd")));
      }
    }
    // The kernel wait looks first: no waitid(WNOHANG) before it, unless the
    // last one ended without reaping.
    const bool kernel_wait =
        kKernelWaitId && !waitid_refused_ && static_cast<bool>(state_->pidfd());
    if (!kernel_wait || reap_next_) {
      reap_next_ = false;
      absl::StatusOr<std::optional<ExitStatus>> reaped = state_->TryReap();
      if (!reaped.ok()) return Result(reaped.status());
      if (reaped->has_value()) return Result(**reaped);
    }
    if (kernel_wait) {
      StartKernelWait();
      continue;
    }
    if constexpr (BackendHasNativeProcExit<Backend>) {
      if (state_->native_exit()) {
        // Completes once the child has exited (at once if it has already);
        // then the loop reaps it.
        exited_.emplace();
        Operation& op = exited_->op();
        op.kind = OpKind::kProcExit;
        op.fd = state_->pid();
        continue;
      }
    }
    if (const RefPtr<FdHandle>& pidfd = state_->pidfd()) {
      // Readable once the child has exited.
      exited_.emplace();
      exited_->set_driver(pidfd->home());
      exited_->set_fd_source(pidfd->fd_source());
      Operation& op = exited_->op();
      op.kind = OpKind::kPollFd;
      op.poll_events = kPollIn;
      continue;
    }
    // SIGCHLD mode: any child's exit (or stop) wakes us; reap ours if it
    // was the one.
    polyio::Poll<absl::StatusOr<uint64_t>> sigchld =
        state_->sigchld()->Recv().Poll(cx);
    if (sigchld.pending()) return kPending;
    if (!sigchld.value().ok()) return Result(sigchld.value().status());
  }
}

Child::Child(std::shared_ptr<internal::ChildState> state,
             std::optional<ChildStdin> in, std::optional<ChildStdout> out,
             std::optional<ChildStderr> err)
    : state_(std::move(state)),
      stdin_(std::move(in)),
      stdout_(std::move(out)),
      stderr_(std::move(err)) {}

Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    Release();
    state_ = std::move(other.state_);
    stdin_ = std::move(other.stdin_);
    stdout_ = std::move(other.stdout_);
    stderr_ = std::move(other.stderr_);
    other.stdin_.reset();
    other.stdout_.reset();
    other.stderr_.reset();
  }
  return *this;
}

Child::~Child() { Release(); }

void Child::Release() {
  // Our pipe ends first: a child blocked on them sees end of input or EPIPE.
  stdin_.reset();
  stdout_.reset();
  stderr_.reset();
  if (!state_) return;
  std::shared_ptr<internal::ChildState> state = std::move(state_);
  if (state->status()) return;  // waited for
  if (state->kill_on_drop()) state->Kill(SIGKILL).IgnoreError();
  absl::StatusOr<std::optional<ExitStatus>> reaped = state->TryReap();
  // Reaped now; or an error (somebody else reaped it: ECHILD).
  if (!reaped.ok() || reaped->has_value()) return;
  std::optional<UniqueFd> pidfd = state->Orphan();
  if (pidfd) internal::AdoptOrphan(state->pid(), std::move(*pidfd));
}

pid_t Child::Pid() const { return state_ ? state_->pid() : -1; }

absl::StatusOr<std::optional<ExitStatus>> Child::TryWait() {
  if (!state_) return MovedFrom("try wait");
  return state_->TryReap();
}

absl::Status Child::Kill(int signo) {
  if (!state_) return MovedFrom("kill");
  return state_->Kill(signo);
}

Task<absl::StatusOr<ProcessOutput>> Child::WaitWithOutput() {
  return CollectOutput(state_, Take(stdin_), Take(stdout_), Take(stderr_));
}

}  // namespace polyio
