// http_hello: an HTTP/1.1 server on 127.0.0.1 that answers every GET with
// "Hello, World!\n" — persistent connections, pipelined requests, on either
// of polyio's runtimes.
//
//   http_hello --port 8080                      # 0 picks a free port
//   http_hello --port 8080 --runtime multi_thread [--workers 2]
//   listening on 127.0.0.1:8080 (epoll, current-thread runtime)
//
//   curl http://127.0.0.1:8080/                 # Hello, World!
//   curl http://127.0.0.1:8080/metrics          # the runtime's metrics
//   wrk -c 64 http://127.0.0.1:8080/
//
// One task per connection, and per read: every complete request in the
// buffer is answered (pipelined requests arrive together), all the answers
// go into one output buffer, and that goes out in one write. A request that
// arrives in pieces waits in the buffer for the rest. What is answered how
// (200, 405 for other methods, 400/413/431/501 for requests that cannot be
// parsed, then close; Connection: close honoured) is http_hello_handler.h;
// the parser is http_request.h.
//
// GET /metrics answers the runtime's metrics in Prometheus' text format
// (Runtime::Metrics, ToPrometheus; docs/observing.md), then closes the
// connection: a scrape is one request. It is recognized before the hello
// handler sees the bytes, by a prefix compare on each read that starts a
// request, so the hello answers take the same path as before.
//
// The "listening on" line is printed (and flushed) once the socket listens,
// so a script can wait for it and read the port. Serves until SIGTERM or
// SIGINT, then stops accepting, gives open connections (idle keep-alive ones
// too) up to 5 s to end, prints how they ended and exits 0
// (stop_signal.h). A bad
// flag, a failed bind or a backend that cannot run here prints the reason on
// stderr and exits with status 1.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "examples/http_hello_handler.h"
#include "examples/http_request.h"
#include "examples/runtime_flags.h"
#include "examples/server_main.h"
#include "polyio.h"

namespace {

using polyio::examples::DescribeRuntime;
using polyio::examples::Flags;
using polyio::examples::PortFlag;
namespace http = polyio::examples::http;
using polyio::SocketAddress;
using polyio::Task;
using polyio::TcpListener;
using polyio::TcpStream;

constexpr char kUsage[] =
    "usage: http_hello --port P [--runtime current_thread|multi_thread] "
    "[--workers N]   (port 0 picks a free port)";

// Room for the answers to one read's requests: 16 KiB holds ~180 of them
// (about 90 bytes each). Only a client that pipelines more than that in one
// read makes a connection write twice.
constexpr size_t kOutputSize = 16 * 1024;

// How long open connections get to end after a stop signal.
constexpr auto kDrainTime = std::chrono::seconds(5);

// How long a closing connection waits for its client to close too.
constexpr auto kLingerTime = std::chrono::seconds(2);

Task<absl::Status> DiscardUntilEnd(TcpStream* stream, absl::Span<char> buf) {
  for (;;) {
    absl::StatusOr<size_t> n = co_await stream->Read(buf);
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return absl::OkStatus();
  }
}

// After the last answer. Closing a socket that still has unread bytes makes
// the kernel send a reset, and a reset can make the client throw away the
// answer it has not read yet (RFC 9112 section 9.6). So: end our side (the
// client reads the answer, then the end of the stream), discard what the
// client still sends until it closes too, and give up after kLingerTime.
Task<absl::Status> CloseGracefully(TcpStream* stream, absl::Span<char> buf) {
  if (absl::Status s = stream->ShutdownWrite(); !s.ok()) co_return s;
  absl::Status drained =
      co_await polyio::Timeout(kLingerTime, DiscardUntilEnd(stream, buf));
  // A client that keeps its side open, or resets it, is not an error here.
  drained.IgnoreError();
  co_return absl::OkStatus();
}

constexpr std::string_view kMetricsRequest = "GET /metrics ";

// The scrape: the whole page in one response, then close.
Task<absl::Status> ServeMetrics(polyio::Runtime* rt, TcpStream* stream,
                                absl::Span<char> buf) {
  const std::string body = polyio::ToPrometheus(rt->Metrics());
  const std::string response =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  absl::Status written =
      co_await stream->WriteAll(absl::MakeConstSpan(response));
  if (!written.ok()) co_return written;
  co_return co_await CloseGracefully(stream, buf);
}

Task<absl::Status> ServeConnection(polyio::Runtime* rt, TcpStream stream) {
  // Answers go out whole, one write per read: Nagle's algorithm could only
  // hold one back, waiting for the client's acknowledgement of the last.
  stream.SetNoDelay(true).IgnoreError();
  // Both buffers live in this coroutine's frame: the one allocation a
  // connection makes. They are plain arrays, left uninitialised, and not a
  // std::vector<char>(n) or a std::array<char, n>{}, which would zero 24 KiB
  // per connection for nothing: no byte is read before a read or an answer
  // has written it. `in` is as large as the largest request
  // (http_request.h), so a request always fits once the bytes before it are
  // answered.
  char in[http::kMaxRequestSize];
  char out[kOutputSize];
  size_t kept = 0;  // bytes of a request's beginning at the start of `in`
  for (;;) {
    // Never an empty span (which would read 0, like the end of the stream):
    // a full buffer without a whole request is answered 431 and closed.
    absl::StatusOr<size_t> n =
        co_await stream.Read(absl::MakeSpan(in + kept, sizeof(in) - kept));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return absl::OkStatus();  // the client closed
    std::string_view pending(in, kept + *n);
    if (kept == 0 && pending.starts_with(kMetricsRequest)) [[unlikely]] {
      co_return co_await ServeMetrics(rt, &stream, absl::MakeSpan(in));
    }
    http::Answered answered;
    do {
      answered = http::AnswerRequests(pending, out);
      pending.remove_prefix(answered.consumed);
      if (answered.produced > 0) {
        absl::Status written = co_await stream.WriteAll(
            absl::MakeConstSpan(out, answered.produced));
        if (!written.ok()) co_return written;
      }
    } while (answered.next == http::Next::kOutputFull);
    if (answered.next == http::Next::kClose) {
      co_return co_await CloseGracefully(&stream, absl::MakeSpan(in));
    }
    // The beginning of the next request waits at the start of the buffer.
    std::memmove(in, pending.data(), pending.size());
    kept = pending.size();
  }
}

Task<absl::Status> Serve(polyio::Runtime* rt, uint16_t port,
                         std::string runtime_description) {
  absl::StatusOr<TcpListener> listener =
      TcpListener::Bind(SocketAddress::Loopback4(port));
  if (!listener.ok()) co_return listener.status();
  absl::StatusOr<SocketAddress> local = listener->LocalAddress();
  if (!local.ok()) co_return local.status();
  std::printf("listening on %s (%s)\n", local->ToString().c_str(),
              runtime_description.c_str());
  std::fflush(stdout);
  for (;;) {
    absl::StatusOr<TcpStream> stream = co_await listener->Accept();
    if (!stream.ok()) co_return stream.status();
    // A connection's errors (a client that resets) end that connection only.
    polyio::Spawn(ServeConnection(rt, std::move(*stream))).Detach();
  }
}

// Checks this server's flags and makes its serving task (server_main.h).
absl::StatusOr<Task<absl::Status>> MakeServe(const Flags& flags,
                                             polyio::Runtime& rt) {
  absl::StatusOr<uint16_t> port = PortFlag(flags);
  if (!port.ok()) return port.status();
  return Serve(&rt, *port, DescribeRuntime(rt));
}

}  // namespace

int main(int argc, char** argv) {
  return polyio::examples::RunServer({.name = "http_hello",
                                      .usage = kUsage,
                                      .flags = {"port"},
                                      .drain_time = kDrainTime},
                                     argc, argv, MakeServe);
}
