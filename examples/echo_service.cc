// The echo service (echo_service.h): one task per connection, read then
// write back what was read, with a buffer owned by the task's frame.
#include "examples/echo_service.h"

#include <cstddef>
#include <memory>

namespace polyio::examples {

Task<absl::Status> EchoConnection(TcpStream stream) {
  // Echo traffic is request/response: do not let Nagle hold back the reply.
  stream.SetNoDelay(true).IgnoreError();
  // Uninitialized on purpose (new char[], not std::vector<char>(n)): the
  // kernel writes it before anyone reads it, and zero-filling 64 KiB per
  // connection would cost more than the runtime's whole work for one
  // (tools/bench --instr, per connection).
  constexpr size_t kBufferSize = 64 * 1024;
  std::unique_ptr<char[]> buf(new char[kBufferSize]);
  for (;;) {
    absl::StatusOr<size_t> n =
        co_await stream.Read(absl::MakeSpan(buf.get(), kBufferSize));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return absl::OkStatus();
    absl::Status written =
        co_await stream.WriteAll(absl::MakeConstSpan(buf.get(), *n));
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
