// The Backend contract: what every OS mechanism under polyio provides.
//
// A backend turns Operations (backends/operation.h) into completions. The
// readiness backends (epoll, poll, kqueue) emulate completion: they try the
// syscall at once, park the operation on its fd when the kernel says EAGAIN,
// and retry when the fd becomes ready. The completion backend (io_uring)
// hands the operation to the kernel as is. Above this line nobody can tell
// which one runs, except by speed.
//
// Members every backend has (checked by the `BackendContract` concept):
//
//   static absl::StatusOr<std::unique_ptr<B>> Create(const BackendOptions&)
//       Builds the backend, or says why it cannot run on this host.
//
//   bool Submit(Operation* op)
//       Starts `op`. Returns true when it finished inline: `op->res` is set
//       and `on_complete` will NOT be called (the fast path of readiness
//       backends, whose first try often succeeds). Returns false when the
//       operation is in flight: `on_complete` runs exactly once, later, from
//       inside Wait(). Never blocks. An operation on a negative fd finishes
//       inline with -EBADF.
//
//   void Cancel(Operation* op)
//       Asks for `op` to finish early. It still completes exactly once,
//       through `on_complete` from a later Wait(), with -ECANCELED or with
//       its real result if that won the race. Cancelling an operation that
//       already completed, or was never submitted, is a no-op. Never
//       completes anything inline, so callers may cancel from anywhere.
//
//   void Forget(int fd)
//       The caller is about to close `fd`: every operation pending on it
//       completes (from a later Wait) with -ECANCELED, and the backend drops
//       what it knows of the fd. An fd used with a backend must be forgotten
//       before it is closed, because the number will be reused.
//
//   int Wait(int64_t timeout_ns)
//       Blocks until at least one completion is ready, `timeout_ns` passes
//       (-1: no limit, 0: do not block), or Wake() is called; then delivers
//       the ready completions and returns how many. The only place a backend
//       blocks. Not reentrant: `on_complete` must not call Wait().
//
//   void Wake()
//       Thread-safe and async-signal-safe: makes a blocked (or the next) Wait
//       return promptly.
//
//   void CancelAll()
//       Cancel() for every operation in flight; used when a driver shuts
//       down, which then calls Wait(0) until InFlight() is zero.
//
//   size_t InFlight() const
//       Operations submitted and not yet delivered.
//
//   bool HasReady() const
//       Whether the backend already holds completions that the next Wait
//       delivers whatever its timeout, without the kernel reporting anything
//       new (results a Cancel or Forget queued, CQEs taken off the ring, a
//       fault layer's held completions). The driver asks before it counts
//       itself idle while time is paused (runtime/time/pause.h): the clock
//       may jump only when no completion is waiting, and a Wait(0) need not
//       deliver everything a backend holds (the fault layer holds some back
//       for a few turns). Answers from state, never a system call.
//
//   std::string_view Name() const;  CompletionModel Model() const
//       What runs underneath, for logs and tests.
//
//   bool NativeFileIo() const
//       Whether positioned file operations (kPread, kPwrite, kFsync) should
//       be submitted to this backend. A backend whose answer is fixed makes
//       it `static constexpr`, so that runtime/fs chooses its path at compile
//       time; only `auto` answers per instance (one branch). When false, the
//       runtime never submits file kinds here: it runs them on the blocking
//       pool (runtime/blocking), because a readiness mechanism cannot tell
//       when a disk read would block, and a blocking read inside Wait's
//       thread would stall every task of the driver.
//       A backend whose answer is true also takes the path kinds
//       (operation.h: kOpenAt, kStatx, kRenameAt, kUnlinkAt, kMkdirAt),
//       for the same reason: the kernel runs them where they may block.
//       It completes a kind the kernel lacks inline with -EOPNOTSUPP, and
//       runtime/fs then uses the blocking pool. Backends whose answer is
//       false complete every path kind inline with -EOPNOTSUPP.
//
// Optional capabilities, as static constexpr members (absent means false;
// ask through BackendHasNativeSignals / BackendHasNativeProcExit /
// BackendHasNativeWaitId below, so that the runtime chooses its path with
// `if constexpr`, at no cost to backends without them):
//
//   static constexpr bool kNativeSignals
//       Submit takes OpKind::kSignal (fd: a signal number), completing it
//       when the kernel records a delivery of that signal to the process
//       after the submission. The backend also names, as
//       `SignalRecorder`, a process-wide recorder of deliveries that the
//       signal registry keeps (runtime/signal/signal_registry.h): the
//       counting happens there, the operation is only the wake-up. kqueue
//       (EVFILT_SIGNAL) has both.
//   static constexpr bool kNativeProcExit
//       Submit takes OpKind::kProcExit (fd: the pid of a child of this
//       process), completing it with 0 once the child has exited (at once
//       if it has exited already); the caller reaps it. kqueue (EVFILT_PROC
//       NOTE_EXIT) has it.
//   static constexpr bool kNativeWaitId
//       Submit takes OpKind::kWaitId (fd: a pidfd of a child of this
//       process, buf: a siginfo_t), completing it with 0 once the kernel
//       has reaped the child and filled the siginfo. A backend whose kernel
//       turns out to lack it (decided at creation) still completes it
//       inline with -EOPNOTSUPP, and the caller falls back to polling the
//       pidfd. io_uring (IORING_OP_WAITID, Linux 6.7) has it, and so do the
//       wrappers that may run io_uring (auto, the fault layer's choice).
//
// Other backends complete those kinds inline with -EOPNOTSUPP.
//
// Thread-safety: thread-hostile except Wake(). One driver thread owns a
// backend and makes every other call.
//
// Invariants (the conformance suite checks them on every backend):
// 1. Every submitted operation completes exactly once, also when it is
//    cancelled, its fd is forgotten, or the backend shuts down. Data left
//    after a partial read is reported again, whatever the edge or level
//    semantics underneath.
// 2. An operation and its buffers belong to the backend from Submit until
//    completion (operation.h).
// 3. No allocation per operation on the hot path.
// 4. Results are `res`: bytes or -errno. EAGAIN and EINTR never escape.
#ifndef POLYIO_BACKENDS_BACKEND_H_
#define POLYIO_BACKENDS_BACKEND_H_

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "backends/operation.h"

namespace polyio {

enum class CompletionModel { kReadiness, kCompletion };

// Options for creating a backend. Each backend reads the ones that concern it
// and ignores the rest, so one Runtime option struct serves every build.
struct BackendOptions {
  // io_uring: submission queue entries (the completion queue is twice that).
  uint32_t ring_entries = 256;
  // io_uring: a kernel thread polls the submission queue (SQPOLL).
  bool sqpoll = false;
  uint32_t sqpoll_idle_ms = 1000;
  // io_uring: set up the ring with COOP_TASKRUN, TASKRUN_FLAG and
  // SUBMIT_ALL where the kernel takes them, and probe the features the data
  // path does not use yet (provided-buffer rings, registered files,
  // multishot; see IoUringFeatures), and wait for children with
  // IORING_OP_WAITID where the kernel has it. false: a plain ring, nothing
  // probed, children waited for by polling their pidfds.
  bool modern_features = true;
  // Readiness backends: events fetched per wait.
  uint32_t max_events = 256;
};

template <class B>
concept BackendContract = requires(B& b, const B& cb, Operation* op, int fd,
                                   int64_t timeout_ns,
                                   const BackendOptions& options) {
  { B::Create(options) } -> std::same_as<absl::StatusOr<std::unique_ptr<B>>>;
  { b.Submit(op) } -> std::same_as<bool>;
  { b.Cancel(op) } -> std::same_as<void>;
  { b.Forget(fd) } -> std::same_as<void>;
  { b.Wait(timeout_ns) } -> std::same_as<int>;
  { b.Wake() } -> std::same_as<void>;
  { b.CancelAll() } -> std::same_as<void>;
  { cb.InFlight() } -> std::same_as<size_t>;
  { cb.HasReady() } -> std::same_as<bool>;
  { cb.Name() } -> std::convertible_to<std::string_view>;
  { cb.Model() } -> std::same_as<CompletionModel>;
  { cb.NativeFileIo() } -> std::same_as<bool>;
};

// The optional capabilities above: false for a backend without the member.
template <class B>
concept BackendHasNativeSignals = requires {
  requires B::kNativeSignals;
  typename B::SignalRecorder;
};
template <class B>
concept BackendHasNativeProcExit = requires {
  requires B::kNativeProcExit;
};
template <class B>
concept BackendHasNativeWaitId = requires {
  requires B::kNativeWaitId;
};

// Bases that give a wrapper (the readiness template over its poller, the
// fault layer over its inner backend) exactly the capabilities of `B`.
template <class B>
struct NativeSignalsOf {};
template <BackendHasNativeSignals B>
struct NativeSignalsOf<B> {
  static constexpr bool kNativeSignals = true;
  using SignalRecorder = typename B::SignalRecorder;
};
template <class B>
struct NativeProcExitOf {};
template <BackendHasNativeProcExit B>
struct NativeProcExitOf<B> {
  static constexpr bool kNativeProcExit = true;
};
template <class B>
struct NativeWaitIdOf {};
template <BackendHasNativeWaitId B>
struct NativeWaitIdOf<B> {
  static constexpr bool kNativeWaitId = true;
};

}  // namespace polyio

#endif  // POLYIO_BACKENDS_BACKEND_H_
