// Signals as streams of deliveries, awaited with co_await.
//
//   absl::StatusOr<SignalStream> term = Signal(SIGTERM);
//   if (!term.ok()) return term.status();      // InvalidArgument for SIGKILL
//   absl::StatusOr<uint64_t> n = co_await term->Recv();
//
//   absl::StatusOr<SignalStream> interrupt = CtrlC();  // Signal(SIGINT)
//
// Contract:
// - Signal(signo) listens for any catchable signal. Each SignalStream sees
//   every delivery made after it was created: several streams of one
//   signal — in one runtime or in several runtimes of the process — each
//   see each delivery. Deliveries that come while nobody awaits Recv are
//   kept in the stream and returned by the next Recv: none is lost between
//   two awaits.
// - Recv() completes with the number of deliveries since the previous Recv
//   (at least 1). The system coalesces a signal raised again while it is
//   still pending (a standard signal is one bit until it is delivered), so
//   a burst of N raises gives between 1 and N deliveries, never 0.
// - Invalid signal numbers (0, 65), uncatchable ones (SIGKILL, SIGSTOP),
//   fault signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE) and the real-time
//   signals the C library reserves are InvalidArgument, with the number and
//   name in the message.
//
// What it does to the process (docs/signals.md has the why; this list is
// the portable path, epoll/poll/io_uring; kqueue's is under "Per backend"):
// - While at least one stream of a signal exists, polyio's handler is that
//   signal's disposition: the default action (terminating, for SIGTERM and
//   SIGINT) does not happen. A handler installed earlier by other code is
//   saved and still called, just before polyio counts the delivery
//   (chained, as tokio's signal-hook does); SIG_IGN and SIG_DFL are not. When
//   the last stream of a signal is destroyed, the saved disposition comes
//   back (libuv and asyncio restore too, where tokio never does).
// - polyio never changes a thread's signal mask. A signal that the thread
//   creating its first stream does not block (the usual case) goes through
//   the handler and a self-pipe, on whichever thread the kernel picks. On
//   Linux, a signal that thread blocks is taken from a signalfd instead,
//   and no code runs in signal context: BlockSignals() at the start of
//   main, before any thread starts (threads inherit the mask), chooses that
//   path for a program that wants it. The chained handler then does not
//   run, as a blocked signal runs no handler. Threads that do not block it
//   meanwhile still run the handler; no delivery is lost either way.
// - Thread-directed signals (raise(), pthread_kill) are seen when the
//   target thread does not block them; a signal pending on a thread that
//   blocks it is that thread's (signalfd reads only the reading thread's).
//   Send process-directed signals (kill(getpid(), sig)) to be sure.
//
// Per backend: on epoll, poll and io_uring the deliveries are waited for
// with kPollFd, through the normal operation path, on the signalfd (Linux)
// and the self-pipe. On kqueue (backends/backend.h's kNativeSignals) the
// kernel records them with EVFILT_SIGNAL in a process-wide recorder, and a
// Recv waits with a kSignal operation on its driver; no handler is
// installed then: the first stream of a signal whose default action would
// end or stop the process sets it to SIG_IGN (still recorded), the last one
// puts SIG_DFL back, and a handler other code installed stays and runs.
// docs/signals.md has the details and what libkqueue (Linux) cannot do.
//
// Cancellation (docs/cancellation.md): Recv is cancel-safe. A cancelled
// Recv takes nothing: a delivery that arrived meanwhile stays in the
// stream for the next Recv.
//
// Threads and lifetime: a SignalStream may be used from any task of any
// runtime and may outlive the runtime it was awaited on; one Recv at a
// time per stream, and a Recv future must not outlive its stream
// (thread-compatible). Move-only. fork() without exec
// gives the child the registry's fds: do not use polyio's signals there.
#ifndef POLYIO_RUNTIME_SIGNAL_SIGNAL_H_
#define POLYIO_RUNTIME_SIGNAL_SIGNAL_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/io/io_future.h"
#include "runtime/signal/signal_registry.h"
#include "runtime/task/context.h"
#include "runtime/task/poll.h"

namespace polyio {

namespace internal {

// A stream's state: its listener, and the two polls that wait for the
// registry's fds on behalf of its Recv. Heap-allocated (the registry links
// it, the backend holds its operations), so the stream can move.
struct SignalStreamState {
  explicit SignalStreamState(int signo) : listener(signo) {}
  SignalListener listener;
  // [0]: the signalfd, [1]: the self-pipe; with native signals (kqueue
  // builds), [0] alone: a kSignal operation. Each is started on the driver
  // of the task that polls Recv, and stays in flight between Recvs.
  std::optional<IoFuture> watches[2];
};

}  // namespace internal

// Future of SignalStream::Recv. Cancel-safe (above).
class SignalRecvFuture {
 public:
  explicit SignalRecvFuture(internal::SignalStreamState* state)
      : state_(state) {}
  polyio::Poll<absl::StatusOr<uint64_t>> Poll(Context& cx);

 private:
  // Native signals (kqueue builds): one wait for the next delivery.
  enum class NativeWait { kPending, kAgain, kFailed };
  NativeWait WaitNative(Context& cx);

  internal::SignalStreamState* state_;
  int native_error_ = 0;  // errno of a kFailed wait
};

class SignalStream {
 public:
  SignalStream(SignalStream&&) noexcept = default;
  SignalStream& operator=(SignalStream&& other) noexcept;
  ~SignalStream();

  // The next delivery (or deliveries, coalesced) of the signal.
  SignalRecvFuture Recv() { return SignalRecvFuture(state_.get()); }

  int signo() const { return state_ ? state_->listener.signo : 0; }

 private:
  friend absl::StatusOr<SignalStream> Signal(int signo);
  explicit SignalStream(std::unique_ptr<internal::SignalStreamState> state)
      : state_(std::move(state)) {}
  void Reset();

  std::unique_ptr<internal::SignalStreamState> state_;
};

// A stream of `signo`'s deliveries from now on.
absl::StatusOr<SignalStream> Signal(int signo);

// Signal(SIGINT): what Ctrl-C in a terminal sends.
absl::StatusOr<SignalStream> CtrlC();

// Blocks `signals` in the calling thread (pthread_sigmask), after checking
// each as Signal() does. Called at the start of main, before any thread is
// created, it makes every thread block them (threads inherit the mask), so
// that on Linux their deliveries go through the signalfd and never run a
// handler. A thread created earlier still has them unblocked; nothing is
// lost then either (the handler takes those), it only takes the other path.
// Children spawned through polyio's Command start with an empty mask.
absl::Status BlockSignals(std::initializer_list<int> signals);

}  // namespace polyio

#endif  // POLYIO_RUNTIME_SIGNAL_SIGNAL_H_
