// BufferedReader: reads a stream in large chunks and hands it out by line,
// by delimiter, by frame, or in any size — without losing a byte to
// cancellation.
//
//   BufferedReader<TcpStream> in(stream);
//   for (;;) {
//     absl::StatusOr<std::optional<std::string>> line =
//         co_await in.ReadLine(/*limit=*/4096);
//     if (!line.ok()) break;             // the stream's error, or too long
//     if (!line->has_value()) break;     // end of stream
//     Handle(**line);
//   }
//
// The reader keeps what it has read from the stream in its own buffer, and
// a result is taken out of the buffer only when it is whole. So every read
// here is cancel-safe (docs/cancellation.md): a ReadLine, ReadUntil, Read or
// ReadFrame cancelled (dropped, timed out, aborted) mid-way loses nothing;
// the next call finds the same bytes. (tokio's read_line is not cancel-safe:
// there the partial line is in the caller's String.)
//
// Limits bound memory: ReadUntil/ReadLine give ResourceExhausted when the
// piece would exceed `limit` bytes, as soon as the buffered bytes show it,
// the buffer never growing much past `limit` plus a chunk. After such an
// error the position in the stream is not a piece boundary: close the
// stream (as a server does with an over-long request). End of stream in the
// middle of a piece is OutOfRange ("read_line: end of stream after 5
// bytes"); at a boundary it is an empty optional.
//
// `Inner` is any AsyncReader (concepts.h), borrowed: it must outlive the
// BufferedReader, and is not closed by it. Move-only. Thread-compatible:
// one task reads at a time.
#ifndef POLYIO_RUNTIME_BUFIO_BUFFERED_READER_H_
#define POLYIO_RUNTIME_BUFIO_BUFFERED_READER_H_

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "runtime/bufio/concepts.h"
#include "runtime/bufio/frame_codec.h"
#include "runtime/task/task.h"

namespace polyio {

template <AsyncReader Inner>
class BufferedReader {
 public:
  // `chunk`: how much one read of the inner stream asks for (at least 1).
  explicit BufferedReader(Inner& inner, size_t chunk = 8192)
      : inner_(&inner), chunk_(std::max<size_t>(chunk, 1)) {}
  BufferedReader(BufferedReader&&) = default;
  BufferedReader& operator=(BufferedReader&&) = default;

  // What has been read from the stream and not handed out yet.
  std::string_view buffered() const {
    return std::string_view(buf_.data() + begin_, end_ - begin_);
  }
  // Drops `n` buffered bytes (at most buffered().size()).
  void Consume(size_t n) {
    begin_ += std::min(n, end_ - begin_);
    if (begin_ == end_) begin_ = end_ = 0;
  }

  // Reads one chunk more into the buffer: the bytes added, 0 at end of
  // stream. Cancel-safe: bytes arrive in the buffer or not at all.
  Task<absl::StatusOr<size_t>> Fill() {
    MakeRoom();
    // One chunk, not all the room: after the buffer doubled, a read of all
    // of it could carry the buffered bytes far past a limit plus a chunk.
    absl::StatusOr<size_t> n = co_await inner_->Read(absl::MakeSpan(
        buf_.data() + end_, std::min(chunk_, buf_.size() - end_)));
    if (n.ok()) end_ += *n;
    co_return n;
  }

  // Up to buf.size() bytes: buffered ones first, else one read of the
  // stream (into the buffer when buf is smaller than a chunk).
  Task<absl::StatusOr<size_t>> Read(absl::Span<char> buf) {
    if (buf.empty()) co_return size_t{0};
    if (begin_ == end_) {
      absl::StatusOr<size_t> n = co_await Fill();
      if (!n.ok() || *n == 0) co_return n;
    }
    const size_t n = std::min(buf.size(), end_ - begin_);
    std::memcpy(buf.data(), buf_.data() + begin_, n);
    Consume(n);
    co_return n;
  }

  // The bytes up to and including `delim`. Empty optional at end of stream
  // with nothing buffered.
  Task<absl::StatusOr<std::optional<std::string>>> ReadUntil(
      char delim, size_t limit = SIZE_MAX) {
    size_t searched = 0;
    for (;;) {
      const std::string_view have = buffered();
      const size_t at = have.find(delim, searched);
      if (at != std::string_view::npos && at < limit) {
        std::string piece(have.substr(0, at + 1));
        Consume(at + 1);
        co_return std::optional<std::string>(std::move(piece));
      }
      if (have.size() >= limit) {
        co_return absl::ResourceExhaustedError(
            absl::StrCat("read_until: no delimiter within ", limit, " bytes"));
      }
      searched = have.size();
      absl::StatusOr<size_t> n = co_await Fill();
      if (!n.ok()) co_return n.status();
      if (*n == 0) co_return EndOfStream("read_until");
    }
  }

  // A line, without its "\n" or "\r\n"; at most `limit` bytes long.
  Task<absl::StatusOr<std::optional<std::string>>> ReadLine(
      size_t limit = SIZE_MAX) {
    co_return co_await ReadFrame(&DecodeLine, limit, "read_line");
  }

  // A frame of a 4-byte big-endian length and that many bytes; the
  // payload, at most `limit` bytes (frame_codec.h).
  Task<absl::StatusOr<std::optional<std::string>>> ReadLengthPrefixed(
      size_t limit) {
    co_return co_await ReadFrame(&DecodeLengthPrefixed, limit,
                                 "read_length_prefixed");
  }

 private:
  using Decoder = FrameDecode (*)(std::string_view, size_t);

  Task<absl::StatusOr<std::optional<std::string>>> ReadFrame(Decoder decode,
                                                             size_t limit,
                                                             const char* what) {
    for (;;) {
      const FrameDecode d = decode(buffered(), limit);
      if (d.kind == FrameDecode::Kind::kFrame) {
        std::string payload(d.payload);
        Consume(d.consumed);
        co_return std::optional<std::string>(std::move(payload));
      }
      if (d.kind == FrameDecode::Kind::kTooLarge) {
        co_return absl::ResourceExhaustedError(
            d.size > 0
                ? absl::StrCat(what, ": a frame of ", d.size,
                               " bytes is over the limit of ", limit)
                : absl::StrCat(what, ": no line end within ", limit, " bytes"));
      }
      absl::StatusOr<size_t> n = co_await Fill();
      if (!n.ok()) co_return n.status();
      if (*n == 0) co_return EndOfStream(what);
    }
  }

  absl::StatusOr<std::optional<std::string>> EndOfStream(
      const char* what) const {
    if (begin_ == end_) return std::optional<std::string>();
    return absl::OutOfRangeError(
        absl::StrCat(what, ": end of stream after ", end_ - begin_, " bytes"));
  }

  // At least one chunk free after end_: move the buffered bytes to the
  // front when that makes the room, else grow.
  void MakeRoom() {
    if (buf_.size() - end_ >= chunk_) return;
    const size_t live = end_ - begin_;
    if (begin_ > 0 && buf_.size() - live >= chunk_) {
      std::memmove(buf_.data(), buf_.data() + begin_, live);
    } else {
      std::vector<char> bigger(std::max(buf_.size() * 2, live + chunk_));
      // (An empty buffer has no data() to copy from, not even 0 bytes.)
      if (live > 0) std::memcpy(bigger.data(), buf_.data() + begin_, live);
      buf_.swap(bigger);
    }
    begin_ = 0;
    end_ = live;
  }

  Inner* inner_;
  size_t chunk_;
  std::vector<char> buf_;
  size_t begin_ = 0;  // buffered bytes are [begin_, end_)
  size_t end_ = 0;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_BUFIO_BUFFERED_READER_H_
