// Frame codecs: where a frame ends in buffered bytes, with no I/O and no
// allocation, so that the readers (frames.h) and a fuzz target share them.
//
// Two framings, the two most servers use:
// - Lines: a frame is the bytes up to "\n"; a "\r" just before it is
//   dropped too ("\r\n"). The limit counts the line without its ending.
// - Length-prefixed: a 4-byte big-endian length, then that many bytes.
//   The limit counts the payload.
// A frame over the limit is reported as soon as the bytes show it (a
// length field, or `limit` + 2 bytes without a line end), before anything
// is allocated for it.
//
// Thread-safe: pure functions.
#ifndef POLYIO_RUNTIME_BUFIO_FRAME_CODEC_H_
#define POLYIO_RUNTIME_BUFIO_FRAME_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace polyio {

inline constexpr size_t kLengthPrefixSize = 4;
// The largest payload a 4-byte length can describe.
inline constexpr size_t kMaxLengthPrefixed = 0xffffffffu;

struct FrameDecode {
  enum class Kind {
    kFrame,     // `payload` is a whole frame; drop `consumed` bytes after it
    kNeedMore,  // a valid beginning: buffer more, decode again
    kTooLarge,  // the frame is over the limit (`size` says how big, when the
                // framing says; 0 for a line with no end in sight)
  };
  Kind kind = Kind::kNeedMore;
  std::string_view payload;  // points into the input; kFrame only
  size_t consumed = 0;       // kFrame: payload plus its framing
  uint64_t size = 0;         // kTooLarge: the announced payload size
};

FrameDecode DecodeLine(std::string_view buffered, size_t limit);
FrameDecode DecodeLengthPrefixed(std::string_view buffered, size_t limit);

// Appends the framing and `payload` to `out`. EncodeLine refuses (false,
// `out` unchanged) a payload that contains "\n"; EncodeLengthPrefixed one
// longer than kMaxLengthPrefixed.
bool EncodeLine(std::string_view payload, std::string* out);
// Just the 4-byte big-endian length.
void AppendLengthPrefix(uint32_t len, std::string* out);
bool EncodeLengthPrefixed(std::string_view payload, std::string* out);

}  // namespace polyio

#endif  // POLYIO_RUNTIME_BUFIO_FRAME_CODEC_H_
