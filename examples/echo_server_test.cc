// echo_server run as its users run it: started on port 0, talked to with a
// plain client and with examples/echo_client (which checks every byte it
// gets back), stopped. On the backend this test was built for.
#include <string>
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

}  // namespace
}  // namespace polyio::examples
