// Pipe, PipeReader, PipeWriter: the two ends of a pipe (or a FIFO, or an
// inherited stdin/stdout), read and written with co_await.
//
//   absl::StatusOr<Pipe> p = Pipe::Open();
//   absl::Status st = co_await p->writer.WriteAll(data);
//   absl::StatusOr<size_t> n = co_await p->reader.Read(buf);  // 0: end
//
//   absl::StatusOr<PipeReader> in = PipeReader::Stdin();  // a copy of fd 0
//
// The ends are owned separately: one task may read while another writes,
// and each end closes on its own (a Pipe is already split, as tokio's
// pipe::pipe() gives a Sender and a Receiver). The reader sees end of data
// (a Read of 0) once every copy of the write end is closed — including
// copies inherited by child processes, which is why every end polyio makes
// is close-on-exec.
//
// Errors name the call and the end ("read pipe fd 7: ...", "write child
// stdin: Broken pipe"). Writing to a pipe whose reader is gone fails with
// EPIPE ("Broken pipe"); it never raises SIGPIPE: pipes have no
// MSG_NOSIGNAL, so the write(2) is made here, on the polling thread, with
// SIGPIPE blocked for its duration (and the SIGPIPE it raised taken back
// with sigtimedwait, unless one was pending already), not through the
// backend's kWrite, which on a readiness backend would raise it in the
// driver thread.
//
// Close: as TcpStream (io/fd_handle.h). Close() ends a Read in flight with
// CancelledError; futures made before Close and awaited after fail with
// FailedPrecondition; no future touches the fd number after Close.
//
// Cancellation (docs/cancellation.md):
// - Read is cancel-safe: a Read is one kRead operation (one SQE on
//   io_uring, try-then-park on the readiness backends), and bytes that a
//   cancelled read received anyway stay in the reader for the next Read.
// - Write is cancel-safe too, unlike TcpStream's: it is tried inline, and a
//   full pipe waits for room with kPollFd(kPollOut) before trying again, so
//   a Write either wrote (and says how much) or wrote nothing. WriteAll is
//   not: cancelled, it fails saying how many bytes were written first.
//
// Adopting a descriptor (FromFd, Stdin, Stdout, Stderr): a pipe, a FIFO or
// a socket, opened for the direction asked. The end is made non-blocking;
// O_NONBLOCK belongs to the open file description, so every other holder
// of it (the process that passed down the pipe) sees it too — as with
// tokio's pipe::Receiver::from_file and libuv's uv_pipe_open. So a
// terminal is refused (its description is the shell's, which breaks on a
// non-blocking terminal), and so is a regular file for reading (always
// "ready", never a stream: read it with File); a writer also takes a
// regular file or /dev/null, whose writes complete at once. On failure the
// descriptor stays with the caller, untouched.
//
// Threads and lifetime: as TcpStream — a reader has one Read pending at a
// time, a writer one Write; futures may be awaited from any task on any
// worker. An end must be closed or destroyed before the Runtime whose
// driver first polled it. Write reads the fd number on the polling thread:
// Close must not race a Write from another thread. Move-only.
// Thread-compatible.
#ifndef POLYIO_RUNTIME_PIPE_PIPE_H_
#define POLYIO_RUNTIME_PIPE_PIPE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "platform/ref_ptr.h"
#include "platform/unique_fd.h"
#include "runtime/io/fd_handle.h"
#include "runtime/io/io_future.h"
#include "runtime/task/context.h"
#include "runtime/task/poll.h"
#include "runtime/task/task.h"

namespace polyio {

namespace internal {
// A pipe, both ends close-on-exec and blocking: [0] reads, [1] writes (the
// child's stdio pipes; runtime/process).
absl::Status MakePipe(UniqueFd (&ends)[2]);
}  // namespace internal

class PipeReadFuture {
 public:
  PipeReadFuture(RefPtr<FdHandle> handle, absl::Span<char> buf);
  PipeReadFuture(PipeReadFuture&&) = default;  // only before the first poll
  ~PipeReadFuture();
  polyio::Poll<absl::StatusOr<size_t>> Poll(Context& cx);

 private:
  enum class State : uint8_t { kIdle, kSubmitted, kDone };
  RefPtr<FdHandle> handle_;
  absl::Span<char> buf_;
  State state_ = State::kIdle;
  IoFuture io_;
};

class PipeWriteFuture {
 public:
  PipeWriteFuture(RefPtr<FdHandle> handle, absl::Span<const char> buf)
      : handle_(std::move(handle)), buf_(buf) {}
  PipeWriteFuture(PipeWriteFuture&&) = default;  // only before the first poll
  polyio::Poll<absl::StatusOr<size_t>> Poll(Context& cx);

 private:
  RefPtr<FdHandle> handle_;
  absl::Span<const char> buf_;
  // Waiting for room in the pipe.
  std::optional<IoFuture> room_;
};

class PipeReader {
 public:
  // Adopts `fd`, a pipe's read end, a FIFO opened for reading or a socket
  // (see above); InvalidArgument naming PipeReader::FromFd otherwise, and
  // `fd` is then left with the caller.
  static absl::StatusOr<PipeReader> FromFd(UniqueFd&& fd);
  // A close-on-exec copy of fd 0, adopted as FromFd does.
  static absl::StatusOr<PipeReader> Stdin();
  // For polyio's own pipes: `fd` is known to be a pipe's read end. `owner`
  // names it in messages ("child stdout").
  static PipeReader AdoptPipeEnd(UniqueFd fd, const char* owner);

  PipeReader(PipeReader&&) noexcept = default;
  PipeReader& operator=(PipeReader&& other) noexcept;
  ~PipeReader() { Close().IgnoreError(); }

  // At most buf.size() bytes; 0 once every write end is closed.
  PipeReadFuture Read(absl::Span<char> buf) {
    return PipeReadFuture(handle_, buf);
  }
  absl::Status Close();
  // -1 once closed or moved from.
  int fd() const { return handle_ ? handle_->fd() : -1; }
  // The shared descriptor, for polyio's own helpers (Copy's splice,
  // io/splice.h); null once moved from.
  const RefPtr<FdHandle>& io_handle() const { return handle_; }

 private:
  explicit PipeReader(RefPtr<FdHandle> handle) : handle_(std::move(handle)) {}
  RefPtr<FdHandle> handle_;
};

class PipeWriter {
 public:
  // Adopts `fd`, a pipe's write end, a FIFO opened for writing, a socket, a
  // regular file or /dev/null (see above); InvalidArgument naming
  // PipeWriter::FromFd otherwise, and `fd` is then left with the caller.
  static absl::StatusOr<PipeWriter> FromFd(UniqueFd&& fd);
  // Close-on-exec copies of fd 1 and fd 2, adopted as FromFd does.
  static absl::StatusOr<PipeWriter> Stdout();
  static absl::StatusOr<PipeWriter> Stderr();
  // For polyio's own pipes, as PipeReader::AdoptPipeEnd.
  static PipeWriter AdoptPipeEnd(UniqueFd fd, const char* owner);

  PipeWriter(PipeWriter&&) noexcept = default;
  PipeWriter& operator=(PipeWriter&& other) noexcept;
  ~PipeWriter() { Close().IgnoreError(); }

  // At most buf.size() bytes; returns how many.
  PipeWriteFuture Write(absl::Span<const char> buf) {
    return PipeWriteFuture(handle_, buf);
  }
  // All of `buf`, or fails saying how many bytes were written first. The
  // bytes must stay put until the task completes.
  Task<absl::Status> WriteAll(absl::Span<const char> buf);
  // The reader sees end of data once every copy of this end is closed.
  absl::Status Close();
  int fd() const { return handle_ ? handle_->fd() : -1; }
  // The shared descriptor, for polyio's own helpers (Copy's splice,
  // io/splice.h); null once moved from.
  const RefPtr<FdHandle>& io_handle() const { return handle_; }

 private:
  explicit PipeWriter(RefPtr<FdHandle> handle) : handle_(std::move(handle)) {}
  RefPtr<FdHandle> handle_;
};

// A new pipe: both ends non-blocking and close-on-exec.
struct Pipe {
  static absl::StatusOr<Pipe> Open();

  PipeWriter writer;
  PipeReader reader;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_PIPE_PIPE_H_
