// http_hello_handler: what examples/http_hello answers, as a function from
// the bytes a connection has read to the bytes it writes back — no I/O. So
// the example and the benchmark's raw epoll, libuv and Asio HTTP servers
// (benchmarks/) answer with the same code, and differ only in how the bytes
// move.
//
//   std::string_view pending(in, bytes_read);
//   for (;;) {
//     http::Answered a = http::AnswerRequests(pending, out);
//     pending.remove_prefix(a.consumed);
//     write out[0, a.produced);
//     if (a.next == http::Next::kClose) { close; break; }
//     if (a.next == http::Next::kRead) break;   // keep `pending`, read more
//   }                                           // kOutputFull: go on
//
// Answers, one per complete request, in order (http_request.h parses):
//   GET            200, "Hello, World!\n" (text/plain)
//   other methods  405, "Allow: GET", no body
//   parse errors   400, 413, 431 or 501, no body, then the connection closes
// Every response has a Content-Length. Persistence follows the request
// (Request::keep_alive): an HTTP/1.0 keep-alive request gets "Connection:
// keep-alive"; one that ends the connection gets "Connection: close", and
// the requests after it in the input are not answered. No Date field: the
// answers stay constant, which a benchmark wants; a real server adds one.
//
// AnswerRequests answers as many requests from the front of `input` as are
// complete and fit into `output`, and says why it stopped:
//   kRead        the rest of the input (maybe nothing) is the start of a
//                request: write the output, then read more after the rest
//   kOutputFull  the next response did not fit: write the output, then call
//                again with the input after `consumed`
//   kClose       the last response ends the connection: write it, close
// `output` must hold at least kMaxResponseSize bytes.
//
// Thread-safe: no state.
#ifndef POLYIO_EXAMPLES_HTTP_HELLO_HANDLER_H_
#define POLYIO_EXAMPLES_HTTP_HELLO_HANDLER_H_

#include <cstddef>
#include <span>
#include <string_view>

namespace polyio::examples::http {

inline constexpr std::string_view kHelloBody = "Hello, World!\n";

// No response is longer (checked where they are defined).
inline constexpr size_t kMaxResponseSize = 256;

enum class Next { kRead, kOutputFull, kClose };

struct Answered {
  size_t consumed = 0;  // bytes at the front of the input answered
  size_t produced = 0;  // bytes of responses at the front of the output
  Next next = Next::kRead;
};

Answered AnswerRequests(std::string_view input, std::span<char> output);

}  // namespace polyio::examples::http

#endif  // POLYIO_EXAMPLES_HTTP_HELLO_HANDLER_H_
