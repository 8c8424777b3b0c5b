// RawEpollEchoServer: the cost floor of the readiness model — a hand-written,
// single-thread, level-triggered epoll echo server with nothing between the
// syscalls: no futures, no wakers, no timers, no run queue.
//
// One read into a shared buffer, one write back; if the write is partial the
// rest is kept per connection and the fd waits for EPOLLOUT (reading stops
// meanwhile, which is the backpressure a real server needs). Listens on
// 127.0.0.1, an ephemeral port; stops (through an eventfd) and joins its
// thread when destroyed. Thread-safe to construct and destroy from one
// controlling thread.
#ifndef POLYIO_BENCHMARKS_RAW_EPOLL_SERVER_H_
#define POLYIO_BENCHMARKS_RAW_EPOLL_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "benchmarks/echo_server_under_test.h"

namespace polyio::bench {

class RawEpollEchoServer : public BenchEchoServer {
 public:
  static absl::StatusOr<std::unique_ptr<RawEpollEchoServer>> Start();
  ~RawEpollEchoServer() override;

  uint16_t port() const override { return port_; }
  std::string name() const override { return "raw_epoll"; }

 private:
  RawEpollEchoServer() = default;
  void Run();

  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int stop_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

// Listens on 127.0.0.1:0 (non-blocking); shared by the raw servers.
absl::StatusOr<int> ListenLoopback(uint16_t* port);

}  // namespace polyio::bench

#endif  // POLYIO_BENCHMARKS_RAW_EPOLL_SERVER_H_
