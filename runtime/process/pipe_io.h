// PipeReader / PipeWriter: the parent's ends of a child's stdio pipes.
//
// *** A PRIVATE STAND-IN, TO BE REPLACED BY `Pipe` ***
// The descriptors branch adds a Pipe (an async reader/writer over a pipe
// fd, holding it in an FdHandle like TcpStream). Until it lands on main,
// these two small types do the job inside runtime/process/ only; once it
// does, ChildStdin/ChildStdout/ChildStderr (child.h) become that type and
// this file and pipe_io.cc go. Nothing outside runtime/process/ may use
// them.
//
//   absl::StatusOr<size_t> n = co_await reader.Read(buf);  // 0: end of data
//   absl::Status st = co_await writer.WriteAll(data);
//
// Both hold the fd in an FdHandle (runtime/io/fd_handle.h), as TcpStream
// does, so a future never touches the number after Close; futures made
// before Close fail with FailedPrecondition, those in flight at Close with
// CancelledError.
// - Read is an IoFuture of kRead (one SQE on io_uring, try-then-park on the
//   readiness backends), built as TcpStream's ReadFuture is, and
//   cancel-safe the same way: bytes a cancelled read received stay in the
//   handle for the next Read.
// - Write never raises SIGPIPE: a write to a pipe whose reader is gone
//   fails with EPIPE ("Broken pipe"). Pipes have no MSG_NOSIGNAL, so the
//   write(2) is made here, on the polling thread, with SIGPIPE blocked for
//   its duration (and the SIGPIPE it raised, if any, taken back with
//   sigtimedwait), not through the backend's kWrite: a readiness backend's
//   write would raise it in the driver thread. A full pipe waits with
//   kPollFd(kPollOut) and tries again. So a Write either wrote (and says
//   how much) or wrote nothing: it is cancel-safe. WriteAll is not (a
//   cancelled one has written a prefix, and says how long).
// - The inline write reads the fd number on the polling thread: Close must
//   not race a Write from another thread (the owner's contract below).
//
// Threads and lifetime: as TcpStream — one read and one write at a time,
// futures usable from any task; close or destroy before the Runtime whose
// driver first polled it. Move-only. Thread-compatible.
#ifndef POLYIO_RUNTIME_PROCESS_PIPE_IO_H_
#define POLYIO_RUNTIME_PROCESS_PIPE_IO_H_

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

namespace polyio::internal {

// A pipe, both ends close-on-exec and blocking: [0] reads, [1] writes.
absl::Status MakePipe(UniqueFd (&ends)[2]);

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
  // Takes `fd` (a pipe's read end; made non-blocking here). `owner` names
  // it in messages ("child stdout").
  PipeReader(UniqueFd fd, const char* owner);
  PipeReader(PipeReader&&) noexcept = default;
  PipeReader& operator=(PipeReader&& other) noexcept;
  ~PipeReader() { Close().IgnoreError(); }

  // At most buf.size() bytes; 0 once the writer closed its end.
  PipeReadFuture Read(absl::Span<char> buf) {
    return PipeReadFuture(handle_, buf);
  }
  absl::Status Close();
  int fd() const { return handle_ ? handle_->fd() : -1; }

 private:
  RefPtr<FdHandle> handle_;
};

class PipeWriter {
 public:
  PipeWriter(UniqueFd fd, const char* owner);
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

 private:
  RefPtr<FdHandle> handle_;
};

}  // namespace polyio::internal

#endif  // POLYIO_RUNTIME_PROCESS_PIPE_IO_H_
