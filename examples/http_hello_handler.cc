// The answers of http_hello (http_hello_handler.h): each response is a few
// constant pieces copied into the output, nothing formatted per request.
#include "examples/http_hello_handler.h"

#include <cstring>

#include "examples/http_request.h"

namespace polyio::examples::http {
namespace {

// A response without its Connection field: status line and fields, each
// line with its CRLF, then the body after the empty line.
struct Response {
  std::string_view head;
  std::string_view body;
};

constexpr Response kHello = {
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 14\r\n",
    kHelloBody};
static_assert(kHelloBody.size() == 14, "Content-Length above");

constexpr Response kMethodNotAllowed = {
    "HTTP/1.1 405 Method Not Allowed\r\n"
    "Allow: GET\r\n"
    "Content-Length: 0\r\n",
    ""};

constexpr Response kBadRequest = {
    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n", ""};
constexpr Response kContentTooLarge = {
    "HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n", ""};
constexpr Response kHeadTooLarge = {
    "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n",
    ""};
constexpr Response kNotImplemented = {
    "HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\n", ""};

enum class Persistence { kDefault, kKeepAlive, kClose };

constexpr std::string_view ConnectionField(Persistence p) {
  switch (p) {
    case Persistence::kDefault:
      return "";
    case Persistence::kKeepAlive:
      return "Connection: keep-alive\r\n";
    case Persistence::kClose:
      return "Connection: close\r\n";
  }
  return "";
}

constexpr size_t SizeOf(const Response& r, Persistence p) {
  return r.head.size() + ConnectionField(p).size() + 2 + r.body.size();
}

static_assert(SizeOf(kHello, Persistence::kKeepAlive) <= kMaxResponseSize);
static_assert(SizeOf(kHello, Persistence::kClose) <= kMaxResponseSize);
static_assert(SizeOf(kMethodNotAllowed, Persistence::kKeepAlive) <=
              kMaxResponseSize);
static_assert(SizeOf(kHeadTooLarge, Persistence::kClose) <= kMaxResponseSize);

// Copies the response to *out, which has room for it.
void Append(const Response& r, Persistence p, char** out) {
  for (std::string_view piece :
       {r.head, ConnectionField(p), std::string_view("\r\n"), r.body}) {
    std::memcpy(*out, piece.data(), piece.size());
    *out += piece.size();
  }
}

const Response& ErrorResponse(ParseStatus status) {
  switch (status) {
    case ParseStatus::kContentTooLarge:
      return kContentTooLarge;
    case ParseStatus::kHeadTooLarge:
      return kHeadTooLarge;
    case ParseStatus::kNotImplemented:
      return kNotImplemented;
    default:
      return kBadRequest;
  }
}

// What the response says about the connection: HTTP/1.1 stays open unless
// told otherwise; an HTTP/1.0 client must be told that it does.
Persistence PersistenceOf(const Request& request) {
  if (!request.keep_alive) return Persistence::kClose;
  return request.minor_version == 0 ? Persistence::kKeepAlive
                                    : Persistence::kDefault;
}

}  // namespace

Answered AnswerRequests(std::string_view input, std::span<char> output) {
  Answered answered;
  char* out = output.data();
  auto room = [&] {
    return output.size() - static_cast<size_t>(out - output.data());
  };
  for (;;) {
    const ParseResult parsed = ParseRequest(input.substr(answered.consumed));
    if (parsed.status == ParseStatus::kIncomplete) {
      answered.next = Next::kRead;
      break;
    }
    if (room() < kMaxResponseSize) {
      answered.next = Next::kOutputFull;
      break;
    }
    if (parsed.status != ParseStatus::kComplete) {
      // The input cannot be framed past this point: answer and close.
      Append(ErrorResponse(parsed.status), Persistence::kClose, &out);
      answered.next = Next::kClose;
      break;
    }
    const Request& request = parsed.request;
    answered.consumed += request.size;
    Append(request.method == "GET" ? kHello : kMethodNotAllowed,
           PersistenceOf(request), &out);
    if (!request.keep_alive) {
      answered.next = Next::kClose;
      break;
    }
  }
  answered.produced = static_cast<size_t>(out - output.data());
  return answered;
}

}  // namespace polyio::examples::http
