// The stall detector (RuntimeOptions::stall_detector) from the user's side,
// on both runtimes and every backend: a task that blocks its thread inside
// a poll is reported once, with its spawn location and a stack that shows
// the blocking call; a busy runtime and an idle one report nothing.
//
// Thresholds are chosen for a loaded 2-core machine under the sanitizers:
// the blocking poll lasts ten thresholds, and the busy runtime runs three
// times a threshold (500 ms) of polls that each take microseconds.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::milliseconds;

// What a sink received.
struct Reports {
  std::mutex mu;
  std::vector<StallReport> list;

  std::vector<StallReport> Take() {
    std::lock_guard<std::mutex> lock(mu);
    return list;
  }
};

// The fixture's runtime options (`options`), with a detector that reports
// to `reports`.
std::unique_ptr<Runtime> WithDetector(RuntimeOptions options,
                                      Duration threshold,
                                      std::shared_ptr<Reports> reports) {
  options.stall_detector.enabled = true;
  options.stall_detector.threshold = threshold;
  options.stall_detector.sink = [reports](const StallReport& r) {
    std::lock_guard<std::mutex> lock(reports->mu);
    reports->list.push_back(r);
  };
  absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create(options);
  EXPECT_TRUE(rt.ok()) << rt.status();
  return rt.ok() ? std::move(*rt) : nullptr;
}

bool FromThisFile(const SourceLocation& where) {
  return std::string(where.file_name()).find("stall_detector_test.cc") !=
         std::string::npos;
}

// Blocks the calling thread, as a task must never do. Not inlined, and not
// ending in a tail call, so that it is a frame of the stack the report
// shows. (std::this_thread::sleep_for goes on through EINTR.)
[[gnu::noinline]] void BlockTheThread(milliseconds how_long) {
  std::this_thread::sleep_for(how_long);
  asm volatile("" ::: "memory");
}

Task<void> BlockingPoll(milliseconds how_long) {
  BlockTheThread(how_long);
  co_return;
}

TEST_F(ConformanceTest, StallDetectorReportsABlockingPollWithItsSpawnSite) {
  auto reports = std::make_shared<Reports>();
  std::unique_ptr<Runtime> rt =
      WithDetector(Options(), milliseconds(50), reports);
  ASSERT_NE(rt, nullptr);
  const unsigned line = rt->BlockOn([]() -> Task<unsigned> {
    const unsigned line = __LINE__ + 1;
    JoinHandle<void> h = Spawn(BlockingPoll(milliseconds(500)));
    co_await h;
    co_return line;
  }());
  rt.reset();  // stops the watchdog: no report comes later

  int ours = 0;
  std::string all;
  for (const StallReport& r : reports->Take()) {
    all += r.ToString();
    if (!r.spawned_at.has_value() || !FromThisFile(*r.spawned_at) ||
        r.spawned_at->line() != line) {
      continue;  // a slow moment of the machine, not the blocking poll
    }
    ++ours;
    EXPECT_TRUE(r.in_task_poll);
    EXPECT_GE(r.stalled_for, milliseconds(50));
    EXPECT_EQ(r.threshold, milliseconds(50));
    EXPECT_GE(r.worker, 0);
    EXPECT_LT(r.worker, MultiThread() ? 2 : 1);
    EXPECT_NE(r.stack_trace.find("BlockTheThread"), std::string::npos)
        << r.ToString();
    const std::string text = r.ToString();
    EXPECT_NE(text.find("polyio: stall on worker " + std::to_string(r.worker) +
                        ": one task poll has run for "),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("stall_detector_test.cc:" + std::to_string(line)),
              std::string::npos)
        << text;
  }
  // Once for the whole stall, not at every look of the watchdog.
  EXPECT_EQ(ours, 1) << all;
}

TEST_F(ConformanceTest, StallDetectorStaysQuietOnABusyRuntime) {
  auto reports = std::make_shared<Reports>();
  std::unique_ptr<Runtime> rt =
      WithDetector(Options(), milliseconds(500), reports);
  ASSERT_NE(rt, nullptr);
  // 1.5 s of short polls: tasks that yield, and a ping-pong over a socket.
  rt->BlockOn([]() -> Task<void> {
    const Instant end = RealNow() + milliseconds(1500);
    std::vector<JoinHandle<void>> spinners;
    for (int i = 0; i < 4; ++i) {
      spinners.push_back(Spawn([](Instant end) -> Task<void> {
        while (RealNow() < end) co_await Yield();
      }(end)));
    }
    auto [a, b] = StreamPair();
    JoinHandle<absl::Status> echo = Spawn(EchoConnection(std::move(b)));
    char buf[4];
    while (RealNow() < end) {
      EXPECT_TRUE((co_await a.WriteAll(absl::MakeConstSpan("ping", 4))).ok());
      EXPECT_TRUE((co_await ReadExact(a, absl::MakeSpan(buf))).ok());
    }
    EXPECT_TRUE(a.Close().ok());
    EXPECT_TRUE((co_await echo).ok());
    for (auto& s : spinners) co_await s;
  }());
  rt.reset();
  std::string all;
  for (const StallReport& r : reports->Take()) all += r.ToString();
  EXPECT_EQ(all, "");
}

TEST_F(ConformanceTest, StallDetectorStaysQuietOnAnIdleRuntime) {
  auto reports = std::make_shared<Reports>();
  std::unique_ptr<Runtime> rt =
      WithDetector(Options(), milliseconds(50), reports);
  ASSERT_NE(rt, nullptr);
  // Ten thresholds asleep in the backend (a timer), then ten with no
  // BlockOn at all (on the current-thread runtime nobody runs the driver).
  rt->BlockOn([]() -> Task<void> { co_await Sleep(milliseconds(500)); }());
  std::this_thread::sleep_for(milliseconds(500));
  rt.reset();
  std::string all;
  for (const StallReport& r : reports->Take()) all += r.ToString();
  EXPECT_EQ(all, "");
}

}  // namespace
}  // namespace polyio::testing
