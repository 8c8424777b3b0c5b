#include "runtime/signal/signal_registry.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/backend.h"
#include "backends/selected.h"

#if defined(__linux__)
#include <sys/signalfd.h>
#endif

namespace polyio::internal {
namespace {

// What the handler needs, as lock-free atomics with constant initialization:
// a signal can arrive before any constructor has run, or after the
// destructors.
//
// Deliveries counted by the handler since the last Drain.
constinit std::atomic<uint32_t> g_hits[kSignalLimit] = {};
// The self-pipe's write end (-1 until the sources exist).
constinit std::atomic<int> g_pipe_write{-1};
// The handler installed before ours, to chain to: a function pointer (null:
// none, or SIG_DFL/SIG_IGN) and whether it takes siginfo. Written under the
// registry's mutex, read by the handler. Two words, so a handler running
// while a signal is restored and re-registered with a different previous
// handler could pair a pointer with the other one's flag; that needs three
// threads racing over two registrations of one signal, each with a foreign
// handler, and it is documented rather than locked against.
constinit std::atomic<void*> g_chain[kSignalLimit] = {};
constinit std::atomic<bool> g_chain_siginfo[kSignalLimit] = {};

void Handler(int signo, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  if (signo > 0 && signo < kSignalLimit) {
    // The earlier handler first: once a stream has seen the delivery, that
    // handler is done with it too (and a stream dropped right after cannot
    // unhook it halfway).
    void* chain = g_chain[signo].load(std::memory_order_acquire);
    if (chain != nullptr) {
      if (g_chain_siginfo[signo].load(std::memory_order_acquire)) {
        reinterpret_cast<void (*)(int, siginfo_t*, void*)>(chain)(signo, info,
                                                                  context);
      } else {
        reinterpret_cast<void (*)(int)>(chain)(signo);
      }
    }
    g_hits[signo].fetch_add(1, std::memory_order_release);
    const int fd = g_pipe_write.load(std::memory_order_acquire);
    if (fd >= 0) {
      // A full pipe already holds a wake-up that Drain has not read: the
      // count above is enough.
      const char byte = static_cast<char>(signo);
      ssize_t ignored = ::write(fd, &byte, 1);
      (void)ignored;
    }
  }
  errno = saved_errno;
}

// A build whose backend records signals natively (backend.h's
// kNativeSignals: kqueue's EVFILT_SIGNAL) takes deliveries from the
// backend's SignalRecorder instead of the handler, the self-pipe and the
// signalfd (the header says how). Chosen at compile time; the helpers below
// are templates so that other builds never instantiate them.
constexpr bool kNativeSignals = BackendHasNativeSignals<Backend>;

// The process's recorder in a native build: created with the sources,
// under the registry's lock, and never destroyed (like the registry).
template <class B>
typename B::SignalRecorder*& RecorderSlot() {
  static typename B::SignalRecorder* recorder = nullptr;
  return recorder;
}
template <class B>
absl::Status CreateRecorder() {
  auto recorder = B::SignalRecorder::Create();
  if (!recorder.ok()) return recorder.status();
  RecorderSlot<B>() = new typename B::SignalRecorder(std::move(*recorder));
  return absl::OkStatus();
}
template <class B>
absl::Status StartRecording(int signo) {
  return RecorderSlot<B>()->Add(signo);
}
template <class B>
void StopRecording(int signo) {
  RecorderSlot<B>()->Remove(signo);
}
template <class B>
void TakeRecorded(uint64_t* counts) {
  RecorderSlot<B>()->Take(counts, kSignalLimit);
}

// Signals whose default action is to do nothing (or only to continue the
// process, which happens whatever the disposition): SIG_DFL is harmless
// for them, and SIG_IGN would change what they mean (SIGCHLD ignored makes
// the kernel reap every child, so nobody could wait for one).
bool DefaultIsHarmless(int signo) {
  switch (signo) {
    case SIGCHLD:
    case SIGURG:
    case SIGWINCH:
    case SIGCONT:
#if defined(SIGINFO)
    case SIGINFO:
#endif
      return true;
    default:
      return false;
  }
}

bool IsDefault(const struct sigaction& sa) {
  return (sa.sa_flags & SA_SIGINFO) == 0 && sa.sa_handler == SIG_DFL;
}
bool IsIgnore(const struct sigaction& sa) {
  return (sa.sa_flags & SA_SIGINFO) == 0 && sa.sa_handler == SIG_IGN;
}

bool IsOurHandler(const struct sigaction& sa) {
  return (sa.sa_flags & SA_SIGINFO) != 0 && sa.sa_sigaction == &Handler;
}

// The function a disposition calls, or null for SIG_DFL and SIG_IGN.
void* HandlerFunction(const struct sigaction& sa) {
  if (sa.sa_flags & SA_SIGINFO) {
    return reinterpret_cast<void*>(sa.sa_sigaction);
  }
  if (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN) return nullptr;
  return reinterpret_cast<void*>(sa.sa_handler);
}

[[maybe_unused]] absl::Status SetFlags(int fd, const char* what) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("fcntl O_NONBLOCK ", what));
  }
  int fdfl = fcntl(fd, F_GETFD);
  if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("fcntl FD_CLOEXEC ", what));
  }
  return absl::OkStatus();
}

struct SignalName {
  int signo;
  const char* name;
};

constexpr SignalName kNames[] = {
    {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},       {SIGQUIT, "SIGQUIT"},
    {SIGILL, "SIGILL"},   {SIGTRAP, "SIGTRAP"},     {SIGABRT, "SIGABRT"},
    {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},       {SIGKILL, "SIGKILL"},
    {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"},     {SIGUSR2, "SIGUSR2"},
    {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"},     {SIGTERM, "SIGTERM"},
    {SIGCHLD, "SIGCHLD"}, {SIGCONT, "SIGCONT"},     {SIGSTOP, "SIGSTOP"},
    {SIGTSTP, "SIGTSTP"}, {SIGTTIN, "SIGTTIN"},     {SIGTTOU, "SIGTTOU"},
    {SIGURG, "SIGURG"},   {SIGXCPU, "SIGXCPU"},     {SIGXFSZ, "SIGXFSZ"},
    {SIGPROF, "SIGPROF"}, {SIGWINCH, "SIGWINCH"},   {SIGSYS, "SIGSYS"},
    {SIGIO, "SIGIO"},     {SIGVTALRM, "SIGVTALRM"},
};

}  // namespace

SignalRegistry& SignalRegistry::Get() {
  // Leaked on purpose: the handler and the drivers may use it until the
  // process is gone.
  static SignalRegistry* registry = [] {
    auto* r = new SignalRegistry();
    MutexLock lock(&r->mu_);
    sigemptyset(&r->fd_mask_);
    return r;
  }();
  return *registry;
}

const char* SignalRegistry::Name(int signo, char (&buf)[16]) {
  for (const SignalName& n : kNames) {
    if (n.signo == signo) return n.name;
  }
  std::snprintf(buf, sizeof(buf), "signal %d", signo);
  return buf;
}

absl::Status SignalRegistry::Validate(int signo, const char* what) {
  if (signo <= 0 || signo >= kSignalLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": not a signal number (this system has 1 to ",
                     kSignalLimit - 1, ")"));
  }
  char buf[16];
  const char* name = Name(signo, buf);
  if (signo == SIGKILL || signo == SIGSTOP) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", name, " cannot be caught"));
  }
  if (signo == SIGSEGV || signo == SIGBUS || signo == SIGILL ||
      signo == SIGFPE) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": ", name,
        " reports a fault of the thread that caused it and cannot be "
        "awaited"));
  }
#if defined(SIGRTMIN)
  // glibc keeps the first real-time signals (32 and 33) for its threads;
  // SIGRTMIN is the first one it leaves to programs.
  if (signo > 31 && signo < SIGRTMIN) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": signal ", signo, " is reserved by the C library"));
  }
#endif
  struct sigaction probe;
  if (sigaction(signo, nullptr, &probe) < 0) {
    return absl::ErrnoToStatus(errno, what);
  }
  return absl::OkStatus();
}

absl::Status SignalRegistry::CreateSources() {
  if (sources_ready_) return absl::OkStatus();
  if constexpr (kNativeSignals) {
    // The recorder alone: no handler, so no pipe; drivers wait with
    // kSignal operations, so no fd to poll (signal_fd() and pipe_fd() stay
    // -1).
    absl::Status s = CreateRecorder<Backend>();
    if (!s.ok()) return s;
    sources_ready_ = true;
    return absl::OkStatus();
  }
  int p[2];
#if defined(__linux__) || defined(__FreeBSD__) || defined(__OpenBSD__) || \
    defined(__NetBSD__)
  // Close-on-exec from the start: another thread may spawn at any moment.
  if (::pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) {
    return absl::ErrnoToStatus(errno, "signal pipe");
  }
#else
  if (::pipe(p) < 0) return absl::ErrnoToStatus(errno, "signal pipe");
  absl::Status s = SetFlags(p[0], "signal pipe");
  if (s.ok()) s = SetFlags(p[1], "signal pipe");
  if (!s.ok()) {
    ::close(p[0]);
    ::close(p[1]);
    return s;
  }
#endif
#if defined(__linux__)
  sigset_t empty;
  sigemptyset(&empty);
  // Without a signalfd (a seccomp filter, an old kernel) the handler alone
  // carries every delivery: nothing is lost, only the blocked-signal path.
  int sfd = ::signalfd(-1, &empty, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd >= 0) signal_fd_.store(sfd, std::memory_order_release);
#endif
  pipe_read_.store(p[0], std::memory_order_release);
  g_pipe_write.store(p[1], std::memory_order_release);
  sources_ready_ = true;
  return absl::OkStatus();
}

void SignalRegistry::UpdateSignalFdMask() {
#if defined(__linux__)
  const int sfd = signal_fd_.load(std::memory_order_relaxed);
  if (sfd >= 0) ::signalfd(sfd, &fd_mask_, 0);
#endif
}

absl::Status SignalRegistry::Install(int signo) {
  struct sigaction previous;
  if (sigaction(signo, nullptr, &previous) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("sigaction ", signo));
  }
  if (!IsOurHandler(previous)) {
    g_chain_siginfo[signo].store((previous.sa_flags & SA_SIGINFO) != 0,
                                 std::memory_order_relaxed);
    g_chain[signo].store(HandlerFunction(previous), std::memory_order_release);
  }
  saved_[signo] = previous;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = &Handler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  if (sigaction(signo, &sa, nullptr) < 0) {
    g_chain[signo].store(nullptr, std::memory_order_release);
    return absl::ErrnoToStatus(errno, absl::StrCat("sigaction ", signo));
  }
  g_hits[signo].store(0, std::memory_order_relaxed);
  // The signalfd only for a signal this thread blocks (the header says why).
  sigset_t mask;
  if (pthread_sigmask(SIG_BLOCK, nullptr, &mask) == 0 &&
      sigismember(&mask, signo) == 1) {
    sigaddset(&fd_mask_, signo);
    UpdateSignalFdMask();
  }
  return absl::OkStatus();
}

absl::Status SignalRegistry::InstallNative(int signo) {
  struct sigaction previous;
  if (sigaction(signo, nullptr, &previous) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("sigaction ", signo));
  }
  // Recording first: a delivery from here on is counted, whatever the
  // disposition does with it. (Only native builds instantiate the
  // recorder's helpers; others never call this function.)
  absl::Status s = absl::OkStatus();
  if constexpr (kNativeSignals) s = StartRecording<Backend>(signo);
  if (!s.ok()) return s;
  saved_[signo] = previous;
  ignored_by_us_[signo] = false;
  // A default action that would end or stop the process must not happen
  // while somebody listens: SIG_IGN, which EVFILT_SIGNAL still records.
  // Other code's handler, and SIG_IGN, are left as they are.
  if (IsDefault(previous) && !DefaultIsHarmless(signo)) {
    struct sigaction ignore;
    std::memset(&ignore, 0, sizeof(ignore));
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    if (sigaction(signo, &ignore, nullptr) < 0) {
      const int err = errno;
      if constexpr (kNativeSignals) StopRecording<Backend>(signo);
      return absl::ErrnoToStatus(err, absl::StrCat("sigaction ", signo));
    }
    ignored_by_us_[signo] = true;
  }
  return absl::OkStatus();
}

void SignalRegistry::AddOwnIgnores(sigset_t* set) {
  MutexLock lock(&mu_);
  for (int signo = 1; signo < kSignalLimit; ++signo) {
    if (ignored_by_us_[signo]) sigaddset(set, signo);
  }
}

void SignalRegistry::RestoreNative(int signo) {
  // Back to SIG_DFL only if the SIG_IGN is still ours: code that set a
  // disposition meanwhile keeps it.
  struct sigaction current;
  if (ignored_by_us_[signo] && sigaction(signo, nullptr, &current) == 0 &&
      IsIgnore(current)) {
    sigaction(signo, &saved_[signo], nullptr);
  }
  ignored_by_us_[signo] = false;
  if constexpr (kNativeSignals) StopRecording<Backend>(signo);
}

void SignalRegistry::Restore(int signo) {
  sigdelset(&fd_mask_, signo);
  UpdateSignalFdMask();
  struct sigaction current;
  if (sigaction(signo, nullptr, &current) == 0 && IsOurHandler(current)) {
    struct sigaction previous = saved_[signo];
    // Never "restore" our own handler (a saved disposition that was ours
    // means another registry instance, which cannot exist, or a bug).
    if (IsOurHandler(previous)) {
      std::memset(&previous, 0, sizeof(previous));
      previous.sa_handler = SIG_DFL;
    }
    sigaction(signo, &previous, nullptr);
  }
  g_chain[signo].store(nullptr, std::memory_order_release);
}

absl::Status SignalRegistry::Add(SignalListener* listener) {
  const int signo = listener->signo;
  MutexLock lock(&mu_);
  absl::Status s = CreateSources();
  if (!s.ok()) return s;
  if (listeners_[signo].empty()) {
    if constexpr (kNativeSignals) {
      s = InstallNative(signo);
    } else {
      s = Install(signo);
    }
    if (!s.ok()) return s;
  }
  // Deliveries made before this listener existed belong to the others.
  DrainLocked();
  listener->pending.store(0, std::memory_order_relaxed);
  listeners_[signo].PushBack(listener);
  return absl::OkStatus();
}

void SignalRegistry::Remove(SignalListener* listener) {
  const int signo = listener->signo;
  MutexLock lock(&mu_);
  listeners_[signo].Unlink(listener);
  if (!listeners_[signo].empty()) return;
  if constexpr (kNativeSignals) {
    RestoreNative(signo);
  } else {
    Restore(signo);
  }
}

void SignalRegistry::Drain() {
  MutexLock lock(&mu_);
  DrainLocked();
}

void SignalRegistry::DrainLocked() {
  if (!sources_ready_) return;
  uint64_t counts[kSignalLimit] = {};
  if constexpr (kNativeSignals) {
    TakeRecorded<Backend>(counts);
  } else {
    TakePortable(counts);
  }
  for (int signo = 1; signo < kSignalLimit; ++signo) {
    if (listeners_[signo].empty() || counts[signo] == 0) continue;
    for (SignalListener* l = listeners_[signo].front(); l != nullptr;
         l = List::next(l)) {
      l->pending.fetch_add(counts[signo], std::memory_order_release);
      l->waker.Wake();
    }
  }
}

void SignalRegistry::TakePortable(uint64_t* counts) {
#if defined(__linux__)
  const int sfd = signal_fd_.load(std::memory_order_relaxed);
  if (sfd >= 0) {
    signalfd_siginfo infos[16];
    for (;;) {
      ssize_t n = ::read(sfd, infos, sizeof(infos));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      for (size_t i = 0; i < static_cast<size_t>(n) / sizeof(infos[0]); ++i) {
        const uint32_t signo = infos[i].ssi_signo;
        if (signo > 0 && signo < static_cast<uint32_t>(kSignalLimit)) {
          ++counts[signo];
        }
      }
    }
  }
#endif
  // The pipe before the counters: the handler counts, then writes.
  const int pfd = pipe_read_.load(std::memory_order_relaxed);
  char bytes[256];
  for (;;) {
    ssize_t n = ::read(pfd, bytes, sizeof(bytes));
    if (n < 0 && errno == EINTR) continue;
    if (n < static_cast<ssize_t>(sizeof(bytes))) break;
  }
  for (int signo = 1; signo < kSignalLimit; ++signo) {
    if (listeners_[signo].empty()) continue;
    counts[signo] += g_hits[signo].exchange(0, std::memory_order_acquire);
  }
}

}  // namespace polyio::internal
