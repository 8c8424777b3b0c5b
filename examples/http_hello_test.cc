// http_hello run as its users run it: started on port 0, talked to over
// TCP, its answers checked byte for byte, stopped. On the backend this test
// was built for and on both runtimes (the test's parameter).
#include <signal.h>

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "examples/example_process.h"
#include "examples/example_test_support.h"
#include "examples/test_client.h"
#include "gtest/gtest.h"

namespace polyio::examples {
namespace {

constexpr std::string_view kGet = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
constexpr std::string_view kHello =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n"
    "\r\nHello, World!\n";
constexpr std::string_view kHelloKeepAlive =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n"
    "Connection: keep-alive\r\n\r\nHello, World!\n";
constexpr std::string_view kHelloClose =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n"
    "Connection: close\r\n\r\nHello, World!\n";
constexpr std::string_view kNotAllowed =
    "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\nContent-Length: 0\r\n"
    "\r\n";
constexpr std::string_view kBadRequest =
    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n"
    "\r\n";
constexpr std::string_view kHeadTooLarge =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n"
    "Connection: close\r\n\r\n";

class HttpHelloTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (std::string why = WhyBackendCannotRun(); !why.empty()) {
      if (BackendRequired()) FAIL() << why;
      GTEST_SKIP() << why;
    }
    absl::StatusOr<std::unique_ptr<ExampleProcess>> server =
        ExampleProcess::Start("examples/http_hello",
                              {"--port", "0", "--runtime", GetParam()});
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

  TestClient Connect() {
    absl::StatusOr<TestClient> client = TestClient::Connect(server_->port());
    EXPECT_TRUE(client.ok()) << client.status();
    return std::move(*client);
  }

  std::unique_ptr<ExampleProcess> server_;
};

std::string Read(absl::StatusOr<std::string> bytes) {
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : "";
}

TEST_P(HttpHelloTest, ServesTheRuntimesMetricsAtSlashMetrics) {
  {
    // Some traffic first, so that the counters have moved.
    TestClient client = Connect();
    ASSERT_TRUE(client.Send(kGet).ok());
    EXPECT_EQ(Read(client.ReadHttpResponse()), kHello);
  }
  TestClient client = Connect();
  ASSERT_TRUE(client.Send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n").ok());
  const std::string response = Read(client.ReadHttpResponse());
  EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << response;
  EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4\r\n"),
            std::string::npos);
  EXPECT_NE(response.find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(response.find("# TYPE polyio_tasks_spawned_total counter\n"),
            std::string::npos)
      << response;
  EXPECT_NE(response.find("polyio_worker_tasks_polled_total{worker=\"0\"} "),
            std::string::npos);
  EXPECT_NE(response.find(std::string("flavor=\"") + GetParam() + "\""),
            std::string::npos)
      << response;
  // Operations were counted by kind (the hello connection's reads, at
  // least).
  EXPECT_NE(response.find("polyio_worker_ops_submitted_total{worker="),
            std::string::npos);
  // A scrape is one request: the server closes.
  EXPECT_EQ(Read(client.ReadToEnd()), "");
}

TEST_P(HttpHelloTest, AnswersEveryGetOnOneConnection) {
  TestClient client = Connect();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.Send(kGet).ok());
    EXPECT_EQ(Read(client.ReadHttpResponse()), kHello);
  }
}

TEST_P(HttpHelloTest, AnswersPipelinedRequestsInOrder) {
  TestClient client = Connect();
  // Three requests in one send, which the server reads at once: three
  // different answers, which must come in this order.
  ASSERT_TRUE(client
                  .Send(std::string(kGet) +
                        "DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n"
                        "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                  .ok());
  EXPECT_EQ(Read(client.ReadHttpResponse()), kHello);
  EXPECT_EQ(Read(client.ReadHttpResponse()), kNotAllowed);
  EXPECT_EQ(Read(client.ReadHttpResponse()), kHelloKeepAlive);
}

TEST_P(HttpHelloTest, AnswersARequestSplitAcrossReads) {
  TestClient client = Connect();
  // A whole request and the beginning of the next in one send: once the
  // first is answered, the server has read the beginning too (it came in the
  // same segment) and must keep it for the rest.
  ASSERT_TRUE(client.Send(std::string(kGet) + "GET / HT").ok());
  EXPECT_EQ(Read(client.ReadHttpResponse()), kHello);
  ASSERT_TRUE(client.Send("TP/1.1\r\nHo").ok());
  ASSERT_TRUE(client.Send("st: a\r\n\r").ok());
  ASSERT_TRUE(client.Send("\n").ok());
  EXPECT_EQ(Read(client.ReadHttpResponse()), kHello);
}

TEST_P(HttpHelloTest, ClosesAfterConnectionClose) {
  TestClient client = Connect();
  ASSERT_TRUE(
      client.Send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
          .ok());
  EXPECT_EQ(Read(client.ReadHttpResponse()), kHelloClose);
  // Then the end of the stream, not a reset.
  EXPECT_EQ(Read(client.ReadToEnd()), "");
}

TEST_P(HttpHelloTest, ClosesAfterAnHttp10Request) {
  TestClient client = Connect();
  ASSERT_TRUE(client.Send("GET / HTTP/1.0\r\n\r\n").ok());
  EXPECT_EQ(Read(client.ReadToEnd()), kHelloClose);
}

TEST_P(HttpHelloTest, Answers400ToAMalformedRequestAndCloses) {
  TestClient client = Connect();
  ASSERT_TRUE(client.Send(std::string(kGet) + "garbage\r\n\r\n").ok());
  EXPECT_EQ(Read(client.ReadToEnd()),
            std::string(kHello) + std::string(kBadRequest));
}

TEST_P(HttpHelloTest, Answers431ToAnOversizedHeadAndCloses) {
  TestClient client = Connect();
  // More than the server reads before it gives up: it must still close
  // cleanly (discarding the rest), so that the answer is not lost to a
  // reset.
  ASSERT_TRUE(
      client.Send("GET / HTTP/1.1\r\nX: " + std::string(20000, 'x')).ok());
  EXPECT_EQ(Read(client.ReadToEnd()), kHeadTooLarge);
}

TEST_P(HttpHelloTest, ServesManyConnectionsAtOnce) {
  std::vector<TestClient> clients;
  for (int i = 0; i < 50; ++i) clients.push_back(Connect());
  for (TestClient& c : clients) ASSERT_TRUE(c.Send(kGet).ok());
  for (TestClient& c : clients) EXPECT_EQ(Read(c.ReadHttpResponse()), kHello);
}

TEST_P(HttpHelloTest, KeepsServingAfterAClientResets) {
  TestClient rude = Connect();
  ASSERT_TRUE(rude.Send(std::string(kGet) + "GET / HT").ok());
  EXPECT_EQ(Read(rude.ReadHttpResponse()), kHello);
  rude.Reset();
  TestClient polite = Connect();
  ASSERT_TRUE(polite.Send(kGet).ok());
  EXPECT_EQ(Read(polite.ReadHttpResponse()), kHello);
}

// SIGTERM after a keep-alive exchange whose client then leaves: the server
// stops accepting, the connection ends by itself, and the server exits 0.
TEST_P(HttpHelloTest, SigtermStopsItAfterItsConnectionsEnd) {
  std::optional<TestClient> client = Connect();
  ASSERT_TRUE(client->Send(kGet).ok());
  EXPECT_EQ(Read(client->ReadHttpResponse()), kHello);
  std::future<absl::StatusOr<std::string>> out = std::async(
      std::launch::async, [&] { return server_->Terminate(SIGTERM); });
  EXPECT_TRUE(WaitUntilRefused(server_->port(), std::chrono::seconds(5)))
      << "still accepting 5 s after SIGTERM";
  client.reset();  // the client leaves within the drain time
  absl::StatusOr<std::string> report = out.get();
  server_.reset();
  ASSERT_TRUE(report.ok()) << report.status();
  // Finished: that connection, and any probe of WaitUntilRefused accepted
  // just before the listener closed.
  EXPECT_EQ(report->rfind("http_hello: SIGTERM: stopped accepting; ", 0), 0u)
      << *report;
  EXPECT_NE(report->find(" tasks finished, 0 cancelled, 0 unfinished\n"),
            std::string::npos)
      << *report;
}

INSTANTIATE_TEST_SUITE_P(Runtimes, HttpHelloTest,
                         ::testing::Values("current_thread", "multi_thread"));

}  // namespace
}  // namespace polyio::examples
