#include "runtime/diagnostics/stall_detector.h"

#include <pthread.h>
#include <signal.h>
#include <ucontext.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/debugging/symbolize.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "platform/mutex.h"
#include "runtime/driver/driver.h"
#include "runtime/metrics/worker_counters.h"
#include "runtime/task/task_header.h"

#if __has_include(<execinfo.h>)
#include <execinfo.h>
#define POLYIO_HAVE_BACKTRACE 1
#else
#define POLYIO_HAVE_BACKTRACE 0
#endif

namespace polyio {
namespace diagnostics {
namespace {

// How long the watchdog waits for a stalled thread to answer the signal.
// A thread blocked in the kernel answers at once; under TSan a thread in
// user code answers at its next intercepted call.
constexpr Duration kAnswerTimeout = std::chrono::seconds(1);

constexpr int kMaxFrames = 64;

// The capture slot's state, in the low bits of a word whose high bits are a
// generation: a signal that arrives after its capture was given up finds
// another generation (or another target) and touches nothing.
enum : uint64_t {
  kIdle = 0,
  kPending = 1,  // the target thread may take it
  kTaking = 2,   // the target's handler is filling it
  kDone = 3,     // filled; the watchdog reads it
  kAbandoned = 4,
  kStateMask = 7,
};

// The one capture in flight in the process: captures are serialized by
// capture_mu, so that a handler needs no allocation to find its slot. The
// handler writes the plain fields between kTaking and kDone (release); the
// watchdog reads them after seeing kDone (acquire).
struct CaptureSlot {
  std::atomic<uint64_t> word{kIdle};
  std::atomic<pthread_t> target{};
  std::atomic<const metrics::WorkerCounters*> counters{nullptr};
  // The stalled thread's view, taken in its handler:
  uint64_t polls = 0, runs = 0, parks = 0;
  bool parked = false;
  bool in_task = false;
  SourceLocation spawned_at;
  void* interrupted_pc = nullptr;
  void* frames[kMaxFrames] = {};
  int depth = 0;
};
static_assert(std::atomic<pthread_t>::is_always_lock_free);
static_assert(std::atomic<uint64_t>::is_always_lock_free);

CaptureSlot slot;
Mutex capture_mu;

// Per signal: how many detectors use it, and what was installed before.
struct Installed {
  int users = 0;
  struct sigaction previous {};
  // A capture timed out, so its signal may still be pending on a thread
  // that blocks it: the handler stays for the life of the process (it
  // ignores a signal nobody waits for), since the default action of a
  // real-time signal ends the process.
  bool keep = false;
};
#if defined(NSIG)
constexpr int kSignals = NSIG;
#else
constexpr int kSignals = 65;
#endif
Mutex install_mu;
std::array<Installed, kSignals> installed ABSL_GUARDED_BY(install_mu);

void* InterruptedPc(void* context) {
#if defined(__linux__) && defined(__x86_64__)
  return reinterpret_cast<void*>(
      static_cast<ucontext_t*>(context)->uc_mcontext.gregs[REG_RIP]);
#elif defined(__linux__) && defined(__aarch64__)
  return reinterpret_cast<void*>(
      static_cast<ucontext_t*>(context)->uc_mcontext.pc);
#else
  (void)context;
  return nullptr;
#endif
}

// Runs on the stalled thread. Async-signal-safe: atomics, plain stores,
// and backtrace(3), whose one allocation (loading libgcc's unwinder) was
// made when the handler was installed.
void OnStallSignal(int, siginfo_t*, void* context) {
  const int saved_errno = errno;
  uint64_t word = slot.word.load(std::memory_order_acquire);
  if ((word & kStateMask) == kPending &&
      pthread_equal(slot.target.load(std::memory_order_relaxed),
                    pthread_self()) &&
      slot.word.compare_exchange_strong(word, (word & ~kStateMask) | kTaking,
                                        std::memory_order_acq_rel)) {
    const metrics::WorkerCounters* c =
        slot.counters.load(std::memory_order_relaxed);
    slot.polls = c->tasks_polled.Get();
    slot.runs = c->runs.Get();
    slot.parks = c->parks.Get();
    slot.parked = c->parked.load(std::memory_order_relaxed);
    // This thread's own store: while it is non-null the thread is inside
    // that task's poll, which holds a reference to it.
    const auto* task = static_cast<const internal::TaskHeader*>(
        c->running.load(std::memory_order_relaxed));
    slot.in_task = task != nullptr;
    if (task != nullptr) slot.spawned_at = task->spawned_at();
    slot.interrupted_pc = InterruptedPc(context);
#if POLYIO_HAVE_BACKTRACE
    slot.depth = backtrace(slot.frames, kMaxFrames);
#else
    slot.depth = 0;
#endif
    slot.word.store((word & ~kStateMask) | kDone, std::memory_order_release);
  }
  errno = saved_errno;
}

bool IsOurs(const struct sigaction& sa) {
  return (sa.sa_flags & SA_SIGINFO) != 0 && sa.sa_sigaction == &OnStallSignal;
}

bool HasHandler(const struct sigaction& sa) {
  if ((sa.sa_flags & SA_SIGINFO) != 0) return sa.sa_sigaction != nullptr;
  return sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
}

absl::Status AcquireSignal(int signo) {
  MutexLock lock(&install_mu);
  Installed& in = installed[signo];
  if (in.users > 0) {
    ++in.users;
    return absl::OkStatus();
  }
  struct sigaction current;
  if (sigaction(signo, nullptr, &current) != 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("RuntimeOptions.stall_detector.signal: sigaction ",
                            signo));
  }
  if (IsOurs(current)) {  // kept from an earlier detector (see `keep`)
    in.users = 1;
    return absl::OkStatus();
  }
  if (HasHandler(current)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "RuntimeOptions.stall_detector.signal: signal ", signo,
        " already has a handler in this program; choose another real-time "
        "signal, or -1 for reports without stacks"));
  }
#if POLYIO_HAVE_BACKTRACE
  // The first backtrace(3) loads the unwinder, which allocates: not in a
  // signal handler.
  void* prime[2];
  (void)backtrace(prime, 2);
#endif
  struct sigaction sa {};
  sa.sa_sigaction = &OnStallSignal;
  sigemptyset(&sa.sa_mask);
  // SA_RESTART: the calls of the stalled thread that can be restarted are.
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  if (sigaction(signo, &sa, &in.previous) != 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("RuntimeOptions.stall_detector.signal: sigaction ",
                            signo));
  }
  in.users = 1;
  return absl::OkStatus();
}

void ReleaseSignal(int signo) {
  MutexLock lock(&install_mu);
  Installed& in = installed[signo];
  if (--in.users > 0 || in.keep) return;
  struct sigaction current;
  // Code that replaced the handler meanwhile keeps its own.
  if (sigaction(signo, nullptr, &current) == 0 && IsOurs(current)) {
    sigaction(signo, &in.previous, nullptr);
  }
}

void KeepHandler(int signo) {
  MutexLock lock(&install_mu);
  installed[signo].keep = true;
}

std::string Symbolized(void* const* frames, int depth, void* pc) {
  // Frames from the handler inward (backtrace itself, the handler, the
  // kernel's return trampoline) come before the interrupted instruction:
  // left out when it is found.
  int first = 0;
  for (int i = 0; pc != nullptr && i < depth; ++i) {
    if (frames[i] == pc) {
      first = i;
      break;
    }
  }
  std::string out;
  char name[1024];
  char line[1200];
  for (int i = first; i < depth; ++i) {
    // A caller's frame holds a return address: look up the byte before it,
    // which is still inside the call (the call may end its function).
    const bool exact = i == first && frames[i] == pc;
    const char* lookup = static_cast<const char*>(frames[i]) - (exact ? 0 : 1);
    if (!absl::Symbolize(lookup, name, sizeof name)) {
      std::snprintf(name, sizeof name, "(no symbol)");
    }
    std::snprintf(line, sizeof line, "#%d %p %s\n", i - first, frames[i], name);
    out += line;
  }
  return out;
}

long long Millis(Duration d) {
  return static_cast<long long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

}  // namespace

int StallDetector::DefaultSignal() {
#if defined(SIGRTMAX)
  return SIGRTMAX - 3;
#else
  return -1;
#endif
}

absl::StatusOr<std::unique_ptr<StallDetector>> StallDetector::Start(
    const StallDetectorOptions& options, std::vector<Driver*> drivers) {
  if (options.threshold <= Duration::zero()) {
    return absl::InvalidArgumentError(
        absl::StrCat("RuntimeOptions.stall_detector.threshold must be "
                     "positive, got ",
                     options.threshold.count(), " ns"));
  }
  int signo = options.signal == 0 ? DefaultSignal() : options.signal;
  if (options.signal != -1 && signo != -1) {
#if defined(SIGRTMIN) && defined(SIGRTMAX)
    if (signo < SIGRTMIN || signo > SIGRTMAX || signo >= kSignals) {
      return absl::InvalidArgumentError(
          absl::StrCat("RuntimeOptions.stall_detector.signal: ", options.signal,
                       " is not a real-time signal (", SIGRTMIN, " to ",
                       SIGRTMAX, " here); 0 for the default, -1 for none"));
    }
#else
    return absl::InvalidArgumentError(
        absl::StrCat("RuntimeOptions.stall_detector.signal: ", options.signal,
                     ": this system has no real-time signals; 0 or -1"));
#endif
    absl::Status s = AcquireSignal(signo);
    if (!s.ok()) return s;
  } else {
    signo = -1;
  }
  return std::unique_ptr<StallDetector>(
      new StallDetector(options, std::move(drivers), signo));
}

StallDetector::StallDetector(const StallDetectorOptions& options,
                             std::vector<Driver*> drivers, int signo)
    : threshold_(options.threshold), signo_(signo), sink_(options.sink) {
  const Instant now = RealNow();
  for (Driver* d : drivers) {
    Watch w{d};
    w.since = now;
    watches_.push_back(w);
  }
  thread_ = std::thread([this] { Loop(); });
}

StallDetector::~StallDetector() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (signo_ > 0) ReleaseSignal(signo_);
}

void StallDetector::Loop() {
  // Four looks per threshold: a stall is seen between `threshold` and
  // `threshold` plus two periods after it began.
  const Duration period =
      std::max<Duration>(threshold_ / 4, std::chrono::milliseconds(1));
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    wake_.wait_for(lock, period);
    if (stop_) break;
    lock.unlock();
    Sample(RealNow());
    lock.lock();
  }
}

void StallDetector::Sample(Instant now) {
  for (size_t i = 0; i < watches_.size(); ++i) {
    Watch& w = watches_[i];
    const metrics::WorkerCounters& c = w.driver->counters();
    const uint64_t polls = c.tasks_polled.Get();
    const uint64_t runs = c.runs.Get();
    const uint64_t parks = c.parks.Get();
    // Parked in the backend, or run by nobody: idle, whatever the counts.
    const bool idle = c.parked.load(std::memory_order_relaxed) ||
                      !w.driver->WithRunningThread([](pthread_t) {});
    if (idle || polls != w.polls || runs != w.runs || parks != w.parks) {
      w.polls = polls;
      w.runs = runs;
      w.parks = parks;
      w.since = now;
      w.reported = false;
      continue;
    }
    if (w.reported || now - w.since < threshold_) continue;
    w.reported = true;  // once per stall
    const StallReport report = Describe(static_cast<int>(i), w, now);
    if (!sink_) {
      const std::string text = report.ToString();
      std::fwrite(text.data(), 1, text.size(), stderr);
      continue;
    }
    try {
      sink_(report);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "polyio: the stall detector's sink threw: %s\n",
                   e.what());
    } catch (...) {
      std::fprintf(stderr, "polyio: the stall detector's sink threw\n");
    }
  }
}

StallReport StallDetector::Describe(int i, const Watch& w, Instant now) {
  StallReport report;
  report.worker = i;
  report.stalled_for = now - w.since;
  report.threshold = threshold_;
  report.in_task_poll =
      w.driver->counters().running.load(std::memory_order_relaxed) != nullptr;
  if (signo_ < 0) {
    report.no_stack_trace =
        "no signal to ask the thread for it (StallDetectorOptions::signal)";
    return report;
  }
  TakeStack(w, report);
  return report;
}

void StallDetector::TakeStack(const Watch& w, StallReport& report) {
  MutexLock capture(&capture_mu);
  const metrics::WorkerCounters* counters = &w.driver->counters();
  enum { kNoThread, kSendFailed, kTimedOut, kAnswered } outcome = kNoThread;
  int send_error = 0;
  w.driver->WithRunningThread([&](pthread_t thread) {
    const uint64_t base = ((slot.word.load(std::memory_order_relaxed) >> 3) + 1)
                          << 3;
    slot.target.store(thread, std::memory_order_relaxed);
    slot.counters.store(counters, std::memory_order_relaxed);
    slot.word.store(base | kPending, std::memory_order_release);
    send_error = pthread_kill(thread, signo_);
    const Instant deadline = RealNow() + kAnswerTimeout;
    for (;;) {
      const uint64_t word = slot.word.load(std::memory_order_acquire);
      if ((word & kStateMask) == kDone) {
        outcome = kAnswered;
        return;
      }
      if ((word & kStateMask) == kPending &&
          (send_error != 0 || RealNow() >= deadline)) {
        uint64_t expected = word;
        if (slot.word.compare_exchange_strong(expected, base | kAbandoned,
                                              std::memory_order_acq_rel)) {
          outcome = send_error != 0 ? kSendFailed : kTimedOut;
          return;
        }
        continue;  // the handler has just started: it ends soon
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  switch (outcome) {
    case kNoThread:
      report.no_stack_trace = "the thread left the driver meanwhile";
      return;
    case kSendFailed:
      report.no_stack_trace =
          absl::StrCat("pthread_kill: ", std::strerror(send_error));
      return;
    case kTimedOut:
      KeepHandler(signo_);
      report.no_stack_trace =
          absl::StrCat("the thread did not answer signal ", signo_, " within ",
                       Millis(kAnswerTimeout), " ms (does it block it?)");
      return;
    case kAnswered:
      break;
  }
  if (slot.parked || slot.polls != w.polls || slot.runs != w.runs ||
      slot.parks != w.parks) {
    report.no_stack_trace = "the stall ended before the thread answered";
    return;
  }
  report.in_task_poll = slot.in_task;
  if (slot.in_task) report.spawned_at = slot.spawned_at;
  if (slot.depth <= 0) {
    report.no_stack_trace = "backtrace(3) is not available here";
    return;
  }
  report.stack_trace = Symbolized(slot.frames, slot.depth, slot.interrupted_pc);
}

}  // namespace diagnostics

std::string StallReport::ToString() const {
  std::string out = absl::StrCat(
      "polyio: stall on worker ", worker, ": ",
      in_task_poll ? "one task poll"
                   : "one driver turn (timers, I/O completions or callbacks)",
      " has run for ", diagnostics::Millis(stalled_for), " ms (threshold ",
      diagnostics::Millis(threshold), " ms)\n");
  if (spawned_at.has_value()) {
    absl::StrAppend(&out, "  task spawned at ", spawned_at->file_name(), ":",
                    spawned_at->line(), " (", spawned_at->function_name(),
                    ")\n");
  }
  if (!stack_trace.empty()) {
    absl::StrAppend(&out, "  stack of the stalled thread:\n");
    size_t start = 0;
    while (start < stack_trace.size()) {
      size_t end = stack_trace.find('\n', start);
      if (end == std::string::npos) end = stack_trace.size();
      absl::StrAppend(&out, "    ", stack_trace.substr(start, end - start),
                      "\n");
      start = end + 1;
    }
  } else {
    absl::StrAppend(&out, "  no stack trace: ", no_stack_trace, "\n");
  }
  return out;
}

}  // namespace polyio
