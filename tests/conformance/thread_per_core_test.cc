// Thread-per-core: every thread's SO_REUSEPORT listener takes a share of the
// connections, and every connection is served to the end.
#include "runtime/thread_per_core.h"

#include <sys/socket.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

constexpr int kThreads = 2;
constexpr int kConnections = 64;

// Serves connections on this thread until `served` reaches the total.
Task<absl::Status> ServeShare(SocketAddress addr, std::atomic<int>* served,
                              std::atomic<int>* mine,
                              std::atomic<int>* listening) {
  absl::StatusOr<TcpListener> listener =
      TcpListener::Bind(addr, ListenOptions{.reuse_port = true});
  if (!listener.ok()) co_return listener.status();
  listening->fetch_add(1);
  while (served->load() < kConnections) {
    absl::StatusOr<TcpStream> s =
        co_await Timeout(std::chrono::milliseconds(20), listener->Accept());
    if (absl::IsDeadlineExceeded(s.status())) continue;  // look at `served`
    if (!s.ok()) co_return s.status();
    absl::Status echoed = co_await EchoConnection(std::move(*s));
    if (!echoed.ok()) co_return echoed;
    mine->fetch_add(1);
    served->fetch_add(1);
  }
  co_return absl::OkStatus();
}

TEST_F(ConformanceTest, ThreadPerCoreSpreadsConnectionsOverReusePortListeners) {
  // Reserve a port: a bound, non-listening SO_REUSEPORT socket takes no
  // connections, but keeps the number ours while the threads bind it.
  absl::StatusOr<UniqueFd> reserve = NewStreamSocket(AF_INET);
  ASSERT_TRUE(reserve.ok());
  int one = 1;
  ASSERT_EQ(
      setsockopt(reserve->get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)),
      0);
  SocketAddress any = *SocketAddress::Parse("127.0.0.1:0");
  ASSERT_EQ(bind(reserve->get(), any.data(), any.size()), 0);
  absl::StatusOr<SocketAddress> addr = LocalAddress(reserve->get());
  ASSERT_TRUE(addr.ok());

  std::atomic<int> served{0};
  std::atomic<int> per_thread[kThreads] = {};
  std::atomic<int> listening{0};
  absl::Status server_status;
  ThreadPerCoreOptions options;
  options.threads = kThreads;
  options.pin = false;
  std::thread server([&] {
    server_status = RunThreadPerCore(options, [&](int index) {
      return ServeShare(*addr, &served, &per_thread[index], &listening);
    });
  });
  // Every thread's listener is bound (and listening) before the clients
  // connect; one bound later would miss its share.
  while (listening.load() < kThreads) std::this_thread::yield();

  // Clients: plain blocking sockets, one round trip each.
  for (int i = 0; i < kConnections; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(connect(fd, addr->data(), addr->size()), 0) << i;
    std::string data = Pattern(1000, i);
    ASSERT_EQ(send(fd, data.data(), data.size(), MSG_NOSIGNAL), 1000);
    std::string got(1000, '\0');
    size_t have = 0;
    while (have < got.size()) {
      ssize_t n = recv(fd, got.data() + have, got.size() - have, 0);
      ASSERT_GT(n, 0);
      have += static_cast<size_t>(n);
    }
    EXPECT_EQ(got, data) << i;
    close(fd);
  }
  server.join();
  EXPECT_TRUE(server_status.ok()) << server_status;
  EXPECT_EQ(served.load(), kConnections);
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_GT(per_thread[i].load(), 0) << "thread " << i << " got none";
  }
}

}  // namespace
}  // namespace polyio::testing
