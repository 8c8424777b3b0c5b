// The echo service through polyio, from a workspace that has polyio as an
// external repository: the backend is the one the build asked for, bytes
// make a round trip over loopback intact, and the callback loop runs.
//
// The backend this binary was built for comes from this workspace's own
// select() on @polyio//backends:use_* (BUILD.bazel), and, when tools/test
// runs it, from POLYIO_EXPECT_BACKEND (the --@polyio//backends:backend value
// it passed). A backend that builds but cannot run here (io_uring refused by
// the kernel) skips, unless POLYIO_REQUIRE_IO_URING=1 says that it can.
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "polyio.h"
#include "services/echo/echo_service.h"

#if !defined(CONSUMER_OWN_GOOGLETEST)
#error "built against polyio's googletest stand-in, not this workspace's own"
#endif

namespace {

#if defined(SELECTED_BACKEND_EPOLL)
constexpr std::string_view kSelected = "epoll";
#elif defined(SELECTED_BACKEND_POLL)
constexpr std::string_view kSelected = "poll";
#elif defined(SELECTED_BACKEND_IO_URING)
constexpr std::string_view kSelected = "io_uring";
#elif defined(SELECTED_BACKEND_KQUEUE)
constexpr std::string_view kSelected = "kqueue";
#elif defined(SELECTED_BACKEND_AUTO)
constexpr std::string_view kSelected = "auto";
#else
#error "no @polyio//backends:use_* setting matched"
#endif

bool EnvIs(const char* name, std::string_view value) {
  const char* v = std::getenv(name);
  return v != nullptr && value == v;
}

class EchoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<polyio::Runtime>> rt =
        polyio::Runtime::Create();
    if (!rt.ok()) {
      bool required = (kSelected == "io_uring" || kSelected == "auto") &&
                      EnvIs("POLYIO_REQUIRE_IO_URING", "1");
      if (required || kSelected != "io_uring") {
        FAIL() << "the runtime does not start: " << rt.status();
      }
      GTEST_SKIP() << "io_uring is unavailable here: " << rt.status();
    }
    rt_ = std::move(*rt);
  }

  std::unique_ptr<polyio::Runtime> rt_;
};

TEST_F(EchoTest, RunsOnTheBackendItWasBuiltFor) {
  const char* asked = std::getenv("POLYIO_EXPECT_BACKEND");
  if (asked != nullptr) {
    EXPECT_EQ(kSelected, asked)
        << "select() on @polyio//backends:use_* disagrees with the flag";
  }
  std::string_view name = rt_->backend_name();
  if (kSelected != "auto") {
    EXPECT_EQ(name, kSelected);
  } else if (EnvIs("POLYIO_REQUIRE_IO_URING", "1")) {
    EXPECT_EQ(name, "io_uring") << "io_uring works here; auto must pick it";
  } else {
    EXPECT_TRUE(name == "io_uring" || name == "epoll") << name;
  }
}

// Bytes that differ from their neighbours, so that a lost, repeated or
// reordered chunk changes the reply.
std::string Message(size_t size, unsigned seed) {
  std::string s(size, '\0');
  unsigned x = seed + 1;
  for (char& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return s;
}

// Three clients at once (1 byte, 64 KiB, 4 MiB) against one echo server.
polyio::Task<absl::Status> ConcurrentExchanges() {
  absl::StatusOr<polyio::TcpListener> listener =
      polyio::TcpListener::Bind(polyio::SocketAddress::Loopback4(0));
  if (!listener.ok()) co_return listener.status();
  absl::StatusOr<polyio::SocketAddress> addr = listener->LocalAddress();
  if (!addr.ok()) co_return addr.status();
  polyio::JoinHandle<absl::Status> server =
      polyio::Spawn(services::echo::Serve(&*listener));
  const std::vector<size_t> sizes = {1, 64 << 10, 4 << 20};
  std::vector<polyio::JoinHandle<absl::StatusOr<std::string>>> clients;
  for (size_t i = 0; i < sizes.size(); ++i) {
    clients.push_back(polyio::Spawn(
        services::echo::Exchange(*addr, Message(sizes[i], unsigned(i)))));
  }
  absl::Status result;
  for (size_t i = 0; i < sizes.size(); ++i) {
    absl::StatusOr<std::string> reply = co_await clients[i];
    if (!reply.ok()) {
      result.Update(reply.status());
    } else if (*reply != Message(sizes[i], unsigned(i))) {
      result.Update(absl::DataLossError(
          "the reply to a message of " + std::to_string(sizes[i]) +
          " bytes differs (" + std::to_string(reply->size()) + " bytes)"));
    }
  }
  listener->Close();  // Serve returns: accepting fails
  absl::Status served = co_await server;
  EXPECT_FALSE(served.ok()) << "Serve returned OK after Close";
  co_return result;
}

TEST_F(EchoTest, ConcurrentRoundTripsOverLoopbackAreIntact) {
  absl::Status s = rt_->BlockOn(ConcurrentExchanges());
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(EchoTest, CallbackLoopRunsPostedWorkAndTimers) {
  std::vector<std::string> order;
  polyio::EventLoop& loop = rt_->loop();
  loop.CallAfter(std::chrono::milliseconds(5),
                 [&] { order.push_back("timer"); });
  loop.Post([&] { order.push_back("posted"); });
  loop.Run();  // returns once nothing is left to do
  EXPECT_EQ(order, (std::vector<std::string>{"posted", "timer"}));
}

}  // namespace
