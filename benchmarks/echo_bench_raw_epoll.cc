// Links the raw epoll baseline into echo_bench.cc: //benchmarks:
// raw_epoll_echo_bench.
#include "benchmarks/echo_server_under_test.h"
#include "benchmarks/raw_epoll_server.h"

namespace polyio::bench {

absl::StatusOr<std::unique_ptr<BenchEchoServer>> StartServerUnderTest() {
  absl::StatusOr<std::unique_ptr<RawEpollEchoServer>> s =
      RawEpollEchoServer::Start();
  if (!s.ok()) return s.status();
  return std::unique_ptr<BenchEchoServer>(std::move(*s));
}

}  // namespace polyio::bench
