// The stall detector: a watchdog that reports a driver thread stuck in one
// task poll, or in one driver turn, for longer than a threshold — a task
// that blocks (sleep(1), a blocking read, a long computation) and so holds
// up every other task of its worker. Off unless RuntimeOptions::
// stall_detector.enabled; docs/observing.md says how to use it.
//
//   RuntimeOptions options;
//   options.stall_detector.enabled = true;   // threshold 100 ms, stderr
//
//   polyio: stall on worker 1: one task poll has run for 212 ms (threshold
//   100 ms)
//     task spawned at server.cc:42 (Serve)
//     stack of the stalled thread:
//       #0 0x7f3a1c2e4b8a clock_nanosleep
//       #1 0x55d0c0a1b2c3 Handle()
//       ...
//
// How it sees a stall without costing the drivers anything: it samples
// what they already publish (runtime/metrics/worker_counters.h). One
// watchdog thread per runtime wakes every threshold / 4 and reads, for each
// driver, the number of task polls started, of runnables run, of blocking
// waits, and whether it is parked in one. A driver that is not parked, has a
// thread running it, and whose three numbers have not moved for `threshold`
// is stalled: the watchdog reports it once (not at every sample), and
// again only after the driver has made progress and stalled anew.
//
// The report names the worker, how long the stall had lasted when it was
// seen (a lower bound, within one sampling period), whether a task poll or
// the driver's own work (timers, I/O completions, callbacks) is stuck, the
// spawn location of the task being polled, and the stalled thread's stack.
// The last two come from the stalled thread itself: the watchdog sends it a
// real-time signal (pthread_kill), whose handler copies the task's spawn
// location (the thread is mid-poll, so the task is alive and its header is
// the thread's to read) and takes a backtrace(3) into a preallocated slot;
// the watchdog symbolizes the frames (absl::Symbolize) and calls the sink.
//
// The signal: SIGRTMAX - 3 unless StallDetectorOptions::signal names
// another real-time signal; its handler is installed while at least one
// detector uses it (SA_RESTART), and the previous disposition restored when
// the last one goes. Creating a detector fails if the program has its own
// handler on that signal. signal = -1 sends no signal: reports then carry
// no stack and no spawn location. Limits, in docs/observing.md: a blocking
// call of the stalled thread that Linux never restarts (nanosleep, poll,
// epoll_wait, ...) may return EINTR once per reported stall; a thread that
// blocks the signal answers after a timeout with no stack.
//
// Thread-safety: the detector's thread reads the drivers' counters (atomic)
// and calls the sink; the sink runs on that thread, one report at a time,
// and must not wait for the stalled runtime (on the current-thread runtime
// DumpTasks would wait for the stalled driver).
#ifndef POLYIO_RUNTIME_DIAGNOSTICS_STALL_DETECTOR_H_
#define POLYIO_RUNTIME_DIAGNOSTICS_STALL_DETECTOR_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/clock.h"
#include "platform/source_location.h"

namespace polyio {

class Driver;

// One stall, as the sink receives it. Value type.
struct StallReport {
  // The stalled driver: its worker index (0 on the current-thread runtime).
  int worker = 0;
  // How long it had made no progress when the watchdog saw it: at least
  // `threshold`; the stall may go on after the report.
  Duration stalled_for{};
  Duration threshold{};
  // True: stuck in one poll of a task. False: in the driver's own work in a
  // turn (firing timers, delivering I/O completions, running callbacks).
  bool in_task_poll = false;
  // The Spawn call of the task being polled, when the stalled thread
  // answered the signal in time (see the header comment).
  std::optional<SourceLocation> spawned_at;
  // The stalled thread's stack, innermost frame first, one a line
  // ("#0 0x7f3a1c2e4b8a clock_nanosleep"). Empty when none was taken; then
  // `no_stack_trace` says why.
  std::string stack_trace;
  std::string no_stack_trace;

  // Several lines, as in the example above, ending in a newline.
  std::string ToString() const;
};

struct StallDetectorOptions {
  bool enabled = false;
  // One poll (or turn) longer than this is reported. Must be positive.
  Duration threshold = std::chrono::milliseconds(100);
  // The real-time signal that asks a stalled thread for its stack and the
  // task it polls: 0 for SIGRTMAX - 3, a number in [SIGRTMIN, SIGRTMAX],
  // or -1 for none (reports without stack or spawn location).
  int signal = 0;
  // Where reports go, on the detector's thread; empty: ToString() to
  // stderr.
  std::function<void(const StallReport&)> sink;
};

namespace diagnostics {

// The watchdog of one runtime (Runtime owns it). Not copyable.
class StallDetector {
 public:
  // Starts watching `drivers` (worker i is drivers[i]), which must outlive
  // the detector. Fails, with a status naming the option, on a threshold
  // that is not positive, a signal that is not real-time, or a signal
  // another handler holds.
  static absl::StatusOr<std::unique_ptr<StallDetector>> Start(
      const StallDetectorOptions& options, std::vector<Driver*> drivers);
  // Stops the watchdog (waiting for a report in progress) and releases the
  // signal.
  ~StallDetector();
  StallDetector(const StallDetector&) = delete;
  StallDetector& operator=(const StallDetector&) = delete;

  // SIGRTMAX - 3: clear of SIGRTMAX, which valgrind keeps, and of
  // SIGRTMAX - 2, which the fault-injection layer uses
  // (backends/fault/interrupter.cc). -1 where there are no real-time
  // signals.
  static int DefaultSignal();

 private:
  // What the watchdog knows of one driver.
  struct Watch {
    Driver* driver;
    // The progress counts at the last sample, and when they last moved.
    uint64_t polls = 0, runs = 0, parks = 0;
    Instant since{};
    bool reported = false;  // this stall was reported
  };

  StallDetector(const StallDetectorOptions& options,
                std::vector<Driver*> drivers, int signo);
  void Loop();
  void Sample(Instant now);
  // Builds the report of watch `i`, stalled since `w.since`.
  StallReport Describe(int i, const Watch& w, Instant now);
  void TakeStack(const Watch& w, StallReport& report);

  const Duration threshold_;
  const int signo_;  // -1: none
  const std::function<void(const StallReport&)> sink_;
  std::vector<Watch> watches_;  // the watchdog thread's

  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace diagnostics
}  // namespace polyio

#endif  // POLYIO_RUNTIME_DIAGNOSTICS_STALL_DETECTOR_H_
