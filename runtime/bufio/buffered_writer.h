// BufferedWriter: gathers small writes into one, and frame writers.
//
//   BufferedWriter<TcpStream> out(stream);
//   co_await out.Write("HTTP/1.1 200 OK\r\n");
//   co_await out.WriteLine("X-Id: 7");
//   co_await out.WriteLengthPrefixed(payload);
//   absl::Status s = co_await out.Flush();   // the bytes are on the wire
//
// Write appends to the buffer and writes it to the stream only when it is
// full; a piece larger than the buffer goes out in its own writes after the
// buffer. Nothing reaches the stream before Flush unless the buffer filled:
// a BufferedWriter destroyed with bytes in it drops them (a destructor
// cannot await a write; tokio's BufWriter does the same). Flush before
// dropping it, or before waiting for a reply.
//
// Errors are the stream's ("write_all: after 0 of 12 bytes: write fd 7:
// Broken pipe"); after an error the buffered bytes are dropped, as the
// stream's state is unknown. WriteLine refuses a line containing "\n", and
// WriteLengthPrefixed a payload over 4 GiB - 1, with InvalidArgument,
// before writing anything.
//
// Cancel-safety (docs/cancellation.md): a cancelled Write that only
// buffered is complete; one that was writing to the stream, and a
// cancelled Flush, may have sent part of the buffer — the rest stays
// buffered, and the next Flush sends it, so no byte is sent twice.
//
// `Inner` is any AsyncWriter (concepts.h), borrowed: it must outlive the
// BufferedWriter. Move-only. Thread-compatible: one task writes at a time.
#ifndef POLYIO_RUNTIME_BUFIO_BUFFERED_WRITER_H_
#define POLYIO_RUNTIME_BUFIO_BUFFERED_WRITER_H_

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "runtime/bufio/concepts.h"
#include "runtime/bufio/frame_codec.h"
#include "runtime/bufio/read_write.h"
#include "runtime/task/task.h"

namespace polyio {

template <AsyncWriter Inner>
class BufferedWriter {
 public:
  explicit BufferedWriter(Inner& inner, size_t capacity = 8192)
      : inner_(&inner), capacity_(std::max<size_t>(capacity, 1)) {}
  BufferedWriter(BufferedWriter&&) = default;
  BufferedWriter& operator=(BufferedWriter&&) = default;

  // Bytes written to this writer and not yet to the stream.
  size_t buffered() const { return buf_.size() - sent_; }

  Task<absl::Status> Write(std::string_view data) {
    if (buffered() + data.size() <= capacity_) {
      buf_.append(data);
      co_return absl::OkStatus();
    }
    absl::Status s = co_await Flush();
    if (!s.ok()) co_return s;
    if (data.size() <= capacity_) {
      buf_.append(data);
      co_return absl::OkStatus();
    }
    co_return co_await WriteAllTo(*inner_, absl::MakeConstSpan(data));
  }

  Task<absl::Status> WriteLine(std::string_view line) {
    if (line.find('\n') != std::string_view::npos) {
      co_return absl::InvalidArgumentError(
          "write_line: the line contains a line end");
    }
    absl::Status s = co_await Write(line);
    if (!s.ok()) co_return s;
    co_return co_await Write("\n");
  }

  Task<absl::Status> WriteLengthPrefixed(std::string_view payload) {
    if (payload.size() > kMaxLengthPrefixed) {
      co_return absl::InvalidArgumentError(
          absl::StrCat("write_length_prefixed: a payload of ", payload.size(),
                       " bytes does not fit a 4-byte length"));
    }
    std::string header;
    AppendLengthPrefix(static_cast<uint32_t>(payload.size()), &header);
    absl::Status s = co_await Write(header);
    if (!s.ok()) co_return s;
    co_return co_await Write(payload);
  }

  // Writes every buffered byte to the stream.
  Task<absl::Status> Flush() {
    while (sent_ < buf_.size()) {
      absl::StatusOr<size_t> n = co_await inner_->Write(
          absl::MakeConstSpan(buf_.data() + sent_, buf_.size() - sent_));
      if (!n.ok()) {
        absl::Status error =
            bufio_internal::Progress("flush", sent_, buf_.size(), n.status());
        if (!absl::IsCancelled(n.status())) Clear();
        co_return error;
      }
      sent_ += *n;
    }
    Clear();
    co_return absl::OkStatus();
  }

 private:
  void Clear() {
    buf_.clear();
    sent_ = 0;
  }

  Inner* inner_;
  size_t capacity_;
  std::string buf_;
  size_t sent_ = 0;  // bytes of buf_ already written (a Flush cut short)
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_BUFIO_BUFFERED_WRITER_H_
