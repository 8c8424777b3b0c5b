// LoadGenerator: the one client every echo benchmark row shares — a
// hand-written, single-thread, level-triggered epoll loop (no polyio), so
// that only the server changes between rows.
//
// Ping-pong: each of C connections keeps exactly one message of S bytes in
// flight; when all S bytes have come back, it sends the next. The first byte
// of each message carries a per-connection sequence number, checked on
// return, so a reply that belongs to another connection or message is caught.
//
// Run(n) drives the loop until n more round trips have completed and returns;
// the messages in flight at that moment stay in flight, so consecutive calls
// measure a steady state. A server that makes no progress for 5 s, closes a
// connection or sends bytes it was not sent is an error, so a benchmark
// never hangs. Thread-compatible: one thread drives a generator.
#ifndef POLYIO_BENCHMARKS_LOAD_GENERATOR_H_
#define POLYIO_BENCHMARKS_LOAD_GENERATOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace polyio::bench {

class LoadGenerator {
 public:
  // Connects `connections` sockets to 127.0.0.1:`port` (TCP_NODELAY).
  static absl::StatusOr<std::unique_ptr<LoadGenerator>> Connect(
      uint16_t port, int connections, size_t message_size);
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;
  ~LoadGenerator();  // closes every connection

  // Runs until `messages` more round trips have completed.
  absl::Status Run(uint64_t messages);

  uint64_t completed() const { return completed_; }

 private:
  struct Conn {
    int fd = -1;
    uint8_t seq = 0;      // first byte of the message in flight
    size_t sent = 0;      // bytes of it written
    size_t received = 0;  // bytes of it read back
    bool want_write = false;
  };

  LoadGenerator(int epoll_fd, size_t message_size)
      : epoll_fd_(epoll_fd), message_(message_size, 'x') {}
  absl::Status Send(Conn& c);
  absl::Status Receive(Conn& c);
  void SetWriteInterest(Conn& c, bool on);

  int epoll_fd_;
  std::vector<char> message_;
  std::vector<char> buf_;
  std::vector<Conn> conns_;
  uint64_t completed_ = 0;
  bool started_ = false;
};

}  // namespace polyio::bench

#endif  // POLYIO_BENCHMARKS_LOAD_GENERATOR_H_
