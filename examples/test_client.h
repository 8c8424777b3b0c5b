// TestClient: a plain blocking TCP client on 127.0.0.1 for the examples'
// tests — no polyio in it, so that what a test checks is the server alone.
//
//   absl::StatusOr<TestClient> c = TestClient::Connect(port);
//   c->Send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
//   absl::StatusOr<std::string> response = c->ReadHttpResponse();
//   absl::StatusOr<std::string> line = c->ReadLine();    // with its '\n'
//   absl::StatusOr<std::string> rest = c->ReadToEnd();   // until the server
//                                                        // closes
//
// Every read waits at most `deadline` (SO_RCVTIMEO): a server that stops
// answering fails the test with DeadlineExceeded instead of hanging it; a
// healthy one is never waited for longer than it takes to answer. A reset
// by the server is an error (so ReadToEnd tells a clean close from one
// that could lose data). Bytes received past what one call returns stay
// buffered for the next.
//
// Move-only; thread-compatible.
#ifndef POLYIO_EXAMPLES_TEST_CLIENT_H_
#define POLYIO_EXAMPLES_TEST_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace polyio::examples {

struct TestClientOptions {
  std::chrono::seconds deadline = std::chrono::seconds(30);
  // SO_RCVBUF before connecting (0: the kernel's default): a small one
  // makes a client that does not read fall behind quickly.
  int receive_buffer = 0;
};

class TestClient {
 public:
  static absl::StatusOr<TestClient> Connect(
      uint16_t port, const TestClientOptions& options = {});
  TestClient(TestClient&& other) noexcept;
  TestClient& operator=(TestClient&& other) noexcept;
  ~TestClient();

  absl::Status Send(std::string_view bytes);
  // Closes the socket with SO_LINGER 0: the kernel resets the connection.
  void Reset();

  absl::StatusOr<std::string> ReadLine();
  absl::StatusOr<std::string> ReadExactly(size_t n);
  // One whole response: head, and a body of its Content-Length.
  absl::StatusOr<std::string> ReadHttpResponse();
  absl::StatusOr<std::string> ReadToEnd();

 private:
  explicit TestClient(int fd) : fd_(fd) {}
  // Reads once more into buffered_; OutOfRange at the end of the stream.
  absl::Status Fill();

  // The unread bytes: buffered_ from offset read_. (Dropping read bytes
  // from the front at every line would copy the rest each time.)
  std::string_view Unread() const;
  std::string Take(size_t n);

  int fd_ = -1;
  std::string buffered_;
  size_t read_ = 0;
};

// Connects to `port` every 10 ms until a connect is refused (the server's
// listener is closed): true, or false after `limit`. The connections made
// meanwhile are closed at once.
bool WaitUntilRefused(uint16_t port, std::chrono::milliseconds limit);

}  // namespace polyio::examples

#endif  // POLYIO_EXAMPLES_TEST_CLIENT_H_
