#include "runtime/bufio/frame_codec.h"

#include <cstdint>

namespace polyio {

FrameDecode DecodeLine(std::string_view buffered, size_t limit) {
  FrameDecode d;
  // A line of at most `limit` bytes has its "\n" at index limit + 1 at the
  // latest (after a "\r"): look no further than that.
  const size_t reach = limit >= SIZE_MAX - 2 ? SIZE_MAX : limit + 2;
  const size_t end = buffered.substr(0, reach).find('\n');
  if (end == std::string_view::npos) {
    // No end within reach, or the only place left for it (index limit + 1)
    // does not follow a "\r": the line is over the limit whatever comes.
    if (buffered.size() >= reach ||
        (buffered.size() == reach - 1 && buffered.back() != '\r')) {
      d.kind = FrameDecode::Kind::kTooLarge;
    }
    return d;
  }
  size_t len = end;
  if (len > 0 && buffered[len - 1] == '\r') --len;
  if (len > limit) {
    d.kind = FrameDecode::Kind::kTooLarge;
    d.size = len;
    return d;
  }
  d.kind = FrameDecode::Kind::kFrame;
  d.payload = buffered.substr(0, len);
  d.consumed = end + 1;
  return d;
}

FrameDecode DecodeLengthPrefixed(std::string_view buffered, size_t limit) {
  FrameDecode d;
  if (buffered.size() < kLengthPrefixSize) return d;
  uint64_t len = 0;
  for (size_t i = 0; i < kLengthPrefixSize; ++i) {
    len = (len << 8) | static_cast<unsigned char>(buffered[i]);
  }
  if (len > limit) {
    d.kind = FrameDecode::Kind::kTooLarge;
    d.size = len;
    return d;
  }
  if (buffered.size() - kLengthPrefixSize < len) return d;
  d.kind = FrameDecode::Kind::kFrame;
  d.payload = buffered.substr(kLengthPrefixSize, len);
  d.consumed = kLengthPrefixSize + len;
  return d;
}

bool EncodeLine(std::string_view payload, std::string* out) {
  if (payload.find('\n') != std::string_view::npos) return false;
  out->append(payload);
  out->push_back('\n');
  return true;
}

bool EncodeLengthPrefixed(std::string_view payload, std::string* out) {
  if (payload.size() > kMaxLengthPrefixed) return false;
  AppendLengthPrefix(static_cast<uint32_t>(payload.size()), out);
  out->append(payload);
  return true;
}

void AppendLengthPrefix(uint32_t len, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((len >> shift) & 0xff));
  }
}

}  // namespace polyio
