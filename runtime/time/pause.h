// PauseTime, ResumeTime, AdvanceTime: a clock a test controls (tokio's
// time::pause, time::advance and auto-advance).
//
//   PauseTime();
//   rt->BlockOn([]() -> Task<void> {
//     co_await Sleep(std::chrono::hours(1));  // returns at once, in real time
//   }());
//   ResumeTime();
//
// While time is paused, Now() (platform/clock.h) — and with it every Sleep,
// Timeout, Interval, EventLoop timer and TcpListener back-off — stands
// still while tasks run. It moves in two ways only:
// - AdvanceTime(d) moves it forward by d; timers now due fire at their
//   drivers' next turn (a task that advanced time and wants to see them
//   fire yields, e.g. `co_await Yield()`). "Due" is the timer wheel's: time
//   has passed the deadline rounded up to a whole tick (1 ms), so to fire a
//   timer due at t, advance to t plus 1 ms;
// - auto-advance: when every driver that has run under the pause is idle
//   (no task to run, no I/O ready, no request in its mailbox), time jumps
//   to the earliest timer among them. So a test of a one-hour timeout takes
//   microseconds, and the order of timers is kept exactly.
// Unlike tokio's, it works on the multi-thread runtime too: one idle worker
// does not move time while another runs tasks.
//
// What does not hold the clock, as in tokio: I/O that the runtime waits for
// from outside (a peer in another process or thread, a child process) and
// jobs on the blocking pool. A Timeout around such a wait may expire at once
// when the runtime is otherwise idle; pause time in tests whose only waiting
// is on the runtime's own timers and tasks. The multi-thread Runtime's
// Shutdown deadline is measured on the OS clock (RealNow).
//
// ResumeTime lets time run again from where it stood (it never goes back:
// Now() stays ahead of the OS clock by what was advanced).
//
// Thread-safety: any thread. The pause is process-wide (one clock for all
// runtimes); a test pauses and resumes it around its own runtime, e.g. with
// ScopedPausedTime. AdvanceTime while time is not paused, or by a negative
// duration, stops the program with a message naming it.
#ifndef POLYIO_RUNTIME_TIME_PAUSE_H_
#define POLYIO_RUNTIME_TIME_PAUSE_H_

#include "platform/clock.h"
#include "runtime/driver/paused_time.h"

namespace polyio {

inline void PauseTime() { internal::PauseClock(); }
inline void ResumeTime() { internal::ResumeClock(); }
inline void AdvanceTime(Duration d) { internal::AdvanceClock(d); }

// Pauses time for its lifetime.
class ScopedPausedTime {
 public:
  ScopedPausedTime() { PauseTime(); }
  ~ScopedPausedTime() { ResumeTime(); }
  ScopedPausedTime(const ScopedPausedTime&) = delete;
  ScopedPausedTime& operator=(const ScopedPausedTime&) = delete;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_TIME_PAUSE_H_
