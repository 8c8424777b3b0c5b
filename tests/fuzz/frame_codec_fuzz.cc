// Fuzz target: runtime/bufio's frame codecs (frame_codec.h), lines and
// length-prefixed frames.
//
// Checked on every input:
// - decoding arbitrary bytes under a fuzzed limit: a frame lies within the
//   input, is at most `limit` bytes, and `consumed` covers it and its
//   framing (a line: the payload has no "\n", and is followed by "\n" or
//   "\r\n"; a length-prefixed frame: the 4-byte length equals its size);
// - prefixes agree: every prefix of the input shorter than a decoded
//   frame's `consumed` decodes as kNeedMore, and once a prefix decodes as
//   kTooLarge every longer one does too;
// - round trip: payloads taken from the input, encoded one after another
//   (pipelined), decode back to the same payloads in order, then kNeedMore.
//
// Input: byte 0 picks the framing and mode, bytes 1-2 the limit; the rest
// is the bytes to decode, or the payloads (each a length byte and bytes).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/bufio/frame_codec.h"
#include "tests/fuzz/byte_reader.h"
#include "tests/fuzz/check.h"

namespace polyio::fuzz {
namespace {

using Decoder = FrameDecode (*)(std::string_view, size_t);

void CheckFrame(bool lines, const FrameDecode& d, std::string_view in,
                size_t limit) {
  FUZZ_CHECK(d.payload.size() <= limit, "payload %zu over limit %zu",
             d.payload.size(), limit);
  FUZZ_CHECK(d.consumed <= in.size(), "consumed %zu of %zu", d.consumed,
             in.size());
  if (lines) {
    FUZZ_CHECK(d.payload.data() == in.data(), "line not at the start");
    FUZZ_CHECK(d.payload.find('\n') == std::string_view::npos, "\\n inside");
    const std::string_view end =
        in.substr(d.payload.size(), d.consumed - d.payload.size());
    FUZZ_CHECK(end == "\n" || end == "\r\n", "line end of %zu bytes",
               end.size());
  } else {
    FUZZ_CHECK(d.consumed == kLengthPrefixSize + d.payload.size(),
               "consumed %zu for %zu", d.consumed, d.payload.size());
    FUZZ_CHECK(d.payload.data() == in.data() + kLengthPrefixSize,
               "payload not after the length");
    std::string prefix;
    AppendLengthPrefix(static_cast<uint32_t>(d.payload.size()), &prefix);
    FUZZ_CHECK(in.substr(0, kLengthPrefixSize) == prefix, "length mismatch");
  }
}

void CheckDecode(bool lines, std::string_view in, size_t limit) {
  const Decoder decode = lines ? &DecodeLine : &DecodeLengthPrefixed;
  const FrameDecode whole = decode(in, limit);
  if (whole.kind == FrameDecode::Kind::kFrame)
    CheckFrame(lines, whole, in, limit);
  bool too_large = false;
  for (size_t len = 0; len <= in.size(); ++len) {
    const FrameDecode d = decode(in.substr(0, len), limit);
    if (too_large) {
      FUZZ_CHECK(d.kind == FrameDecode::Kind::kTooLarge,
                 "too large, then %d at %zu", static_cast<int>(d.kind), len);
    }
    if (d.kind == FrameDecode::Kind::kTooLarge) {
      too_large = true;
      FUZZ_CHECK(whole.kind == FrameDecode::Kind::kTooLarge,
                 "prefix %zu too large, whole input %d", len,
                 static_cast<int>(whole.kind));
    }
    if (whole.kind == FrameDecode::Kind::kFrame) {
      if (len < whole.consumed) {
        FUZZ_CHECK(d.kind == FrameDecode::Kind::kNeedMore,
                   "prefix %zu of a %zu-byte frame gives %d", len,
                   whole.consumed, static_cast<int>(d.kind));
      } else {
        FUZZ_CHECK(
            d.kind == FrameDecode::Kind::kFrame && d.consumed == whole.consumed,
            "prefix %zu: frame changed", len);
      }
    }
    if (len > 512) break;  // quadratic: long inputs check the first 512
  }
}

void CheckRoundTrip(bool lines, ByteReader& in, size_t limit) {
  std::vector<std::string> payloads;
  std::string wire;
  while (!in.empty() && payloads.size() < 64) {
    const size_t n = in.Below(std::min<size_t>(limit, 255) + 1);
    std::string p;
    for (size_t i = 0; i < n; ++i) {
      char c = static_cast<char>(in.Byte());
      if (lines && c == '\n') c = ' ';
      p += c;
    }
    // A line may not end in "\r": the decoder would take it as "\r\n".
    if (lines && !p.empty() && p.back() == '\r') p.back() = ' ';
    FUZZ_CHECK(lines ? EncodeLine(p, &wire) : EncodeLengthPrefixed(p, &wire),
               "encode refused a valid payload");
    payloads.push_back(std::move(p));
  }
  const Decoder decode = lines ? &DecodeLine : &DecodeLengthPrefixed;
  std::string_view rest = wire;
  for (size_t i = 0; i < payloads.size(); ++i) {
    const FrameDecode d = decode(rest, limit);
    FUZZ_CHECK(d.kind == FrameDecode::Kind::kFrame, "frame %zu: kind %d", i,
               static_cast<int>(d.kind));
    FUZZ_CHECK(d.payload == payloads[i], "frame %zu differs", i);
    rest.remove_prefix(d.consumed);
  }
  FUZZ_CHECK(rest.empty(), "%zu bytes left", rest.size());
  FUZZ_CHECK(decode(rest, limit).kind == FrameDecode::Kind::kNeedMore,
             "empty input not kNeedMore");
  std::string refused;
  FUZZ_CHECK(!EncodeLine("a\nb", &refused) && refused.empty(),
             "a line with \\n was encoded");
}

}  // namespace
}  // namespace polyio::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  polyio::fuzz::ByteReader in(data, size);
  const uint8_t mode = in.Byte();
  const bool lines = mode & 1;
  const size_t limit = in.Bits(2);
  if (mode & 2) {
    polyio::fuzz::CheckRoundTrip(lines, in, limit);
  } else {
    polyio::fuzz::CheckDecode(lines, in.Rest(), limit);
  }
  return 0;
}
