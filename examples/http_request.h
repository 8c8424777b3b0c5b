// http_request: the HTTP/1.1 request parser of examples/http_hello. Bytes a
// connection has read go in; out comes whether they start with a whole
// request, and what a server needs to answer it.
//
//   http::ParseResult r = http::ParseRequest(std::string_view(buf, n));
//   switch (r.status) {
//     case http::ParseStatus::kComplete:   // answer r.request, then drop its
//       ...                                // r.request.size bytes
//     case http::ParseStatus::kIncomplete: // read more, then parse again
//     default:                             // answer with the error status
//   }                                      // (http::StatusCodeOf), close
//
// The contract:
// - Only the front of `input` is looked at: the first request's head
//   (request line, header fields, empty line) and, when Content-Length says
//   so, its body. What follows (pipelined requests) is left alone.
// - A pure function of its input: no allocation, no state between calls,
//   never a byte read past input.size(), whatever the bytes (a fuzz target
//   may feed it anything). A request split across reads is parsed again
//   from its start once more bytes are there: requests are small (at most
//   kMaxRequestSize bytes, head and body), so that costs little and keeps
//   the parser free of state.
// - Prefixes agree: on any prefix of a complete request the result is
//   kIncomplete; an error is reported as soon as the line that shows it is
//   complete, and every longer input reports the same error.
//
// What is accepted (RFC 9112), strict where leniency is a known risk
// (request smuggling, a proxy and this server framing a message
// differently):
// - Empty lines before the request line are skipped (RFC 9112 section 2.2).
// - Request line "METHOD SP request-target SP HTTP/1.<digit>", the method a
//   token, the target visible ASCII. Any other version is kBadRequest.
// - Every line ends in CRLF; a bare LF or a CR elsewhere is kBadRequest.
// - Header fields "name: value": the name a token, directly followed by the
//   colon; the value visible characters, spaces and tabs, trimmed. A line
//   starting with a space or tab (obsolete line folding) is kBadRequest.
// - Content-Length: digits only; repeated fields must agree. The body is
//   part of the request (its size counts) and is not looked at.
// - Transfer-Encoding (chunked bodies) is kNotImplemented: this parser
//   cannot find the end of such a body, so it must not guess.
// - HTTP/1.1 needs exactly one Host field; HTTP/1.0 at most one.
// - Connection: a comma-separated list; "close" ends the connection after
//   the response; HTTP/1.0 keeps it open only with "keep-alive".
//
// Thread-safe: no state.
#ifndef POLYIO_EXAMPLES_HTTP_REQUEST_H_
#define POLYIO_EXAMPLES_HTTP_REQUEST_H_

#include <cstddef>
#include <string_view>

namespace polyio::examples::http {

// The largest request, head and body, this parser accepts; a server that
// uses it needs a read buffer of at least this many bytes. 8 KiB is ample
// for what browsers and load generators send to a server like this one, and
// small enough to keep in every connection.
inline constexpr size_t kMaxRequestSize = 8192;

enum class ParseStatus {
  kComplete,         // `request` describes the first request of the input
  kIncomplete,       // a valid beginning: read more and parse again
  kBadRequest,       // 400: not a request this parser accepts (above)
  kHeadTooLarge,     // 431: no end of head within kMaxRequestSize bytes
  kContentTooLarge,  // 413: head and body exceed kMaxRequestSize
  kNotImplemented,   // 501: a Transfer-Encoding
};

// The HTTP status code to answer a parse error with (400, 431, 413, 501);
// 0 for kComplete and kIncomplete.
int StatusCodeOf(ParseStatus status);

struct Request {
  std::string_view method;  // "GET"; points into the parsed input
  std::string_view target;  // "/", "/index.html?q=1"; into the input too
  int minor_version = 1;    // HTTP/1.<minor_version>
  // Whether the connection stays open after the response: HTTP/1.1 unless
  // "Connection: close"; HTTP/1.0 only with "Connection: keep-alive".
  bool keep_alive = true;
  size_t size = 0;  // bytes of the request in the input: head and body
};

struct ParseResult {
  ParseStatus status = ParseStatus::kIncomplete;
  Request request;  // meaningful only when status == kComplete
};

ParseResult ParseRequest(std::string_view input);

}  // namespace polyio::examples::http

#endif  // POLYIO_EXAMPLES_HTTP_REQUEST_H_
