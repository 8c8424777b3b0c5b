// RawIoUringEchoServer: the cost floor of the completion model — a
// hand-written, single-thread liburing echo server.
//
// Each connection has exactly one operation in flight: a recv, then a send
// of what it received (resubmitted until all is sent), then the next recv.
// SQEs queued while a batch of completions is handled go to the kernel in
// one io_uring_submit_and_wait call per loop turn (batched submission).
// user_data is the connection pointer; the accept and the stop eventfd's read
// have their own tags. Listens on 127.0.0.1, an ephemeral port; stops and
// joins when destroyed. Start fails (with the kernel's reason) where
// io_uring is unavailable, e.g. refused by seccomp.
#ifndef POLYIO_BENCHMARKS_RAW_IO_URING_SERVER_H_
#define POLYIO_BENCHMARKS_RAW_IO_URING_SERVER_H_

#include <liburing.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "benchmarks/echo_server_under_test.h"

namespace polyio::bench {

class RawIoUringEchoServer : public BenchEchoServer {
 public:
  static absl::StatusOr<std::unique_ptr<RawIoUringEchoServer>> Start();
  ~RawIoUringEchoServer() override;

  uint16_t port() const override { return port_; }
  std::string name() const override { return "raw_io_uring"; }

 private:
  struct Conn;

  RawIoUringEchoServer() = default;
  void Run();
  io_uring_sqe* Sqe();
  void Recv(Conn* c);
  void Send(Conn* c);

  io_uring ring_{};
  bool ring_ok_ = false;
  int listen_fd_ = -1;
  int stop_fd_ = -1;
  uint64_t stop_value_ = 0;
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace polyio::bench

#endif  // POLYIO_BENCHMARKS_RAW_IO_URING_SERVER_H_
