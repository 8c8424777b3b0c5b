// chat run as its users run it: started on port 0, clients connected over
// TCP, what each receives checked, stopped. On the backend this test was
// built for and on both runtimes (the test's parameter).
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "examples/example_process.h"
#include "examples/example_test_support.h"
#include "examples/test_client.h"
#include "gtest/gtest.h"

namespace polyio::examples {
namespace {

// The lines the channel keeps (chat's --history).
constexpr int kHistory = 16;

class ChatTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (std::string why = WhyBackendCannotRun(); !why.empty()) {
      if (BackendRequired()) FAIL() << why;
      GTEST_SKIP() << why;
    }
    absl::StatusOr<std::unique_ptr<ExampleProcess>> server =
        ExampleProcess::Start(
            "examples/chat", {"--port", "0", "--history",
                              absl::StrCat(kHistory), "--runtime", GetParam()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    EXPECT_TRUE(NamesExpectedBackend(server_->banner())) << server_->banner();
  }

  void TearDown() override {
    // OK only if the server was still running: it survived the test.
    if (server_) {
      absl::Status stopped = server_->Stop();
      EXPECT_TRUE(stopped.ok()) << stopped;
    }
  }

  struct Client {
    TestClient connection;
    std::string id;  // "3", from the greeting
  };

  // Connects and reads the greeting. Once it is read, the client is
  // subscribed: it receives every line sent afterwards.
  Client Join(const TestClientOptions& options = {}) {
    absl::StatusOr<TestClient> c =
        TestClient::Connect(server_->port(), options);
    EXPECT_TRUE(c.ok()) << c.status();
    absl::StatusOr<std::string> greeting = c->ReadLine();
    EXPECT_TRUE(greeting.ok()) << greeting.status();
    const std::string prefix = "* you are client ";
    EXPECT_EQ(greeting->rfind(prefix, 0), 0u) << *greeting;
    return Client{
        std::move(*c),
        greeting->substr(prefix.size(), greeting->size() - prefix.size() - 1)};
  }

  std::unique_ptr<ExampleProcess> server_;
};

std::string Line(TestClient& c) {
  absl::StatusOr<std::string> line = c.ReadLine();
  EXPECT_TRUE(line.ok()) << line.status();
  return line.ok() ? *line : "";
}

TEST_P(ChatTest, SendsEachLineToEveryOtherClient) {
  Client a = Join();
  Client b = Join();
  Client c = Join();
  ASSERT_TRUE(a.connection.Send("hello\n").ok());
  EXPECT_EQ(Line(b.connection), a.id + ": hello\n");
  EXPECT_EQ(Line(c.connection), a.id + ": hello\n");
  // Two lines in one send, and one that comes in two pieces.
  ASSERT_TRUE(b.connection.Send("one\ntwo\nthr").ok());
  EXPECT_EQ(Line(c.connection), b.id + ": one\n");
  EXPECT_EQ(Line(c.connection), b.id + ": two\n");
  ASSERT_TRUE(b.connection.Send("ee\n").ok());
  EXPECT_EQ(Line(c.connection), b.id + ": three\n");
  // The sender does not get its own line back: a's "hello" was sent before
  // every line of b's, so it would have come first.
  EXPECT_EQ(Line(a.connection), b.id + ": one\n");
  EXPECT_EQ(Line(a.connection), b.id + ": two\n");
  EXPECT_EQ(Line(a.connection), b.id + ": three\n");
}

// The kernel's ceiling for a socket's send buffer (tcp_wmem's maximum):
// what the server can have queued for a client that does not read.
size_t MaxSendBuffer() {
  std::ifstream f("/proc/sys/net/ipv4/tcp_wmem");
  size_t min = 0, initial = 0, max = 0;
  if (f >> min >> initial >> max) return max;
  return 4 << 20;  // Linux's default
}

TEST_P(ChatTest, ASlowClientLagsWithoutStallingTheOthers) {
  // The slow client reads nothing until the end; a small receive buffer
  // (which also stops the kernel growing it) keeps what it can hold small.
  TestClientOptions small;
  small.receive_buffer = 4096;
  Client slow = Join(small);
  Client writer = Join();
  Client reader = Join();

  // More than the server's socket buffers can hold for the slow client, so
  // that it must fall more than kHistory lines behind and lose lines.
  const std::string padding(1000, 'x');
  const size_t count = 2 * MaxSendBuffer() / padding.size() + 1000;
  auto line = [&](size_t i) {
    return absl::StrCat("line ", i, " ", padding, "\n");
  };
  // The writer sends in rounds of half the history, and the next round
  // only once the reader has received the last: so the reader is never
  // kHistory lines behind, however the server's tasks are scheduled (one
  // client's burst can make every other lag, which is broadcast's rule too),
  // while the slow client falls further behind with every round.
  constexpr size_t kRound = kHistory / 2;
  for (size_t first = 0; first < count; first += kRound) {
    const size_t end = std::min(count, first + kRound);
    std::string round;
    for (size_t i = first; i < end; ++i) round += line(i);
    ASSERT_TRUE(writer.connection.Send(round).ok());
    for (size_t i = first; i < end; ++i) {
      std::string got = Line(reader.connection);
      ASSERT_EQ(got, writer.id + ": " + line(i)) << "line " << i;
    }
  }

  // The slow client now reads all it gets: the lines in order, except
  // where a notice says how many it missed, and that many are missing. It
  // lagged at least once (more often if its writer task also waited for a
  // worker, on the multi-thread runtime), and it ends with the last line.
  size_t next = 0;
  int notices = 0;
  const std::string notice = "* you missed ";
  while (next < count) {
    std::string got = Line(slow.connection);
    if (got.rfind(notice, 0) == 0) {
      ++notices;
      size_t missed = 0;
      ASSERT_TRUE(absl::SimpleAtoi(
          got.substr(notice.size(),
                     got.find(' ', notice.size()) - notice.size()),
          &missed))
          << got;
      next += missed;
      ASSERT_LE(next, count - kHistory) << got;  // the last kHistory stay
      continue;
    }
    ASSERT_EQ(got, writer.id + ": " + line(next)) << "line " << next;
    ++next;
  }
  EXPECT_GE(notices, 1);

  // Caught up, it is an ordinary client again.
  ASSERT_TRUE(reader.connection.Send("welcome back\n").ok());
  EXPECT_EQ(Line(slow.connection), reader.id + ": welcome back\n");
  // The writer's own lines went through its receiver too (it skips them):
  // if its writer task was slow to run meanwhile, it was told it missed
  // some. Then the line.
  std::string got = Line(writer.connection);
  while (got.rfind("* you missed ", 0) == 0) got = Line(writer.connection);
  EXPECT_EQ(got, reader.id + ": welcome back\n");
}

TEST_P(ChatTest, AClientThatLeavesDoesNotDisturbTheOthers) {
  Client a = Join();
  {
    Client gone = Join();
    ASSERT_TRUE(gone.connection.Send("bye\n").ok());
    EXPECT_EQ(Line(a.connection), gone.id + ": bye\n");
    gone.connection.Reset();
  }
  Client b = Join();
  ASSERT_TRUE(b.connection.Send("still here?\n").ok());
  EXPECT_EQ(Line(a.connection), b.id + ": still here?\n");
}

// SIGTERM with a client connected: the server stops accepting, gives the
// client the drain time (1 s), then cancels it — the client sees its
// connection closed, cleanly — and exits 0 saying so.
TEST_P(ChatTest, StopsOnSigtermAndClosesItsClients) {
  Client a = Join();
  absl::StatusOr<std::string> out = server_->Terminate(SIGTERM);
  server_.reset();
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->rfind("chat: SIGTERM: stopped accepting; ", 0), 0u) << *out;
  EXPECT_NE(out->find(" 0 unfinished\n"), std::string::npos) << *out;
  absl::StatusOr<std::string> rest = a.connection.ReadToEnd();
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(*rest, "");
}

INSTANTIATE_TEST_SUITE_P(Runtimes, ChatTest,
                         ::testing::Values("current_thread", "multi_thread"));

}  // namespace
}  // namespace polyio::examples
