// echo_server run as its users run it: started on port 0, talked to with a
// plain client and with examples/echo_client (which checks every byte it
// gets back), stopped. On the backend this test was built for.
#include <signal.h>

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "examples/example_process.h"
#include "examples/example_test_support.h"
#include "examples/test_client.h"
#include "gtest/gtest.h"

namespace polyio::examples {
namespace {

class EchoServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = WhyBackendCannotRun(); !why.empty()) {
      if (BackendRequired()) FAIL() << why;
      GTEST_SKIP() << why;
    }
    absl::StatusOr<std::unique_ptr<ExampleProcess>> server =
        ExampleProcess::Start("examples/echo_server", {"--port", "0"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  void TearDown() override {
    // OK only if the server was still running: it survived the test.
    if (server_) {
      absl::Status stopped = server_->Stop();
      EXPECT_TRUE(stopped.ok()) << stopped;
    }
  }

  std::unique_ptr<ExampleProcess> server_;
};

TEST_F(EchoServerTest, EchoesWhatItReads) {
  absl::StatusOr<TestClient> client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(client->Send("hello\n").ok());
  absl::StatusOr<std::string> line = client->ReadLine();
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(*line, "hello\n");
}

TEST_F(EchoServerTest, EchoesEveryByteOfEchoClientsStreams) {
  absl::StatusOr<int> exit =
      RunToEnd("examples/echo_client", {"--port", absl::StrCat(server_->port()),
                                        "--bytes", "8M", "--connections", "4"});
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(*exit, 0);
}

// SIGTERM with nothing open: the server stops at once, says so, exits 0.
TEST_F(EchoServerTest, SigtermStopsItCleanly) {
  absl::StatusOr<std::string> out = server_->Terminate(SIGTERM);
  server_.reset();
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out,
            "echo_server: SIGTERM: stopped accepting; 0 tasks finished, 0 "
            "cancelled, 0 unfinished\n");
}

// SIGINT (Ctrl-C) while a client is connected: no new connections, the
// open one is still served until its client leaves, then the server exits
// 0 counting it as finished.
TEST_F(EchoServerTest, SigintDrainsTheOpenConnection) {
  absl::StatusOr<TestClient> client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(client->Send("before\n").ok());
  ASSERT_EQ(client->ReadLine().value_or(""), "before\n");
  const uint16_t port = server_->port();
  std::future<absl::StatusOr<std::string>> out = std::async(
      std::launch::async, [&] { return server_->Terminate(SIGINT); });
  // The listener closes once the signal is in: connecting is then refused.
  EXPECT_TRUE(WaitUntilRefused(port, std::chrono::seconds(5)))
      << "still accepting 5 s after SIGINT";
  ASSERT_TRUE(client->Send("after\n").ok());
  EXPECT_EQ(client->ReadLine().value_or(""), "after\n");
  client = absl::StatusOr<TestClient>(absl::CancelledError("closed"));
  absl::StatusOr<std::string> report = out.get();
  server_.reset();
  ASSERT_TRUE(report.ok()) << report.status();
  // Finished: the client's connection, and any probe accepted just before
  // the listener closed.
  EXPECT_EQ(report->rfind("echo_server: SIGINT: stopped accepting; ", 0), 0u)
      << *report;
  EXPECT_NE(report->find(" tasks finished, 0 cancelled, 0 unfinished\n"),
            std::string::npos)
      << *report;
}

}  // namespace
}  // namespace polyio::examples
