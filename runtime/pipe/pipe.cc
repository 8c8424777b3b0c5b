#include "runtime/pipe/pipe.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "backends/operation.h"
#include "platform/socket.h"
#include "runtime/io/no_sigpipe.h"

namespace polyio {
namespace {

absl::Status Closed(const FdHandle* handle, const char* op) {
  return absl::FailedPreconditionError(absl::StrCat(
      op, " ", handle != nullptr ? handle->owner() : "pipe", ": closed"));
}

absl::Status Failed(const FdHandle& handle, int32_t res, const char* op,
                    int fd) {
  if (handle.closed()) {
    if (res == -ECANCELED) {
      return absl::CancelledError(
          absl::StrCat(op, " ", handle.owner(), ": cancelled: it was closed"));
    }
    return Closed(&handle, op);
  }
  if (res == -ECANCELED) {
    return absl::CancelledError(
        absl::StrCat(op, " ", handle.owner(), ": cancelled"));
  }
  return absl::ErrnoToStatus(-res,
                             absl::StrCat(op, " ", handle.owner(), " fd ", fd));
}

// Which way an adopted descriptor goes.
enum class Direction : uint8_t { kRead, kWrite };

// Whether `fd` may become a PipeReader/PipeWriter (pipe.h says which kinds
// and why); an InvalidArgument naming `call` if not.
absl::Status CheckAdoptable(int fd, Direction dir, const char* call) {
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(call, ": fd ", fd, " is not a descriptor"));
  }
  struct stat st;
  if (::fstat(fd, &st) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat(call, " fd ", fd));
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat(call, " fd ", fd));
  }
  const int mode = flags & O_ACCMODE;
  if (dir == Direction::kRead ? mode == O_WRONLY : mode == O_RDONLY) {
    return absl::InvalidArgumentError(absl::StrCat(
        call, " fd ", fd, ": opened ",
        mode == O_WRONLY ? "write-only" : "read-only", ", not for ",
        dir == Direction::kRead ? "reading" : "writing"));
  }
  if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) return absl::OkStatus();
  if (::isatty(fd)) {
    return absl::InvalidArgumentError(absl::StrCat(
        call, " fd ", fd,
        ": a terminal (making it non-blocking would change it for the "
        "shell too); use SpawnBlocking for terminal I/O"));
  }
  if (dir == Direction::kWrite &&
      (S_ISREG(st.st_mode) || S_ISCHR(st.st_mode))) {
    return absl::OkStatus();  // writes complete at once
  }
  return absl::InvalidArgumentError(
      absl::StrCat(call, " fd ", fd, ": not a pipe, FIFO or socket",
                   S_ISREG(st.st_mode) ? " (a regular file: read it with File)"
                   : S_ISDIR(st.st_mode) ? " (a directory)"
                                         : ""));
}

// Adopts `fd` once CheckAdoptable has passed.
RefPtr<FdHandle> Adopt(UniqueFd fd, const char* owner) {
  MakeNonBlocking(fd.get()).IgnoreError();
  return FdHandle::Make(std::move(fd), nullptr, owner);
}

// A close-on-exec copy of stdio fd `fd`.
// Adopts a close-on-exec copy of stdio fd `fd`, once CheckAdoptable passes.
absl::StatusOr<RefPtr<FdHandle>> AdoptStdio(int fd, Direction dir,
                                            const char* call,
                                            const char* owner) {
  UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
  if (!copy) return absl::ErrnoToStatus(errno, absl::StrCat(call, " fd ", fd));
  absl::Status ok = CheckAdoptable(copy.get(), dir, call);
  if (!ok.ok()) return ok;
  return Adopt(std::move(copy), owner);
}

}  // namespace

namespace internal {

absl::Status MakePipe(UniqueFd (&ends)[2]) {
  int p[2];
#if defined(__APPLE__)
  if (::pipe(p) < 0) return absl::ErrnoToStatus(errno, "pipe");
  for (int fd : p) {
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
      int err = errno;
      ::close(p[0]);
      ::close(p[1]);
      return absl::ErrnoToStatus(err, "fcntl FD_CLOEXEC pipe");
    }
  }
#else
  // Close-on-exec from the start: another thread may spawn at any moment.
  if (::pipe2(p, O_CLOEXEC) < 0) return absl::ErrnoToStatus(errno, "pipe");
#endif
  ends[0].Reset(p[0]);
  ends[1].Reset(p[1]);
  return absl::OkStatus();
}

}  // namespace internal

PipeReadFuture::PipeReadFuture(RefPtr<FdHandle> handle, absl::Span<char> buf)
    : handle_(std::move(handle)), buf_(buf) {
  if (!handle_) return;
  io_.set_driver(handle_->home());
  io_.set_fd_source(handle_->fd_source());
  Operation& op = io_.op();
  op.kind = OpKind::kRead;
  op.buf = buf.data();
  op.len = buf.size();
}

PipeReadFuture::~PipeReadFuture() {
  if (state_ != State::kSubmitted) return;
  // Completed unseen (the future was dropped): the bytes stay in the pipe's
  // handle for the next read.
  int32_t res = io_.Abandon();
  if (res > 0) handle_->KeepBytes(buf_.first(static_cast<size_t>(res)));
}

Poll<absl::StatusOr<size_t>> PipeReadFuture::Poll(Context& cx) {
  using Result = absl::StatusOr<size_t>;
  if (state_ == State::kIdle) {
    if (!handle_ || handle_->closed())
      return Result(Closed(handle_.get(), "read"));
    if (buf_.empty()) return Result(0);
    if (handle_->has_kept_bytes()) {
      if (cx.cancelled()) {
        return Result(absl::CancelledError(
            absl::StrCat("read ", handle_->owner(), ": cancelled")));
      }
      state_ = State::kDone;
      return Result(handle_->TakeKeptBytes(buf_));
    }
    state_ = State::kSubmitted;
  }
  polyio::Poll<int32_t> res = io_.PollResult(cx);
  if (res.pending()) return kPending;
  state_ = State::kDone;
  const int32_t n = res.value();
  if (n > 0 && cx.cancelled()) {
    handle_->KeepBytes(buf_.first(static_cast<size_t>(n)));
    return Result(absl::CancelledError(
        absl::StrCat("read ", handle_->owner(), ": cancelled; the ", n,
                     " bytes it received are kept for the next read")));
  }
  if (n < 0) return Result(Failed(*handle_, n, "read", io_.op().fd));
  return Result(static_cast<size_t>(n));
}

Poll<absl::StatusOr<size_t>> PipeWriteFuture::Poll(Context& cx) {
  using Result = absl::StatusOr<size_t>;
  for (;;) {
    if (room_) {
      polyio::Poll<int32_t> ready = room_->PollResult(cx);
      if (ready.pending()) return kPending;
      const int32_t res = ready.value();
      room_.reset();
      // Ready, or an error the next write reports better (POLLERR on a
      // pipe whose reader is gone: the write says EPIPE).
      if (res == -ECANCELED || res == -EBADF) {
        return Result(Failed(*handle_, res, "write", handle_->fd()));
      }
    }
    if (!handle_ || handle_->closed()) {
      return Result(Closed(handle_.get(), "write"));
    }
    if (buf_.empty()) return Result(0);
    if (cx.cancelled()) {
      return Result(absl::CancelledError(
          absl::StrCat("write ", handle_->owner(), ": cancelled")));
    }
    if (!cx.ConsumeBudget()) {
      cx.waker().WakeByRef();
      return kPending;
    }
    const int fd = handle_->fd();
    // write(2) itself: EPIPE, not SIGPIPE (pipe.h).
    ssize_t n = internal::WithoutSigpipe(
        [&] { return ::write(fd, buf_.data(), buf_.size()); });
    if (n >= 0) return Result(static_cast<size_t>(n));
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return Result(Failed(*handle_, -errno, "write", fd));
    }
    room_.emplace();
    room_->set_driver(handle_->home());
    room_->set_fd_source(handle_->fd_source());
    Operation& op = room_->op();
    op.kind = OpKind::kPollFd;
    op.poll_events = kPollOut;
  }
}

absl::StatusOr<PipeReader> PipeReader::FromFd(UniqueFd&& fd) {
  absl::Status ok =
      CheckAdoptable(fd.get(), Direction::kRead, "PipeReader::FromFd");
  if (!ok.ok()) return ok;
  return PipeReader(Adopt(std::move(fd), "pipe"));
}

absl::StatusOr<PipeReader> PipeReader::Stdin() {
  absl::StatusOr<RefPtr<FdHandle>> handle =
      AdoptStdio(0, Direction::kRead, "PipeReader::Stdin", "stdin");
  if (!handle.ok()) return handle.status();
  return PipeReader(std::move(*handle));
}

PipeReader PipeReader::AdoptPipeEnd(UniqueFd fd, const char* owner) {
  return PipeReader(Adopt(std::move(fd), owner));
}

PipeReader& PipeReader::operator=(PipeReader&& other) noexcept {
  if (this != &other) {
    Close().IgnoreError();
    handle_ = std::move(other.handle_);
  }
  return *this;
}

absl::Status PipeReader::Close() {
  if (!handle_) return absl::OkStatus();
  return handle_->Close();
}

absl::StatusOr<PipeWriter> PipeWriter::FromFd(UniqueFd&& fd) {
  absl::Status ok =
      CheckAdoptable(fd.get(), Direction::kWrite, "PipeWriter::FromFd");
  if (!ok.ok()) return ok;
  return PipeWriter(Adopt(std::move(fd), "pipe"));
}

absl::StatusOr<PipeWriter> PipeWriter::Stdout() {
  absl::StatusOr<RefPtr<FdHandle>> handle =
      AdoptStdio(1, Direction::kWrite, "PipeWriter::Stdout", "stdout");
  if (!handle.ok()) return handle.status();
  return PipeWriter(std::move(*handle));
}

absl::StatusOr<PipeWriter> PipeWriter::Stderr() {
  absl::StatusOr<RefPtr<FdHandle>> handle =
      AdoptStdio(2, Direction::kWrite, "PipeWriter::Stderr", "stderr");
  if (!handle.ok()) return handle.status();
  return PipeWriter(std::move(*handle));
}

PipeWriter PipeWriter::AdoptPipeEnd(UniqueFd fd, const char* owner) {
  return PipeWriter(Adopt(std::move(fd), owner));
}

PipeWriter& PipeWriter::operator=(PipeWriter&& other) noexcept {
  if (this != &other) {
    Close().IgnoreError();
    handle_ = std::move(other.handle_);
  }
  return *this;
}

absl::Status PipeWriter::Close() {
  if (!handle_) return absl::OkStatus();
  return handle_->Close();
}

namespace {

Task<absl::Status> WriteAllTo(RefPtr<FdHandle> handle,
                              absl::Span<const char> buf) {
  size_t written = 0;
  while (written < buf.size()) {
    absl::StatusOr<size_t> n =
        co_await PipeWriteFuture(handle, buf.subspan(written));
    if (!n.ok()) {
      co_return absl::Status(
          n.status().code(),
          absl::StrCat(n.status().message(), " (wrote ", written, " of ",
                       buf.size(), " bytes)"));
    }
    written += *n;
  }
  co_return absl::OkStatus();
}

}  // namespace

Task<absl::Status> PipeWriter::WriteAll(absl::Span<const char> buf) {
  return WriteAllTo(handle_, buf);
}

absl::StatusOr<Pipe> Pipe::Open() {
  UniqueFd ends[2];
  absl::Status made = internal::MakePipe(ends);
  if (!made.ok()) return made;
  return Pipe{PipeWriter::AdoptPipeEnd(std::move(ends[1]), "pipe"),
              PipeReader::AdoptPipeEnd(std::move(ends[0]), "pipe")};
}

}  // namespace polyio
