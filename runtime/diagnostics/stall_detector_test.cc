// The stall detector's own contract, on the current-thread runtime and the
// default backend (tests/conformance/stall_detector_test.cc runs the
// user-level cases on every backend and both runtimes): one report per
// stall, however many times the watchdog looks; a stuck callback is a
// stalled turn, with no task; the options are checked; the signal's
// disposition is restored when the last detector goes; the default sink
// writes to stderr.
#include <signal.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "polyio.h"

namespace polyio {
namespace {

using std::chrono::milliseconds;

struct Reports {
  std::mutex mu;
  std::vector<StallReport> list;

  std::vector<StallReport> Take() {
    std::lock_guard<std::mutex> lock(mu);
    return list;
  }
};

StallDetectorOptions Collecting(Duration threshold,
                                std::shared_ptr<Reports> reports) {
  StallDetectorOptions o;
  o.enabled = true;
  o.threshold = threshold;
  o.sink = [reports](const StallReport& r) {
    std::lock_guard<std::mutex> lock(reports->mu);
    reports->list.push_back(r);
  };
  return o;
}

std::unique_ptr<Runtime> Create(const StallDetectorOptions& detector) {
  RuntimeOptions options;
  options.stall_detector = detector;
  absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create(options);
  EXPECT_TRUE(rt.ok()) << rt.status();
  return rt.ok() ? std::move(*rt) : nullptr;
}

[[gnu::noinline]] void BlockTheThread(milliseconds how_long) {
  std::this_thread::sleep_for(how_long);
  asm volatile("" ::: "memory");  // no tail call: keep this frame
}

std::string All(const std::vector<StallReport>& reports) {
  std::string all;
  for (const StallReport& r : reports) all += r.ToString();
  return all;
}

bool Spawned(const StallReport& r, unsigned line) {
  return r.spawned_at.has_value() && r.spawned_at->line() == line &&
         std::string(r.spawned_at->file_name())
                 .find("stall_detector_test.cc") != std::string::npos;
}

TEST(StallDetectorTest, ReportsEachStallOnce) {
  auto reports = std::make_shared<Reports>();
  std::unique_ptr<Runtime> rt = Create(Collecting(milliseconds(40), reports));
  ASSERT_NE(rt, nullptr);
  // Two polls of one task, each blocked for ten thresholds (forty looks of
  // the watchdog), with a yield between them.
  const unsigned line = rt->BlockOn([]() -> Task<unsigned> {
    const unsigned line = __LINE__ + 1;
    JoinHandle<void> h = Spawn([]() -> Task<void> {
      BlockTheThread(milliseconds(400));
      co_await Yield();
      BlockTheThread(milliseconds(400));
    }());
    co_await h;
    co_return line;
  }());
  rt.reset();
  int ours = 0;
  for (const StallReport& r : reports->Take()) ours += Spawned(r, line);
  EXPECT_EQ(ours, 2) << All(reports->Take());
}

TEST(StallDetectorTest, AStuckCallbackIsAStalledTurnWithNoTask) {
  auto reports = std::make_shared<Reports>();
  std::unique_ptr<Runtime> rt = Create(Collecting(milliseconds(40), reports));
  ASSERT_NE(rt, nullptr);
  rt->loop().Post([] { BlockTheThread(milliseconds(400)); });
  rt->BlockOn([]() -> Task<void> { co_await Sleep(milliseconds(1)); }());
  rt.reset();
  int turns = 0;
  for (const StallReport& r : reports->Take()) {
    if (r.in_task_poll) continue;
    ++turns;
    EXPECT_FALSE(r.spawned_at.has_value());
    EXPECT_NE(r.stack_trace.find("BlockTheThread"), std::string::npos)
        << r.ToString();
    EXPECT_NE(r.ToString().find("one driver turn"), std::string::npos);
  }
  EXPECT_EQ(turns, 1) << All(reports->Take());
}

TEST(StallDetectorTest, WithoutASignalReportsWithoutStackOrSpawnSite) {
  auto reports = std::make_shared<Reports>();
  StallDetectorOptions options = Collecting(milliseconds(40), reports);
  options.signal = -1;
  std::unique_ptr<Runtime> rt = Create(options);
  ASSERT_NE(rt, nullptr);
  rt->BlockOn([]() -> Task<void> {
    EXPECT_TRUE((co_await Spawn([]() -> Task<void> {
                  BlockTheThread(milliseconds(400));
                  co_return;
                }()))
                    .ok());
  }());
  rt.reset();
  const std::vector<StallReport> got = reports->Take();
  ASSERT_FALSE(got.empty());
  bool in_task = false;
  for (const StallReport& r : got) {
    in_task |= r.in_task_poll;
    EXPECT_FALSE(r.spawned_at.has_value());
    EXPECT_EQ(r.stack_trace, "");
    EXPECT_NE(r.ToString().find("no stack trace: no signal"), std::string::npos)
        << r.ToString();
  }
  EXPECT_TRUE(in_task) << All(got);
}

TEST(StallDetectorTest, RefusesBadOptionsNamingThem) {
  StallDetectorOptions options;
  options.enabled = true;
  options.threshold = Duration::zero();
  RuntimeOptions rt_options;
  rt_options.stall_detector = options;
  absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create(rt_options);
  ASSERT_FALSE(rt.ok());
  EXPECT_EQ(rt.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(rt.status().message().find("stall_detector.threshold"),
            std::string::npos)
      << rt.status();

  rt_options.stall_detector.threshold = milliseconds(100);
  rt_options.stall_detector.signal = SIGUSR1;
  rt = Runtime::Create(rt_options);
  ASSERT_FALSE(rt.ok());
  EXPECT_EQ(rt.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(rt.status().message().find("stall_detector.signal"),
            std::string::npos)
      << rt.status();

  // A real-time signal the program already handles is not taken over.
  const int taken = SIGRTMAX - 5;
  struct sigaction mine {};
  mine.sa_handler = [](int) {};
  sigemptyset(&mine.sa_mask);
  struct sigaction before;
  ASSERT_EQ(sigaction(taken, &mine, &before), 0);
  rt_options.stall_detector.signal = taken;
  rt = Runtime::Create(rt_options);
  ASSERT_FALSE(rt.ok());
  EXPECT_EQ(rt.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(rt.status().message().find("already has a handler"),
            std::string::npos)
      << rt.status();
  struct sigaction now;
  ASSERT_EQ(sigaction(taken, &before, &now), 0);
  EXPECT_EQ(now.sa_handler, mine.sa_handler);  // left as it was
}

TEST(StallDetectorTest, RestoresTheSignalWhenTheLastDetectorGoes) {
  const int signo = diagnostics::StallDetector::DefaultSignal();
  auto disposition = [signo] {
    struct sigaction sa;
    EXPECT_EQ(sigaction(signo, nullptr, &sa), 0);
    return (sa.sa_flags & SA_SIGINFO) ? reinterpret_cast<void*>(sa.sa_sigaction)
                                      : reinterpret_cast<void*>(sa.sa_handler);
  };
  void* const before = disposition();
  ASSERT_EQ(before, reinterpret_cast<void*>(SIG_DFL));
  StallDetectorOptions options;
  options.enabled = true;
  std::unique_ptr<Runtime> a = Create(options);
  std::unique_ptr<Runtime> b = Create(options);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(disposition(), before);
  a.reset();
  EXPECT_NE(disposition(), before);  // b still uses it
  b.reset();
  EXPECT_EQ(disposition(), before);
  // Off (the default): nothing installed.
  std::unique_ptr<Runtime> off = Create(StallDetectorOptions{});
  EXPECT_EQ(disposition(), before);
}

TEST(StallDetectorTest, TheDefaultSinkWritesToStderr) {
  StallDetectorOptions options;
  options.enabled = true;
  options.threshold = milliseconds(40);
  std::unique_ptr<Runtime> rt = Create(options);
  ASSERT_NE(rt, nullptr);
  ::testing::internal::CaptureStderr();
  rt->BlockOn([]() -> Task<void> {
    BlockTheThread(milliseconds(400));
    co_return;
  }());
  rt.reset();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("polyio: stall on worker 0: one task poll has run for "),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("BlockTheThread"), std::string::npos) << err;
}

}  // namespace
}  // namespace polyio
