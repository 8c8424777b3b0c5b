// SignalRegistry: the one process-wide path of signal deliveries (internal;
// users see signal.h).
//
// Every listener of every runtime in the process registers here. Deliveries
// reach the registry two ways, and both end in the same place:
//
// - signalfd (Linux): the registry's one signalfd has in its mask each
//   signal with listeners that the thread creating its first listener
//   blocks — the setup of a program that blocked it at the start of main,
//   before any thread (BlockSignals), so that every thread blocks it. The
//   kernel keeps such a signal pending for the process and a read of the
//   signalfd dequeues it: no code runs in signal context.
// - A handler (every system): while a signal has listeners, the registry's
//   handler is its disposition. It runs when the kernel delivers the signal
//   to a thread that does not block it — the usual case, since polyio never
//   changes a thread's signal mask — and does only async-signal-safe work:
//   it calls the handler that was installed before (chaining), if that was
//   a function, then counts the delivery in a per-signal atomic and writes
//   one byte to the registry's self-pipe.
//   A signal that the creating thread does not block stays out of the
//   signalfd's mask: a signalfd read dequeues a pending signal even while
//   the kernel is about to run a thread's handler for it, and would then
//   take deliveries from under the handler (and from the chained one).
//
// - kqueue builds (backends/backend.h's kNativeSignals) use neither: the
//   backend's SignalRecorder, a kqueue of the registry's own with an
//   EVFILT_SIGNAL knote per signal with listeners, counts every delivery
//   to the process, and no handler is installed. The first listener of a
//   signal whose default action would end or stop the process sets SIG_IGN
//   (still recorded); the last one puts SIG_DFL back if SIG_IGN is still
//   there. Other dispositions are left alone. Drivers wait with kSignal
//   operations (signal.cc), so signal_fd() and pipe_fd() stay -1.
//
// Drain() empties both (a non-blocking read of the signalfd, a read of the
// pipe, then an exchange of each counter: in that order, so that a delivery
// whose byte was drained is never missed; kqueue builds: the recorder's
// counts) and adds what it found to every
// listener of each signal, waking the Recv that waits on it. Any thread may
// drain; the first to do so after a delivery hands it to every listener in
// every runtime. A listener that registers drains first, so that it sees
// only deliveries made after it registered.
//
// The signalfd and the pipe are created with the first listener and never
// closed: the drivers that polled them may keep them registered (epoll
// registers an fd once and keeps it until the fd is forgotten), so closing
// them would leave stale registrations under reused numbers. Two fds for
// the life of the process.
//
// Dispositions: the first listener of a signal saves the signal's
// disposition and installs the handler; the last one to go restores the
// saved disposition, if the handler is still the one installed (code that
// replaced it meanwhile keeps its own). docs/signals.md has the reasons.
//
// Thread-safety: thread-safe. The handler touches only lock-free atomics and
// write(2).
#ifndef POLYIO_RUNTIME_SIGNAL_SIGNAL_REGISTRY_H_
#define POLYIO_RUNTIME_SIGNAL_SIGNAL_REGISTRY_H_

#include <signal.h>

#include <atomic>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "platform/intrusive_list.h"
#include "platform/mutex.h"
#include "runtime/task/atomic_waker.h"

namespace polyio::internal {

// Signal numbers the registry can hold: 1 .. kSignalLimit - 1.
#if defined(NSIG)
inline constexpr int kSignalLimit = NSIG;
#else
inline constexpr int kSignalLimit = 65;
#endif

// One listener: a SignalStream's state, or the reaper's.
struct SignalListener {
  explicit SignalListener(int signo) : signo(signo) {}
  SignalListener(const SignalListener&) = delete;
  SignalListener& operator=(const SignalListener&) = delete;

  const int signo;
  // Deliveries not yet taken by a Recv.
  std::atomic<uint64_t> pending{0};
  // The task waiting in Recv, woken by Drain.
  AtomicWaker waker;
  // In the registry's list for `signo` (guarded by the registry's mutex).
  ListLink<SignalListener> link;
};

class SignalRegistry {
 public:
  // The process's registry, created at first use and never destroyed (a
  // signal may arrive during static destruction).
  static SignalRegistry& Get();

  // InvalidArgument unless `signo` can be listened for: a signal number of
  // this system that can be caught and is not a fault signal (SIGSEGV,
  // SIGBUS, SIGILL, SIGFPE: they report a fault of the thread that caused
  // it, and a handler that returns would run the faulting instruction
  // again) nor one the C library keeps for itself. `what` prefixes the
  // message ("Signal(9)").
  static absl::Status Validate(int signo, const char* what);

  // "SIGTERM", or "signal 40".
  static const char* Name(int signo, char (&buf)[16]);

  // Registers `listener` (it must stay put until Remove). The first
  // listener of a signal installs the handler and adds the signal to the
  // signalfd's mask; errors name the system call.
  absl::Status Add(SignalListener* listener);
  // Unregisters; the last listener of a signal restores its disposition.
  void Remove(SignalListener* listener);

  // Takes every delivery that has arrived and hands it to the listeners.
  void Drain();

  // Adds to `set` each signal whose SIG_IGN is the registry's own (the
  // native path's stand-in for a default action while somebody listens).
  // For Spawn: a child inherits SIG_IGN across exec, where it inherits no
  // handler, so it must get those signals' default back, as it would have
  // on the portable path.
  void AddOwnIgnores(sigset_t* set);

  // The fds to wait on for readability before draining: the signalfd (-1
  // where there is none) and the self-pipe's read end. Valid after the
  // first successful Add; never closed.
  int signal_fd() const { return signal_fd_.load(std::memory_order_acquire); }
  int pipe_fd() const { return pipe_read_.load(std::memory_order_acquire); }

 private:
  SignalRegistry() = default;
  absl::Status CreateSources() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Install(int signo) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Restore(int signo) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The native path's (kqueue builds): recorder and SIG_IGN, no handler.
  absl::Status InstallNative(int signo) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RestoreNative(int signo) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DrainLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The portable path's deliveries: signalfd, pipe, handler counts.
  void TakePortable(uint64_t* counts) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateSignalFdMask() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  using List = IntrusiveList<SignalListener, &SignalListener::link>;

  Mutex mu_;
  bool sources_ready_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<int> signal_fd_{-1};
  std::atomic<int> pipe_read_{-1};
  List listeners_[kSignalLimit] ABSL_GUARDED_BY(mu_);
  // The dispositions the first listener of each signal found.
  struct sigaction saved_[kSignalLimit] ABSL_GUARDED_BY(mu_);
  // Native path: the first listener found SIG_DFL and set SIG_IGN.
  bool ignored_by_us_[kSignalLimit] ABSL_GUARDED_BY(mu_) = {};
  // The signalfd's mask: the signals with listeners whose first listener's
  // thread blocked them.
  sigset_t fd_mask_ ABSL_GUARDED_BY(mu_);
};

}  // namespace polyio::internal

#endif  // POLYIO_RUNTIME_SIGNAL_SIGNAL_REGISTRY_H_
