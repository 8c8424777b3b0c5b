#include "services/echo/echo_service.h"

#include <utility>
#include <vector>

namespace services::echo {

using polyio::Task;
using polyio::TcpStream;

Task<absl::Status> EchoConnection(TcpStream stream) {
  std::vector<char> buf(32 * 1024);
  for (;;) {
    absl::StatusOr<size_t> n = co_await stream.Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return absl::OkStatus();  // the client is done
    absl::Status sent =
        co_await stream.WriteAll(absl::MakeConstSpan(buf.data(), *n));
    if (!sent.ok()) co_return sent;
  }
}

Task<absl::Status> Serve(polyio::TcpListener* listener) {
  for (;;) {
    absl::StatusOr<TcpStream> conn = co_await listener->Accept();
    if (!conn.ok()) co_return conn.status();
    polyio::Spawn(EchoConnection(std::move(*conn))).Detach();
  }
}

namespace {

// The sending half of Exchange, as its own task so that the reply is read
// while the message is still being written (neither side's socket buffer
// has to hold the whole message).
Task<absl::Status> SendAndShutdown(TcpStream* stream,
                                   const std::string* message) {
  absl::Status sent = co_await stream->WriteAll(absl::MakeConstSpan(*message));
  if (!sent.ok()) co_return sent;
  co_return stream->ShutdownWrite();
}

}  // namespace

Task<absl::StatusOr<std::string>> Exchange(polyio::SocketAddress addr,
                                           std::string message) {
  absl::StatusOr<TcpStream> stream = co_await TcpStream::Connect(addr);
  if (!stream.ok()) co_return stream.status();
  polyio::JoinHandle<absl::Status> sender =
      polyio::Spawn(SendAndShutdown(&*stream, &message));
  std::string reply;
  std::vector<char> buf(16 * 1024);
  absl::Status received;
  for (;;) {
    absl::StatusOr<size_t> n = co_await stream->Read(absl::MakeSpan(buf));
    if (!n.ok()) {
      // The sender still points at the stream and the message: end its
      // write (Close completes it with an error) and wait for it.
      received = n.status();
      stream->Close().IgnoreError();
      break;
    }
    if (*n == 0) break;
    reply.append(buf.data(), *n);
  }
  absl::Status sent = co_await sender;
  if (!received.ok()) co_return received;
  if (!sent.ok()) co_return sent;
  co_return reply;
}

}  // namespace services::echo
