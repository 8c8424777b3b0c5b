// ReadExact, ReadToEnd, WriteAllTo, Copy: whole-buffer helpers over any
// AsyncReader / AsyncWriter (concepts.h).
//
//   absl::Status s = co_await ReadExact(stream, absl::MakeSpan(header));
//   absl::StatusOr<std::string> body = co_await ReadToEnd(pipe, 1 << 20);
//   absl::StatusOr<uint64_t> n = co_await Copy(file_reader, socket);
//
// Each is a Task: awaiting it runs it in the caller's task, and the reader
// or writer must live until it completes (they are taken by reference).
//
// Errors: the stream's own error, prefixed with the helper and how far it
// got ("read_exact: after 10 of 16 bytes: read fd 7: Connection reset by
// peer"). End of stream before ReadExact's buffer is full is OutOfRange
// ("read_exact: end of stream after 10 of 16 bytes"); ReadToEnd past its
// limit is ResourceExhausted — the limit bounds what it allocates.
//
// Cancel-safety (docs/cancellation.md): none of them is, except a Copy that
// splices (below). Cancelled, each ends with CancelledError saying how many
// bytes it had moved; those bytes are in the buffer (ReadExact), dropped
// (ReadToEnd), or written (WriteAllTo, Copy). Use BufferedReader for reads
// that must survive cancellation.
//
// Thread-compatible: one task uses a stream through a helper at a time.
#ifndef POLYIO_RUNTIME_BUFIO_READ_WRITE_H_
#define POLYIO_RUNTIME_BUFIO_READ_WRITE_H_

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "platform/ref_ptr.h"
#include "runtime/bufio/concepts.h"
#include "runtime/io/fd_handle.h"
#include "runtime/io/splice.h"
#include "runtime/task/task.h"

namespace polyio {

namespace bufio_internal {

// "<what>: after <done> of <total> bytes: <error>", same code.
absl::Status Progress(absl::string_view what, uint64_t done, uint64_t total,
                      const absl::Status& error);
// The same, for helpers that do not know the total.
absl::Status Progress(absl::string_view what, uint64_t done,
                      const absl::Status& error);

// Copy's buffer, when it does not splice.
inline constexpr size_t kCopyBufferSize = 64 * 1024;

}  // namespace bufio_internal

// Fills all of `buf`.
template <AsyncReader R>
Task<absl::Status> ReadExact(R& reader, absl::Span<char> buf) {
  size_t got = 0;
  while (got < buf.size()) {
    absl::StatusOr<size_t> n = co_await reader.Read(buf.subspan(got));
    if (!n.ok()) {
      co_return bufio_internal::Progress("read_exact", got, buf.size(),
                                         n.status());
    }
    if (*n == 0) {
      co_return absl::OutOfRangeError(
          absl::StrCat("read_exact: end of stream after ", got, " of ",
                       buf.size(), " bytes"));
    }
    got += *n;
  }
  co_return absl::OkStatus();
}

// Everything until end of stream, at most `limit` bytes.
template <AsyncReader R>
Task<absl::StatusOr<std::string>> ReadToEnd(R& reader,
                                            size_t limit = SIZE_MAX) {
  std::string out;
  size_t chunk = 4096;
  for (;;) {
    if (out.size() == limit) {
      // Full: one byte more says whether the stream ends here.
      char probe;
      absl::StatusOr<size_t> n =
          co_await reader.Read(absl::MakeSpan(&probe, 1));
      if (!n.ok()) {
        co_return bufio_internal::Progress("read_to_end", out.size(),
                                           n.status());
      }
      if (*n == 0) co_return out;
      co_return absl::ResourceExhaustedError(
          absl::StrCat("read_to_end: more than ", limit, " bytes"));
    }
    const size_t old = out.size();
    const size_t room = std::min(chunk, limit - old);
    out.resize(old + room);
    absl::StatusOr<size_t> n =
        co_await reader.Read(absl::MakeSpan(out.data() + old, room));
    if (!n.ok()) {
      co_return bufio_internal::Progress("read_to_end", old, n.status());
    }
    out.resize(old + *n);
    if (*n == 0) co_return out;
    if (*n == room && chunk < (size_t{1} << 20)) chunk *= 2;
  }
}

// Writes all of `data` through Write. (TcpStream's own WriteAll does the
// same without a coroutine frame; this one takes any writer.)
template <AsyncWriter W>
Task<absl::Status> WriteAllTo(W& writer, absl::Span<const char> data) {
  size_t done = 0;
  while (done < data.size()) {
    absl::StatusOr<size_t> n = co_await writer.Write(data.subspan(done));
    if (!n.ok()) {
      co_return bufio_internal::Progress("write_all", done, data.size(),
                                         n.status());
    }
    done += *n;
  }
  co_return absl::OkStatus();
}

// A stream whose descriptor Copy can hand to splice(2): TcpStream,
// UnixStream, PipeReader, PipeWriter.
template <class T>
concept HasIoHandle = requires(const T& t) {
  { t.io_handle() } -> std::convertible_to<const RefPtr<FdHandle>&>;
};

namespace bufio_internal {

// Copy by splice(2) (io/splice.h), until `in`'s end of stream.
Task<absl::StatusOr<uint64_t>> SpliceCopy(RefPtr<FdHandle> in,
                                          RefPtr<FdHandle> out);

}  // namespace bufio_internal

// Moves bytes from `reader` to `writer` until the reader's end of stream;
// returns how many.
//
// On Linux, when both are polyio streams (HasIoHandle) and CanSplice says
// their descriptors allow it (a pipe on one side, a pipe or a stream socket
// on the other), the kernel moves the bytes with splice(2), waiting for
// readiness through the backend like any read (io/splice.h). A Copy by
// splice loses nothing when cancelled: every byte it counted is in the
// writer, every other one still in the reader. Otherwise a 64 KiB buffer,
// allocated once per call (not zero-filled), read into and written out;
// cancelled, the bytes of the last read not written yet are lost.
template <AsyncReader R, AsyncWriter W>
Task<absl::StatusOr<uint64_t>> Copy(R& reader, W& writer) {
  if constexpr (HasIoHandle<R> && HasIoHandle<W>) {
    if (reader.io_handle() && writer.io_handle() &&
        CanSplice(*reader.io_handle(), *writer.io_handle())) {
      co_return co_await bufio_internal::SpliceCopy(reader.io_handle(),
                                                    writer.io_handle());
    }
  }
  std::unique_ptr<char[]> storage(new char[bufio_internal::kCopyBufferSize]);
  const absl::Span<char> buf(storage.get(), bufio_internal::kCopyBufferSize);
  uint64_t copied = 0;
  for (;;) {
    absl::StatusOr<size_t> n = co_await reader.Read(buf);
    if (!n.ok()) co_return bufio_internal::Progress("copy", copied, n.status());
    if (*n == 0) co_return copied;
    absl::Status w =
        co_await WriteAllTo(writer, absl::MakeConstSpan(buf.data(), *n));
    if (!w.ok()) co_return bufio_internal::Progress("copy", copied, w);
    copied += *n;
  }
}

}  // namespace polyio

#endif  // POLYIO_RUNTIME_BUFIO_READ_WRITE_H_
