// The callback EventLoop, used without coroutines.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<EventLoop> NewLoop() {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  EXPECT_TRUE(loop.ok()) << loop.status();
  return loop.ok() ? std::move(*loop) : nullptr;
}

TEST_F(ConformanceTest, PostsRunInFifoOrder) {
  auto loop = NewLoop();
  std::vector<int> order;
  for (int i = 0; i < 1000; ++i)
    loop->Post([&order, i] { order.push_back(i); });
  loop->Run();  // returns when nothing is left
  ASSERT_EQ(order.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(order[i], i);
}

// Stop() before Run() is not lost (libuv's uv_stop alike): Run returns
// after at most one turn that does not block, however far its next timer.
TEST_F(ConformanceTest, StopBeforeRunMakesRunReturnAtOnce) {
  auto loop = NewLoop();
  bool fired = false;
  TimerHandle far =
      loop->CallAfter(std::chrono::seconds(30), [&fired] { fired = true; });
  loop->Stop();
  Instant start = Now();
  loop->Run();
  EXPECT_LT(Now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(fired);
  // The stop was used up: the next Run runs until it is stopped again.
  loop->Post([&loop] { loop->Stop(); });
  loop->Run();
  far.Cancel();
}

// A Stop() that races Run's start from another thread is not lost either.
TEST_F(ConformanceTest, StopRacingRunFromAnotherThreadIsNotLost) {
  for (int i = 0; i < 50; ++i) {
    auto loop = NewLoop();
    TimerHandle keepalive = loop->CallAfter(std::chrono::seconds(30), [] {});
    std::thread stopper([&loop] { loop->Stop(); });
    Instant start = Now();
    loop->Run();
    stopper.join();
    EXPECT_LT(Now() - start, std::chrono::seconds(5)) << "round " << i;
    keepalive.Cancel();
  }
}

TEST_F(ConformanceTest, PostFromAnotherThreadWakesTheLoop) {
  auto loop = NewLoop();
  bool ran = false;
  // Keeps the loop alive (Run would return with nothing pending).
  TimerHandle keepalive = loop->CallAfter(std::chrono::seconds(30), [] {});
  std::thread other([&] {
    std::this_thread::sleep_for(milliseconds(5));
    loop->Post([&] {
      ran = true;
      loop->Stop();
    });
  });
  Instant start = Now();
  loop->Run();
  other.join();
  EXPECT_TRUE(ran);
  EXPECT_LT(Now() - start, std::chrono::seconds(5));
  keepalive.Cancel();
}

TEST_F(ConformanceTest, CallAfterFiresAndACancelledOneDoesNot) {
  auto loop = NewLoop();
  Instant start = Now();
  Instant fired_at;
  bool cancelled_fired = false;
  loop->CallAfter(milliseconds(3), [&] { fired_at = Now(); });
  TimerHandle doomed =
      loop->CallAfter(milliseconds(1), [&] { cancelled_fired = true; });
  doomed.Cancel();
  loop->Run();
  EXPECT_GE(fired_at - start, milliseconds(3));
  EXPECT_FALSE(cancelled_fired);
}

TEST_F(ConformanceTest, WatchReportsAReadablePipe) {
  auto loop = NewLoop();
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  ASSERT_TRUE(MakeNonBlocking(p[0]).ok());
  uint32_t seen = 0;
  absl::StatusOr<WatchHandle> watch =
      loop->Watch(p[0], kPollIn, [&](uint32_t revents) {
        seen = revents;
        char c;
        ASSERT_EQ(read(p[0], &c, 1), 1);
        watch->Cancel();
      });
  ASSERT_TRUE(watch.ok()) << watch.status();
  loop->CallAfter(milliseconds(2), [&] { ASSERT_EQ(write(p[1], "x", 1), 1); });
  loop->Run();
  EXPECT_TRUE(seen & kPollIn);
  close(p[0]);
  close(p[1]);
}

TEST_F(ConformanceTest, WatchReportsAWritableSocketLevelTriggered) {
  auto loop = NewLoop();
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  ASSERT_TRUE(MakeNonBlocking(sv[0]).ok());
  int calls = 0;
  absl::StatusOr<WatchHandle> watch =
      loop->Watch(sv[0], kPollOut, [&](uint32_t revents) {
        EXPECT_TRUE(revents & kPollOut);
        // Still writable: a level-triggered watch reports it again.
        if (++calls == 3) watch->Cancel();
      });
  ASSERT_TRUE(watch.ok()) << watch.status();
  loop->Run();
  EXPECT_EQ(calls, 3);
  close(sv[0]);
  close(sv[1]);
}

TEST_F(ConformanceTest, WatchOfABadFdIsAClearError) {
  auto loop = NewLoop();
  absl::StatusOr<WatchHandle> watch = loop->Watch(-1, kPollIn, [](uint32_t) {});
  EXPECT_FALSE(watch.ok());
  absl::StatusOr<WatchHandle> none = loop->Watch(0, 0, [](uint32_t) {});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace polyio::testing
