// The seam between //benchmarks:echo_bench-style binaries and the server
// they measure. The benchmark code (echo_bench.cc) and the load generator are
// the same in every binary; only the definition of StartServerUnderTest,
// linked in from one small file per server, differs. So between two rows of
// tools/bench's tables, only the server changes.
//
// The server runs on its own thread, pinned to the server core (affinity.h),
// listening on 127.0.0.1 until the object is destroyed.
#ifndef POLYIO_BENCHMARKS_ECHO_SERVER_UNDER_TEST_H_
#define POLYIO_BENCHMARKS_ECHO_SERVER_UNDER_TEST_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace polyio::bench {

class BenchEchoServer {
 public:
  virtual ~BenchEchoServer() = default;  // stops the server, joins its thread
  virtual uint16_t port() const = 0;
  // "epoll", "io_uring", ... for polyio; "raw_epoll", "raw_io_uring".
  virtual std::string name() const = 0;
};

// Defined once per benchmark binary.
absl::StatusOr<std::unique_ptr<BenchEchoServer>> StartServerUnderTest();

}  // namespace polyio::bench

#endif  // POLYIO_BENCHMARKS_ECHO_SERVER_UNDER_TEST_H_
