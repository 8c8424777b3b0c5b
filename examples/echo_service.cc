// The echo service (echo_service.h): one task per connection, read then
// write back what was read, with a buffer owned by the task's frame.
#include "examples/echo_service.h"

#include <vector>

namespace polyio::examples {

Task<absl::Status> EchoConnection(TcpStream stream) {
  // Echo traffic is request/response: do not let Nagle hold back the reply.
  stream.SetNoDelay(true).IgnoreError();
  std::vector<char> buf(64 * 1024);
  for (;;) {
    absl::StatusOr<size_t> n = co_await stream.Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return absl::OkStatus();
    absl::Status written =
        co_await stream.WriteAll(absl::MakeConstSpan(buf.data(), *n));
    if (!written.ok()) co_return written;
  }
}

Task<absl::Status> ServeEcho(TcpListener* listener) {
  for (;;) {
    absl::StatusOr<TcpStream> stream = co_await listener->Accept();
    if (!stream.ok()) co_return stream.status();
    Spawn(EchoConnection(std::move(*stream))).Detach();
  }
}

}  // namespace polyio::examples
