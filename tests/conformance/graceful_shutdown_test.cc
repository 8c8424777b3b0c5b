// Shutting down well: CancellationToken, and Runtime::Shutdown with tasks
// that finish in time and tasks that do not.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using sync::CancellationToken;

TEST_F(ConformanceTest, CancelledCompletesOnceTheTokenIsCancelled) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    CancellationToken token;
    JoinHandle<absl::Status> waiter =
        Spawn([](CancellationToken t) -> Task<absl::Status> {
          co_return co_await t.Cancelled();
        }(token));
    absl::Status yielded = co_await Yield();
    if (!yielded.ok()) co_return yielded;
    EXPECT_FALSE(waiter.finished());
    token.Cancel();
    token.Cancel();  // idempotent
    co_return co_await Timeout(seconds(5), std::move(waiter));
  }());
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, AChildTokenIsCancelledWithItsParentButNotTheReverse) {
  CancellationToken parent;
  CancellationToken child = parent.Child();
  CancellationToken grandchild = child.Child();
  CancellationToken other = parent.Child();
  other.Cancel();
  EXPECT_FALSE(parent.IsCancelled());
  EXPECT_FALSE(child.IsCancelled());
  parent.Cancel();
  EXPECT_TRUE(child.IsCancelled());
  EXPECT_TRUE(grandchild.IsCancelled());
  // Made from a cancelled token: cancelled at once.
  EXPECT_TRUE(parent.Child().IsCancelled());
}

TEST_F(ConformanceTest, ATaskUnderATokenIsCancelledInItsRead) {
  absl::StatusOr<size_t> r = rt().BlockOn([]() -> Task<absl::StatusOr<size_t>> {
    auto [a, b] = StreamPair();
    CancellationToken token;
    std::atomic<int> started{0};
    JoinHandle<absl::StatusOr<size_t>> reader =
        Spawn([](CancellationToken t, TcpStream* s,
                 std::atomic<int>* started) -> Task<absl::StatusOr<size_t>> {
          char buf[16];
          co_return co_await sync::WithCancellation(
              t, CountWhenStarted(s->Read(absl::MakeSpan(buf)), started));
        }(token, &a, &started));
    EXPECT_TRUE(co_await YieldUntil(&started, 1));
    token.Cancel();
    co_return co_await Timeout(seconds(5), std::move(reader));
  }());
  EXPECT_TRUE(absl::IsCancelled(r.status())) << r.status();
}

// tokio's `select! { _ = token.cancelled() => ..., n = stream.read() => ... }`:
// the token's futures are composed like any other, so they must move (before
// their first poll) into Select, Timeout and a task. The read that loses to
// the token keeps its bytes for the next read.
TEST_F(ConformanceTest, TheTokensFuturesComposeInSelectAndTimeout) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    auto [a, b] = StreamPair();
    CancellationToken token;
    char buf[16];
    auto raced = Select(token.Cancelled(), a.Read(absl::MakeSpan(buf)));
    token.Cancel();
    auto r = co_await std::move(raced);
    EXPECT_EQ(r.index(), 0u);
    if (r.index() == 0) {
      EXPECT_TRUE(std::get<0>(r).ok()) << std::get<0>(r);
    }

    // A cancelled token ends a WithCancellation future moved into Timeout.
    CancellationToken second;
    second.Cancel();
    absl::StatusOr<size_t> n = co_await Timeout(
        seconds(5),
        sync::WithCancellation(second, a.Read(absl::MakeSpan(buf))));
    EXPECT_TRUE(absl::IsCancelled(n.status())) << n.status();

    // Nothing was lost on the way: the stream still reads what is sent.
    absl::Status w = co_await b.WriteAll(absl::MakeConstSpan("kept", 4));
    if (!w.ok()) co_return w;
    n = co_await a.Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    EXPECT_EQ(std::string(buf, *n), "kept");
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

// Watches the root token and ends when it is cancelled: a task that drains.
Task<absl::Status> Drains(CancellationToken token, std::atomic<int>* ended) {
  absl::Status s = co_await token.Cancelled();
  ended->fetch_add(1);
  co_return s;
}

// Blocked in a read nobody will satisfy, not watching the token.
Task<absl::Status> Stuck(TcpStream* stream, std::atomic<int>* started,
                         std::atomic<int>* ended) {
  char buf[16];
  absl::StatusOr<size_t> n =
      co_await CountWhenStarted(stream->Read(absl::MakeSpan(buf)), started);
  ended->fetch_add(1);
  co_return n.status();
}

TEST_F(ConformanceTest, ShutdownDrainsWhatFinishesAndCancelsTheRest) {
  std::vector<std::pair<TcpStream, TcpStream>> pairs;
  for (int i = 0; i < 3; ++i) pairs.push_back(StreamPair());
  std::atomic<int> drained{0};
  std::atomic<int> started{0};
  std::atomic<int> stuck_ended{0};
  std::vector<JoinHandle<absl::Status>> handles;
  rt().BlockOn([](Runtime* rt, std::vector<JoinHandle<absl::Status>>* handles,
                  std::vector<std::pair<TcpStream, TcpStream>>* pairs,
                  std::atomic<int>* drained, std::atomic<int>* started,
                  std::atomic<int>* stuck_ended) -> Task<void> {
    for (int i = 0; i < 4; ++i) {
      handles->push_back(Spawn(Drains(rt->root_token(), drained)));
    }
    for (auto& p : *pairs) {
      handles->push_back(Spawn(Stuck(&p.first, started, stuck_ended)));
    }
    EXPECT_TRUE(co_await YieldUntil(started, 3));
  }(&rt(), &handles, &pairs, &drained, &started, &stuck_ended));

  Instant begin = Now();
  ShutdownReport report = rt().Shutdown(milliseconds(200));
  Duration took = Now() - begin;
  EXPECT_EQ(report.finished, 4);
  EXPECT_EQ(report.cancelled, 3);
  EXPECT_EQ(report.unfinished, 0);
  EXPECT_EQ(drained.load(), 4);
  EXPECT_EQ(stuck_ended.load(), 3);
  // It waited for the stuck ones until the deadline, and not much longer.
  EXPECT_GE(took, milliseconds(200));
  EXPECT_LT(took, seconds(5));
  for (auto& h : handles) EXPECT_TRUE(h.finished());

  // No new work after Shutdown: a spawn is refused, and says so.
  JoinHandle<void> late = rt().Spawn([]() -> Task<void> { co_return; }());
  EXPECT_TRUE(late.finished());
}

TEST_F(ConformanceTest, ShutdownWithNothingRunningReturnsAtOnce) {
  Instant begin = Now();
  ShutdownReport report = rt().Shutdown(seconds(30));
  EXPECT_LT(Now() - begin, seconds(5));
  EXPECT_EQ(report.finished, 0);
  EXPECT_EQ(report.cancelled, 0);
  EXPECT_EQ(report.unfinished, 0);
}

}  // namespace
}  // namespace polyio::testing
