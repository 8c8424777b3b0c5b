#include "backends/fault/interrupter.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <mutex>

#if defined(__linux__)
#include <sys/syscall.h>
#endif

namespace polyio::fault {
namespace {

std::atomic<uint64_t> signals_handled{0};

void OnSignal(int) {
  // Only counts: its whole point is to make the interrupted call fail.
  signals_handled.fetch_add(1, std::memory_order_relaxed);
}

// Installs the handler once; false if the signal belongs to someone else.
bool InstallHandler() {
  static bool usable = [] {
#if defined(__linux__)
    struct sigaction old {};
    if (sigaction(Interrupter::Signal(), nullptr, &old) != 0) return false;
    if (old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO)) {
      std::fprintf(stderr,
                   "polyio fault injection: signal %d already has a handler; "
                   "the eintr fault is off\n",
                   Interrupter::Signal());
      return false;
    }
    struct sigaction sa {};
    sa.sa_handler = &OnSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: the interrupted call fails with EINTR
    return sigaction(Interrupter::Signal(), &sa, nullptr) == 0;
#else
    return false;
#endif
  }();
  return usable;
}

}  // namespace

int Interrupter::Signal() {
#if defined(SIGRTMAX)
  return SIGRTMAX - 2;
#else
  return 0;
#endif
}

uint64_t Interrupter::SignalsHandled() {
  return signals_handled.load(std::memory_order_relaxed);
}

Interrupter::~Interrupter() {
#if defined(__linux__)
  if (created_) timer_delete(timer_);
#endif
}

bool Interrupter::Arm(int64_t delay_ns) {
#if defined(__linux__)
  if (!InstallHandler()) return false;
  sigset_t blocked;
  if (pthread_sigmask(SIG_BLOCK, nullptr, &blocked) != 0 ||
      sigismember(&blocked, Signal())) {
    return false;
  }
  pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  if (created_ && tid != tid_) {
    timer_delete(timer_);
    created_ = false;
  }
  if (!created_) {
    struct sigevent sev {};
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = Signal();
    sev._sigev_un._tid = tid;
    if (timer_create(CLOCK_MONOTONIC, &sev, &timer_) != 0) return false;
    created_ = true;
    tid_ = tid;
  }
  struct itimerspec when {};
  when.it_value.tv_sec = delay_ns / 1000000000;
  when.it_value.tv_nsec = delay_ns % 1000000000;
  if (when.it_value.tv_sec == 0 && when.it_value.tv_nsec == 0) {
    when.it_value.tv_nsec = 1;  // zero would disarm
  }
  if (timer_settime(timer_, 0, &when, nullptr) != 0) return false;
  armed_ = true;
  return true;
#else
  (void)delay_ns;
  return false;
#endif
}

void Interrupter::Disarm() {
#if defined(__linux__)
  if (!armed_) return;
  armed_ = false;
  struct itimerspec zero {};
  timer_settime(timer_, 0, &zero, nullptr);
#endif
}

}  // namespace polyio::fault
