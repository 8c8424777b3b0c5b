// Interrupter: makes the calling thread's next blocking system call fail
// with EINTR, for real: a one-shot POSIX timer sends kInterruptSignal to the
// thread after a short delay, and the signal's handler does nothing and is
// installed without SA_RESTART. The fault layer arms it around an inner
// backend's blocking Wait (epoll_wait, poll, io_uring_enter, kevent), whose
// loop must then carry on: EINTR never escapes a backend.
//
// Linux only (SIGEV_THREAD_ID); elsewhere Arm always says no.
//
// The signal reaches no other code: the timer names the thread, and
// Disarm, called as soon as the wait is over, stops a timer that has not
// fired yet; one that fired meanwhile has its signal delivered by the time
// Disarm's own system call returns, inside the fault layer. A thread that
// blocks the signal is never armed (the signal would stay pending).
//
// Thread-hostile: one thread at a time (the backend's driver thread); the
// thread may change between calls.
#ifndef POLYIO_BACKENDS_FAULT_INTERRUPTER_H_
#define POLYIO_BACKENDS_FAULT_INTERRUPTER_H_

#include <sys/types.h>
#include <time.h>

#include <cstdint>

namespace polyio::fault {

class Interrupter {
 public:
  Interrupter() = default;
  ~Interrupter();
  Interrupter(const Interrupter&) = delete;
  Interrupter& operator=(const Interrupter&) = delete;

  // Starts the timer: the calling thread is signalled in `delay_ns`.
  // False when the signal cannot be used here (another handler owns it,
  // the thread blocks it, no timers): nothing is armed.
  bool Arm(int64_t delay_ns);
  // Stops the timer (no-op when not armed).
  void Disarm();
  bool armed() const { return armed_; }

  // How many signals were handled in this process (tests use it to see
  // that the fault fired).
  static uint64_t SignalsHandled();
  // The signal used: SIGRTMAX - 2.
  static int Signal();

 private:
  timer_t timer_{};
  pid_t tid_ = 0;
  bool created_ = false;
  bool armed_ = false;
};

}  // namespace polyio::fault

#endif  // POLYIO_BACKENDS_FAULT_INTERRUPTER_H_
