#include "runtime/signal/signal.h"

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/backend.h"
#include "backends/operation.h"
#include "backends/selected.h"

namespace polyio {

using internal::SignalRegistry;

Poll<absl::StatusOr<uint64_t>> SignalRecvFuture::Poll(Context& cx) {
  using Result = absl::StatusOr<uint64_t>;
  if (state_ == nullptr) {
    return Result(absl::FailedPreconditionError(
        "signal recv: the SignalStream was moved from"));
  }
  internal::SignalListener& listener = state_->listener;
  SignalRegistry& registry = SignalRegistry::Get();
  for (;;) {
    if (uint64_t n = listener.pending.exchange(0, std::memory_order_acq_rel)) {
      return Result(n);
    }
    // Cancelled: take nothing. A watch in flight stays with the stream.
    if (cx.cancelled()) {
      return Result(absl::CancelledError("signal recv: cancelled"));
    }
    // Registered before draining: a Drain on another thread that adds to
    // `pending` after the check below wakes this task.
    listener.waker.Register(cx.waker());
    registry.Drain();
    if (uint64_t n = listener.pending.exchange(0, std::memory_order_acq_rel)) {
      return Result(n);
    }
    if constexpr (BackendHasNativeSignals<Backend>) {
      // Nothing yet: wait for the signal's next delivery on this driver's
      // backend (kSignal), then drain again.
      switch (WaitNative(cx)) {
        case NativeWait::kPending:
          return kPending;
        case NativeWait::kAgain:
          continue;
        case NativeWait::kFailed: {
          char buf[16];
          return Result(absl::ErrnoToStatus(
              native_error_,
              absl::StrCat("signal recv: kevent EVFILT_SIGNAL ",
                           SignalRegistry::Name(listener.signo, buf))));
        }
      }
    }
    // Nothing yet: wait until one of the registry's fds is readable, then
    // drain again. Whoever drains first hands the delivery to this stream
    // too and wakes it through `listener.waker`.
    const int fds[2] = {registry.signal_fd(), registry.pipe_fd()};
    bool again = false;
    for (int i = 0; i < 2; ++i) {
      if (fds[i] < 0) continue;
      std::optional<IoFuture>& watch = state_->watches[i];
      if (!watch) {
        watch.emplace();
        Operation& op = watch->op();
        op.kind = OpKind::kPollFd;
        op.fd = fds[i];
        op.poll_events = kPollIn;
      }
      polyio::Poll<int32_t> ready = watch->PollResult(cx);
      if (ready.pending()) continue;
      const int32_t res = ready.value();
      watch.reset();
      // -ECANCELED: the driver it ran on shut down; start it again here.
      if (res < 0 && res != -ECANCELED) {
        return Result(absl::ErrnoToStatus(
            -res, absl::StrCat("signal recv: poll fd ", fds[i])));
      }
      again = true;
    }
    if (!again) return kPending;
  }
}

SignalRecvFuture::NativeWait SignalRecvFuture::WaitNative(Context& cx) {
  internal::SignalListener& listener = state_->listener;
  std::optional<IoFuture>& watch = state_->watches[0];
  if (!watch) {
    watch.emplace();
    Operation& op = watch->op();
    op.kind = OpKind::kSignal;
    op.fd = listener.signo;
  }
  polyio::Poll<int32_t> ready = watch->PollResult(cx);
  if (ready.pending()) {
    // The backend registered the wait when it took the operation (it does
    // so at once, backend.h): a delivery after that completes it. One that
    // came between the caller's drain and that moment is in the registry's
    // recorder: drain once more, so that it is not left waiting.
    SignalRegistry::Get().Drain();
    return listener.pending.load(std::memory_order_acquire) != 0
               ? NativeWait::kAgain
               : NativeWait::kPending;
  }
  const int32_t res = ready.value();
  watch.reset();
  // -ECANCELED: the driver it ran on shut down; start it again here.
  if (res < 0 && res != -ECANCELED) {
    native_error_ = -res;
    return NativeWait::kFailed;
  }
  return NativeWait::kAgain;
}

SignalStream& SignalStream::operator=(SignalStream&& other) noexcept {
  if (this != &other) {
    Reset();
    state_ = std::move(other.state_);
  }
  return *this;
}

SignalStream::~SignalStream() { Reset(); }

void SignalStream::Reset() {
  if (!state_) return;
  // Out of the registry first: no Drain touches the listener afterwards.
  // Then the watches end (a poll in flight is cancelled and waited for).
  SignalRegistry::Get().Remove(&state_->listener);
  state_.reset();
}

absl::StatusOr<SignalStream> Signal(int signo) {
  absl::Status valid = SignalRegistry::Validate(
      signo, absl::StrCat("Signal(", signo, ")").c_str());
  if (!valid.ok()) return valid;
  auto state = std::make_unique<internal::SignalStreamState>(signo);
  absl::Status added = SignalRegistry::Get().Add(&state->listener);
  if (!added.ok()) {
    char buf[16];
    return absl::Status(
        added.code(), absl::StrCat("Signal(", SignalRegistry::Name(signo, buf),
                                   "): ", added.message()));
  }
  return SignalStream(std::move(state));
}

absl::StatusOr<SignalStream> CtrlC() { return Signal(SIGINT); }

absl::Status BlockSignals(std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int signo : signals) {
    absl::Status valid = SignalRegistry::Validate(
        signo, absl::StrCat("BlockSignals(", signo, ")").c_str());
    if (!valid.ok()) return valid;
    sigaddset(&set, signo);
  }
  int err = pthread_sigmask(SIG_BLOCK, &set, nullptr);
  if (err != 0) return absl::ErrnoToStatus(err, "pthread_sigmask");
  return absl::OkStatus();
}

}  // namespace polyio
