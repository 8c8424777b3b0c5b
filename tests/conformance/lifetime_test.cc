// Lifetimes a user's program can get wrong, or race: futures kept past
// Close, JoinHandles raced against timers, finished tasks that still hold
// what they owned, and misuse that must stop with a message, not a crash
// somewhere else or a silent hang.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "platform/source_location.h"
#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kSecret[] = "the second connection's data";

// Two connections in a row on one listener: the first is closed before the
// second is accepted, so the second very likely gets the same fd number.
struct Connections {
  TcpListener listener;
  TcpStream first_client;
  TcpStream first;  // accepted
};

Task<absl::StatusOr<Connections>> FirstConnection() {
  absl::StatusOr<TcpListener> listener =
      TcpListener::Bind(SocketAddress::Loopback4(0));
  if (!listener.ok()) co_return listener.status();
  absl::StatusOr<TcpStream> client =
      co_await TcpStream::Connect(*listener->LocalAddress());
  if (!client.ok()) co_return client.status();
  absl::StatusOr<TcpStream> first = co_await listener->Accept();
  if (!first.ok()) co_return first.status();
  co_return Connections{std::move(*listener), std::move(*client),
                        std::move(*first)};
}

// The second connection's client, which has sent kSecret: connected (in
// the listener's backlog) before the first is closed, so that its own
// socket does not take the freed number — the accepted one does.
Task<absl::StatusOr<TcpStream>> SecondClient(TcpListener *listener) {
  absl::StatusOr<TcpStream> client =
      co_await TcpStream::Connect(*listener->LocalAddress());
  if (!client.ok()) co_return client.status();
  absl::Status w = co_await client->WriteAll(absl::MakeConstSpan(kSecret));
  if (!w.ok()) co_return w;
  co_return client;
}

// One round; says whether the second connection took the first one's fd
// number, which is what makes the round bite.
Task<absl::StatusOr<bool>> StaleFuturesNeverTouchTheNextConnection() {
  absl::StatusOr<Connections> c = co_await FirstConnection();
  if (!c.ok()) co_return c.status();
  char read_buf[64] = {};
  const char reply[] = "meant for the first client";
  // Made before Close, awaited after: the stream they came from is gone.
  auto stale_read = c->first.Read(absl::MakeSpan(read_buf));
  auto stale_write = c->first.Write(absl::MakeConstSpan(reply));
  const int old_fd = c->first.fd();
  absl::StatusOr<TcpStream> second_client = co_await SecondClient(&c->listener);
  if (!second_client.ok()) co_return second_client.status();
  absl::Status closed = c->first.Close();
  if (!closed.ok()) co_return closed;
  absl::StatusOr<TcpStream> second = co_await c->listener.Accept();
  if (!second.ok()) co_return second.status();
  const bool reused = second->fd() == old_fd;
  absl::StatusOr<size_t> n = co_await stale_read;
  EXPECT_EQ(n.status().code(), absl::StatusCode::kFailedPrecondition)
      << (n.ok() ? absl::StrCat("read ", *n, " bytes of another connection: ",
                                absl::string_view(read_buf, *n))
                 : n.status().ToString());
  absl::StatusOr<size_t> w = co_await stale_write;
  EXPECT_EQ(w.status().code(), absl::StatusCode::kFailedPrecondition)
      << (w.ok() ? "wrote to another connection" : w.status().ToString());
  // The new connection still has all its bytes, and nothing else.
  std::string got;
  while (got.size() < sizeof(kSecret)) {
    char buf[64];
    absl::StatusOr<size_t> r =
        co_await Timeout(seconds(5), second->Read(absl::MakeSpan(buf)));
    if (!r.ok()) co_return r.status();
    got.append(buf, *r);
  }
  EXPECT_EQ(got, std::string(kSecret, sizeof(kSecret)));
  co_return reused;
}

// The kernel gives the lowest free number, so the second connection
// takes the first one's — unless another thread (a worker, a blocking-pool
// thread, libkqueue's) freed a lower one meanwhile. Rounds are repeated
// until one has reused the number; every round must be safe.
TEST_F(ConformanceTest, FuturesMadeBeforeCloseNeverTouchTheFdsNextOwner) {
  constexpr int kRounds = 8;
  int reused = 0;
  for (int round = 0; round < kRounds && reused == 0; ++round) {
    absl::StatusOr<bool> r =
        rt().BlockOn(StaleFuturesNeverTouchTheNextConnection());
    ASSERT_TRUE(r.ok()) << r.status();
    reused += *r ? 1 : 0;
  }
  EXPECT_GT(reused, 0) << "in " << kRounds
                       << " rounds the fd number was never reused: the test "
                          "proved nothing about the fd's next owner";
}

Task<absl::Status> InFlightReadEndsAtClose() {
  absl::StatusOr<Connections> c = co_await FirstConnection();
  if (!c.ok()) co_return c.status();
  JoinHandle<absl::StatusOr<std::string>> reader =
      Spawn([](TcpStream *s) -> Task<absl::StatusOr<std::string>> {
        char buf[64];
        absl::StatusOr<size_t> n = co_await s->Read(absl::MakeSpan(buf));
        if (!n.ok()) co_return n.status();
        co_return std::string(buf, *n);
      }(&c->first));
  // Wherever the reader is (not started, parked, in the kernel), Close
  // must end it; it must never see the next connection's bytes.
  absl::Status yielded = co_await Yield();
  if (!yielded.ok()) co_return yielded;
  absl::StatusOr<TcpStream> second_client = co_await SecondClient(&c->listener);
  if (!second_client.ok()) co_return second_client.status();
  absl::Status closed = c->first.Close();
  if (!closed.ok()) co_return closed;
  absl::StatusOr<TcpStream> second = co_await c->listener.Accept();
  if (!second.ok()) co_return second.status();
  absl::StatusOr<std::string> got = co_await reader;
  EXPECT_FALSE(got.ok()) << "a closed stream read \"" << *got << "\"";
  if (!got.ok()) {
    EXPECT_TRUE(absl::IsCancelled(got.status()) ||
                absl::IsFailedPrecondition(got.status()))
        << got.status();
  }
  co_return absl::OkStatus();
}

TEST_F(ConformanceTest, ClosingAStreamEndsItsInFlightReadWithoutReuse) {
  absl::Status s = rt().BlockOn(InFlightReadEndsAtClose());
  EXPECT_TRUE(s.ok()) << s;
}

Task<absl::Status> AcceptMadeBeforeListenerClose() {
  absl::StatusOr<TcpListener> listener =
      TcpListener::Bind(SocketAddress::Loopback4(0));
  if (!listener.ok()) co_return listener.status();
  auto stale = listener->Accept();
  listener->Close();
  // Another listener, very likely on the same fd number, with a client.
  absl::StatusOr<TcpListener> other =
      TcpListener::Bind(SocketAddress::Loopback4(0));
  if (!other.ok()) co_return other.status();
  absl::StatusOr<TcpStream> client =
      co_await TcpStream::Connect(*other->LocalAddress());
  if (!client.ok()) co_return client.status();
  absl::StatusOr<TcpStream> s = co_await stale;
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition)
      << (s.ok() ? "accepted another listener's connection"
                 : s.status().ToString());
  // The other listener still has its connection.
  absl::StatusOr<TcpStream> mine =
      co_await Timeout(seconds(5), other->Accept());
  EXPECT_TRUE(mine.ok()) << mine.status();
  co_return absl::OkStatus();
}

TEST_F(ConformanceTest, AcceptMadeBeforeCloseNeverTakesAnotherListeners) {
  absl::Status s = rt().BlockOn(AcceptMadeBeforeListenerClose());
  EXPECT_TRUE(s.ok()) << s;
}

// ------------------------------------------------- JoinHandle cancellation

// Waits until `release` turns true (or 10 s), then marks `done`.
Task<void> WaitForRelease(std::shared_ptr<std::atomic<bool>> release,
                          std::shared_ptr<std::atomic<bool>> done) {
  for (int i = 0; i < 10000 && !release->load(); ++i) {
    absl::Status s = co_await Sleep(milliseconds(1));
    if (!s.ok()) co_return;
  }
  done->store(true);
}

Task<absl::Status> WaitUntilTrue(const std::atomic<bool> *flag) {
  for (int i = 0; i < 10000 && !flag->load(); ++i) {
    absl::Status s = co_await Sleep(milliseconds(1));
    if (!s.ok()) co_return s;
  }
  if (!flag->load()) co_return absl::DeadlineExceededError("not within 10 s");
  co_return absl::OkStatus();
}

TEST_F(ConformanceTest, TimeoutAroundAJoinHandleTimesOutAndTheTaskRunsOn) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    auto release = std::make_shared<std::atomic<bool>>(false);
    auto done = std::make_shared<std::atomic<bool>>(false);
    JoinHandle<void> handle = Spawn(WaitForRelease(release, done));
    Instant start = Now();
    absl::Status waited =
        co_await Timeout(milliseconds(100), std::move(handle));
    Duration took = Now() - start;
    EXPECT_TRUE(absl::IsDeadlineExceeded(waited)) << waited;
    EXPECT_LT(took, seconds(5)) << "the timeout waited for the task";
    // Stopping the wait did not stop the task (tokio's JoinHandle alike).
    EXPECT_FALSE(done->load());
    release->store(true);
    co_return co_await WaitUntilTrue(done.get());
  }());
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, AJoinHandleLosesAWhenAnyToATimer) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    auto release = std::make_shared<std::atomic<bool>>(false);
    auto done = std::make_shared<std::atomic<bool>>(false);
    auto r = co_await WhenAny(Spawn(WaitForRelease(release, done)),
                              Sleep(milliseconds(20)));
    EXPECT_EQ(r.index(), 1u);
    release->store(true);
    co_return co_await WaitUntilTrue(done.get());
  }());
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, ACancelledAwaiterStillGetsAResultThatIsReady) {
  absl::StatusOr<int> v = rt().BlockOn([]() -> Task<absl::StatusOr<int>> {
    JoinHandle<int> h = Spawn([]() -> Task<int> { co_return 42; }());
    while (!h.finished()) {
      absl::Status y = co_await Yield();
      if (!y.ok()) co_return y;
    }
    // Aborted before its first poll: its await of the finished task finds
    // the result there, and a result that is there is never dropped in
    // favour of CancelledError.
    JoinHandle<absl::StatusOr<int>> awaiter =
        Spawn([](JoinHandle<int> h) -> Task<absl::StatusOr<int>> {
          co_return co_await h;
        }(std::move(h)));
    awaiter.Abort();
    co_return co_await awaiter;
  }());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, 42);
}

// ----------------------------------------- finished tasks free their frame

TEST_F(ConformanceTest, AFinishedTaskDropsWhatItOwnedBeforeItIsJoined) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    auto [tx, rx] = sync::mpsc::Channel<int>(4);
    // The Sender is the task's parameter: it lives in the task's frame.
    JoinHandle<void> handle =
        Spawn([](sync::mpsc::Sender<int> sender) -> Task<void> {
          (void)sender;
          co_return;
        }(std::move(tx)));
    // The handle is still held: only the result may wait for it.
    absl::StatusOr<int> got = co_await Timeout(seconds(5), rx.Recv());
    EXPECT_TRUE(absl::IsOutOfRange(got.status()))
        << "the channel stayed open after its last sender's task ended: "
        << got.status();
    co_return co_await handle;
  }());
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, AFinishedTaskClosesTheStreamItOwnedBeforeItIsJoined) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    auto [mine, theirs] = StreamPair();
    JoinHandle<int> handle = Spawn([](TcpStream owned) -> Task<int> {
      co_return owned.fd();
    }(std::move(theirs)));
    char buf[8];
    absl::StatusOr<size_t> n =
        co_await Timeout(seconds(5), mine.Read(absl::MakeSpan(buf)));
    EXPECT_TRUE(n.ok() && *n == 0)
        << "the peer did not see end of stream while the handle was held: "
        << (n.ok() ? absl::StrCat(*n, " bytes") : n.status().ToString());
    absl::StatusOr<int> fd = co_await handle;
    co_return fd.status();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, AFinishedTasksResultWaitsForItsHandle) {
  absl::StatusOr<std::string> v =
      rt().BlockOn([]() -> Task<absl::StatusOr<std::string>> {
        JoinHandle<std::string> h =
            Spawn([]() -> Task<std::string> { co_return "kept"; }());
        while (!h.finished()) {
          absl::Status y = co_await Yield();
          if (!y.ok()) co_return y;
        }
        co_return co_await h;
      }());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, "kept");
}

// ------------------------------------------------ misuse stops, with words

using ConformanceDeathTest = ConformanceTest;

TEST_F(ConformanceDeathTest, BlockOnInsideATaskStopsWithAMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        rt().BlockOn([](Runtime *rt) -> Task<void> {
          rt->BlockOn([]() -> Task<void> { co_return; }());
          co_return;
        }(&rt()));
      },
      "polyio: Runtime::BlockOn called from inside a task");
}

// Binds a listener to a runtime's driver (one Accept), destroys the
// runtime, then the listener.
void CloseListenerAfterItsRuntime(const RuntimeOptions &options) {
  std::optional<TcpListener> listener;
  {
    absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create(options);
    listener.emplace(
        std::move(*TcpListener::Bind(SocketAddress::Loopback4(0))));
    (*rt)->BlockOn([](TcpListener *l) -> Task<void> {
      absl::StatusOr<TcpStream> s =
          co_await Timeout(milliseconds(1), l->Accept());
      (void)s;
    }(&*listener));
  }
  listener.reset();
}

// The same with a stream (one Read binds it).
void CloseStreamAfterItsRuntime(const RuntimeOptions &options) {
  std::optional<std::pair<TcpStream, TcpStream>> pair;
  {
    absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create(options);
    pair.emplace(StreamPair());
    (*rt)->BlockOn([](TcpStream *s) -> Task<void> {
      char buf[4];
      absl::StatusOr<size_t> n =
          co_await Timeout(milliseconds(1), s->Read(absl::MakeSpan(buf)));
      (void)n;
    }(&pair->first));
  }
  pair.reset();
}

TEST_F(ConformanceDeathTest, AListenerOutlivingItsRuntimeStopsWithAMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(CloseListenerAfterItsRuntime(Options()),
               "polyio: a TcpListener was closed after the Runtime");
}

TEST_F(ConformanceDeathTest, AStreamOutlivingItsRuntimeStopsWithAMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(CloseStreamAfterItsRuntime(Options()),
               "polyio: a TcpStream was closed after the Runtime");
}

// ---------------------------------------- exceptions of detached tasks

TEST_F(ConformanceTest, AnExceptionEscapingADetachedTaskReachesTheHook) {
  struct Seen {
    std::atomic<int> calls{0};
    std::string file;
    int line = 0;
    std::string what;
  };
  static Seen *seen = nullptr;
  Seen local;
  seen = &local;
  DetachedTaskExceptionHook previous = SetDetachedTaskExceptionHook(
      [](std::exception_ptr e, SourceLocation where) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception &ex) {
          seen->what = ex.what();
        }
        seen->file = where.file_name();
        seen->line = static_cast<int>(where.line());
        seen->calls.fetch_add(1);
      });
  int spawn_line = 0;
  absl::Status s = rt().BlockOn([](int *line) -> Task<absl::Status> {
    *line = __LINE__ + 1;
    Spawn([]() -> Task<void> {
      throw std::runtime_error("nobody awaits me");
      co_return;
    }())
        .Detach();
    for (int i = 0; i < 10000 && seen->calls.load() == 0; ++i) {
      absl::Status slept = co_await Sleep(milliseconds(1));
      if (!slept.ok()) co_return slept;
    }
    co_return absl::OkStatus();
  }(&spawn_line));
  SetDetachedTaskExceptionHook(previous);
  seen = nullptr;
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(local.calls.load(), 1);
  EXPECT_EQ(local.what, "nobody awaits me");
  EXPECT_NE(local.file.find("lifetime_test.cc"), std::string::npos)
      << local.file;
  EXPECT_EQ(local.line, spawn_line);
}

TEST_F(ConformanceTest, TheDefaultHookNamesTheDetachedTasksSpawnSite) {
  ::testing::internal::CaptureStderr();
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    auto done = std::make_shared<std::atomic<bool>>(false);
    Spawn([](std::shared_ptr<std::atomic<bool>> done) -> Task<void> {
      done->store(true);
      throw std::runtime_error("lost in the default hook");
      co_return;
    }(done))
        .Detach();
    co_return co_await WaitUntilTrue(done.get());
  }());
  // The hook runs as the task ends, on the thread that ran it (a worker on
  // the multi-thread runtime): after destroying the runtime, it has run.
  rt_.reset();
  std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_NE(err.find("lost in the default hook"), std::string::npos) << err;
  EXPECT_NE(err.find("lifetime_test.cc"), std::string::npos) << err;
}

}  // namespace
}  // namespace polyio::testing
