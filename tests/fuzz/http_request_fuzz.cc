// Fuzz target: examples/http_request's ParseRequest, the parser that every
// request to examples/http_hello goes through.
//
// The contract (examples/http_request.h), checked on every input:
// - no input crashes it or reads past input.size() (ASan sees that: the
//   input is parsed from a buffer of exactly its size);
// - prefixes agree: along the prefixes of the input the status is
//   kIncomplete up to some length, then one final status (kComplete or one
//   error) that every longer prefix reports too — a complete request stays
//   the same request (same size, method and target) when more bytes follow
//   it, and an error stays the same error;
// - a complete request is well formed: its size is within the input and
//   kMaxRequestSize, method and target point into the input, the method is
//   a token, the target visible ASCII, the version 1.0-1.9, and parsing just
//   its `size` bytes gives the same request;
// - StatusCodeOf gives 0 for kComplete/kIncomplete and the documented code
//   for each error.
// Mode 1 also builds a request that the contract says is valid (method,
// target, version, Host, optional Content-Length and Connection fields and
// body, all from the input) and checks that it is parsed as exactly that.
//
// Input: the first byte picks the mode; the rest is the raw request (mode
// 0) or the choices that build one (mode 1).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "examples/http_request.h"
#include "tests/fuzz/byte_reader.h"
#include "tests/fuzz/check.h"

namespace polyio::fuzz {
namespace {

using examples::http::kMaxRequestSize;
using examples::http::ParseRequest;
using examples::http::ParseResult;
using examples::http::ParseStatus;
using examples::http::StatusCodeOf;

// RFC 9110's tchar.
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

bool IsVisible(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c <= ' ' || c >= 0x7f) return false;
  }
  return true;
}

bool Within(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() &&
         part.data() + part.size() <= whole.data() + whole.size();
}

// Parses `len` bytes copied into a buffer of exactly that size, so that a
// read past the end is an ASan report rather than a read of the rest of
// the input.
ParseResult ParseExact(std::string_view input, size_t len,
                       std::unique_ptr<char[]>& storage) {
  storage.reset(new char[len == 0 ? 1 : len]);
  for (size_t i = 0; i < len; ++i) storage[i] = input[i];
  return ParseRequest(std::string_view(storage.get(), len));
}

void CheckStatusCode(ParseStatus status) {
  const int code = StatusCodeOf(status);
  switch (status) {
    case ParseStatus::kComplete:
    case ParseStatus::kIncomplete:
      FUZZ_CHECK(code == 0, "code %d", code);
      break;
    case ParseStatus::kBadRequest:
      FUZZ_CHECK(code == 400, "code %d", code);
      break;
    case ParseStatus::kHeadTooLarge:
      FUZZ_CHECK(code == 431, "code %d", code);
      break;
    case ParseStatus::kContentTooLarge:
      FUZZ_CHECK(code == 413, "code %d", code);
      break;
    case ParseStatus::kNotImplemented:
      FUZZ_CHECK(code == 501, "code %d", code);
      break;
  }
}

void CheckWellFormed(const ParseResult& r, std::string_view input) {
  FUZZ_CHECK(r.request.size > 0 && r.request.size <= input.size(),
             "size %zu of %zu", r.request.size, input.size());
  FUZZ_CHECK(r.request.size <= kMaxRequestSize, "size %zu", r.request.size);
  const std::string_view request = input.substr(0, r.request.size);
  FUZZ_CHECK(Within(r.request.method, request), "method outside");
  FUZZ_CHECK(Within(r.request.target, request), "target outside");
  FUZZ_CHECK(IsToken(r.request.method), "method not a token");
  FUZZ_CHECK(IsVisible(r.request.target), "target not visible ASCII");
  FUZZ_CHECK(r.request.minor_version >= 0 && r.request.minor_version <= 9,
             "version 1.%d", r.request.minor_version);
  FUZZ_CHECK(request.find("\r\n\r\n") != std::string_view::npos,
             "no end of head in the request");
}

// Every prefix up to 256 bytes, then every 61st length and the whole
// input: the walk is quadratic in the input, and short inputs, which the
// fuzzer prefers anyway, are where line ends fall at every length.
void CheckPrefixes(std::string_view input) {
  std::unique_ptr<char[]> storage;
  bool final_seen = false;
  ParseResult final_result;
  size_t final_len = 0;
  std::vector<size_t> lengths;
  for (size_t len = 0; len < input.size(); len += len < 256 ? 1 : 61) {
    lengths.push_back(len);
  }
  lengths.push_back(input.size());
  for (size_t len : lengths) {
    const ParseResult r = ParseExact(input, len, storage);
    CheckStatusCode(r.status);
    if (r.status == ParseStatus::kIncomplete) {
      FUZZ_CHECK(!final_seen, "incomplete at %zu after status %d at %zu", len,
                 static_cast<int>(final_result.status), final_len);
      continue;
    }
    if (r.status == ParseStatus::kComplete) {
      CheckWellFormed(r, std::string_view(storage.get(), len));
    }
    if (!final_seen) {
      final_seen = true;
      final_result = r;
      // Points into `storage`, which the next parse replaces: compare by
      // value from here on.
      final_len = len;
      if (r.status == ParseStatus::kComplete) {
        // Parsing exactly the request agrees too.
        std::unique_ptr<char[]> alone;
        const ParseResult again = ParseExact(input, r.request.size, alone);
        FUZZ_CHECK(again.status == ParseStatus::kComplete &&
                       again.request.size == r.request.size,
                   "the request alone parses as %d",
                   static_cast<int>(again.status));
      }
      continue;
    }
    FUZZ_CHECK(r.status == final_result.status,
               "status %d at %zu after status %d at %zu",
               static_cast<int>(r.status), len,
               static_cast<int>(final_result.status), final_len);
    if (r.status == ParseStatus::kComplete) {
      // Same request: compare positions, as the buffers differ.
      FUZZ_CHECK(
          r.request.size == final_result.request.size &&
              r.request.keep_alive == final_result.request.keep_alive &&
              r.request.minor_version == final_result.request.minor_version,
          "request changed at %zu", len);
    }
  }
}

std::string Pick(ByteReader& in, std::string_view alphabet, size_t min,
                 size_t max) {
  std::string s;
  const size_t n = min + in.Below(max - min + 1);
  for (size_t i = 0; i < n; ++i) s += alphabet[in.Below(alphabet.size())];
  return s;
}

// Mode 1: a request the contract accepts, and what it must parse as.
void CheckBuiltRequest(ByteReader& in) {
  static constexpr std::string_view kToken =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-"
      ".^_`|~";
  static constexpr std::string_view kTarget =
      "/abcdefghijklmnopqrstuvwxyz0123456789?=&%._~-:@!$'()*+,;";
  static constexpr std::string_view kValue =
      "abcdefghijklmnopqrstuvwxyz0123456789 \t!\"#$%&'()*+,-./:;<=>?@[]^_`{|}~";
  std::string wire;
  const size_t blank_lines = in.Below(3);
  for (size_t i = 0; i < blank_lines; ++i) wire += "\r\n";
  const std::string method = Pick(in, kToken, 1, 8);
  const std::string target = "/" + Pick(in, kTarget, 0, 24);
  const int minor = in.Bool() ? 1 : static_cast<int>(in.Below(10));
  wire += method + " " + target + " HTTP/1." + std::to_string(minor) + "\r\n";
  // HTTP/1.1 needs exactly one Host; HTTP/1.0 may have none.
  if (minor != 0 || in.Bool())
    wire += "Host: " + Pick(in, kToken, 1, 12) + "\r\n";
  bool keep_alive = minor != 0;
  if (in.Bool()) {
    const bool close = in.Bool();
    wire +=
        std::string("Connection: ") + (close ? "close" : "keep-alive") + "\r\n";
    keep_alive = !close;
  }
  const size_t fields = in.Below(4);
  for (size_t i = 0; i < fields; ++i) {
    // Names that the parser looks at are left to the cases above.
    wire += "X-" + Pick(in, kToken, 1, 10) + ":" + (in.Bool() ? " " : "") +
            Pick(in, kValue, 0, 20) + "\r\n";
  }
  std::string body;
  if (in.Bool()) {
    body = Pick(in, kValue, 0, 64);
    wire += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  wire += "\r\n" + body;
  const size_t request_size = wire.size();
  wire += std::string(in.Rest());  // pipelined bytes, never looked at

  std::unique_ptr<char[]> storage;
  const ParseResult r = ParseExact(wire, wire.size(), storage);
  FUZZ_CHECK(r.status == ParseStatus::kComplete, "status %d for %s",
             static_cast<int>(r.status), wire.c_str());
  FUZZ_CHECK(r.request.size == request_size, "size %zu, built %zu",
             r.request.size, request_size);
  FUZZ_CHECK(r.request.method == method, "method");
  FUZZ_CHECK(r.request.target == target, "target");
  FUZZ_CHECK(r.request.minor_version == minor, "version");
  FUZZ_CHECK(r.request.keep_alive == keep_alive, "keep_alive %d for %s",
             r.request.keep_alive, wire.c_str());
  CheckPrefixes(wire);
}

}  // namespace
}  // namespace polyio::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  polyio::fuzz::ByteReader in(data, size);
  if (in.Byte() % 2 == 0) {
    polyio::fuzz::CheckPrefixes(in.Rest());
  } else {
    polyio::fuzz::CheckBuiltRequest(in);
  }
  return 0;
}
