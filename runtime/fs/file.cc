#include "runtime/fs/file.h"

#include <sys/stat.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/uio.h>
#endif

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "backends/selected.h"
#include "runtime/blocking/blocking_pool.h"
#include "runtime/driver/driver.h"
#include "runtime/fs/path_op.h"

namespace polyio {
namespace {

using internal::UseNativeFileIo;

const char* NameOf(OpKind kind) {
  switch (kind) {
    case OpKind::kPread:
      return "read";
    case OpKind::kPwrite:
      return "write";
    default:
      return "fsync";
  }
}

// The syscall a pool thread makes: bytes, or -errno as a backend reports.
int32_t RunFileOp(OpKind kind, int fd, void* buf, size_t len, uint64_t offset) {
  for (;;) {
    ssize_t r;
    switch (kind) {
      case OpKind::kPread:
        r = ::pread(fd, buf, len, static_cast<off_t>(offset));
        break;
      case OpKind::kPwrite:
        r = ::pwrite(fd, buf, len, static_cast<off_t>(offset));
        break;
      default:
        r = ::fsync(fd);
        break;
    }
    if (r >= 0) return static_cast<int32_t>(r);
    if (errno != EINTR) return -errno;
  }
}

// A read served from the page cache without a thread hop: preadv2 with
// RWF_NOWAIT returns what is cached at once (possibly a short count) and
// fails with EAGAIN where it would wait for the disk. Returns the bytes
// read, or -1: the blocking pool must do it (not cached; or any error,
// which the pool's pread then reports). Marks `file` when the flag is not
// supported, so that later reads skip the attempt.
int32_t TryCachedRead(internal::FileFd& file, void* buf, size_t len,
                      uint64_t offset) {
#if defined(__linux__) && defined(RWF_NOWAIT)
  iovec iov{buf, len};
  for (;;) {
    ssize_t r = ::preadv2(file.fd.get(), &iov, 1, static_cast<off_t>(offset),
                          RWF_NOWAIT);
    if (r >= 0) return static_cast<int32_t>(r);
    if (errno == EINTR) continue;
    if (errno == EOPNOTSUPP || errno == ENOSYS) {
      file.no_inline_reads.store(true, std::memory_order_relaxed);
    }
    return -1;
  }
#else
  (void)buf, (void)len, (void)offset;
  file.no_inline_reads.store(true, std::memory_order_relaxed);
  return -1;
#endif
}

absl::Status Closed(OpKind kind) {
  return absl::FailedPreconditionError(
      absl::StrCat(NameOf(kind), ": the file is closed"));
}

}  // namespace

FileIoFuture::FileIoFuture(OpKind kind, std::shared_ptr<internal::FileFd> file,
                           void* buf, size_t len, uint64_t offset)
    : file_(std::move(file)),
      offset_(offset),
      kind_(kind),
      native_(UseNativeFileIo<Backend>()) {
  Operation& op = io_.op();
  op.kind = kind;
  op.fd = file_ ? file_->fd.get() : -1;
  op.buf = buf;
  // pread/pwrite transfer at most 0x7ffff000 bytes at once on Linux; the
  // clamp keeps the count representable in `res` everywhere.
  op.len = len > 0x7ffff000u ? 0x7ffff000u : len;
  op.offset = offset;
}

absl::Status FileIoFuture::Error(int32_t res) const {
  if (kind_ == OpKind::kFsync) {
    return absl::ErrnoToStatus(-res, absl::StrCat("fsync ", file_->path));
  }
  return absl::ErrnoToStatus(
      -res, absl::StrCat(NameOf(kind_), " ", file_->path, " at ", offset_));
}

Poll<absl::StatusOr<size_t>> FileIoFuture::Poll(Context& cx) {
  using Result = absl::StatusOr<size_t>;
  if (file_ == nullptr) return Result(Closed(kind_));
  Operation& op = io_.op();
  // An empty transfer is done before it starts (as TcpStream's).
  if (op.len == 0 && kind_ != OpKind::kFsync) return Result(0);
  int32_t res;
  if (native_) {
    polyio::Poll<int32_t> r = io_.PollResult(cx);
    if (r.pending()) return kPending;
    res = r.value();
  } else {
    if (!started_) {
      if (cx.cancelled()) return Result(absl::CancelledError(NameOf(kind_)));
      if (kind_ == OpKind::kPread &&
          !file_->no_inline_reads.load(std::memory_order_relaxed)) {
        // Inline, so it takes budget as an I/O submission does: a loop over
        // a cached file still lets the worker's other tasks run.
        if (!cx.ConsumeBudget()) {
          cx.waker().WakeByRef();
          return kPending;
        }
        res = TryCachedRead(*file_, op.buf, op.len, op.offset);
        if (res >= 0) return Result(static_cast<size_t>(res));
      }
      started_ = true;
      job_ = internal::SpawnBlockingWith(
          BlockingPool::Current(),
          [file = file_, kind = kind_, buf = op.buf, len = op.len,
           offset = op.offset] {
            return RunFileOp(kind, file->fd.get(), buf, len, offset);
          },
          internal::WhileRunning::kWait);
    }
    polyio::Poll<absl::StatusOr<int32_t>> r = job_.Poll(cx);
    if (r.pending()) return kPending;
    if (!r.value().ok()) return Result(r.value().status());
    res = *r.value();
  }
  if (res < 0) return Result(Error(res));
  return Result(static_cast<size_t>(res));
}

File::File(UniqueFd fd, std::string path)
    : file_(
          std::make_shared<internal::FileFd>(std::move(fd), std::move(path))) {
  if (file_->path.empty()) file_->path = absl::StrCat("fd ", file_->fd.get());
}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    Close().IgnoreError();
    file_ = std::move(other.file_);
  }
  return *this;
}

Task<absl::StatusOr<File>> File::Open(std::string path, int flags,
                                      mode_t mode) {
  if (UseNativeFileIo<Backend>()) {
    internal::PathOpFuture open(OpKind::kOpenAt, path);
    open.set_flags(flags | O_CLOEXEC);
    open.set_mode(mode);
    int32_t fd = co_await open;
    if (fd >= 0) co_return File(UniqueFd(fd), std::move(path));
    if (!internal::PathOpFuture::Unsupported(fd)) {
      co_return absl::ErrnoToStatus(-fd, absl::StrCat("open ", path));
    }
  }
  // Named, not a temporary inside the co_await: g++ 12 mishandles the
  // lifetime of temporaries with destructors in co_await expressions.
  BlockingFuture<absl::StatusOr<UniqueFd>> opening =
      SpawnBlocking([path, flags, mode]() -> absl::StatusOr<UniqueFd> {
        for (;;) {
          int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
          if (fd >= 0) return UniqueFd(fd);
          if (errno != EINTR) {
            return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
          }
        }
      });
  absl::StatusOr<UniqueFd> fd = co_await opening;
  if (!fd.ok()) co_return fd.status();
  co_return File(std::move(*fd), std::move(path));
}

Task<absl::Status> File::WriteAllAt(absl::Span<const char> buf,
                                    uint64_t offset) const {
  size_t written = 0;
  while (written < buf.size()) {
    absl::StatusOr<size_t> n =
        co_await WriteAt(buf.subspan(written), offset + written);
    if (!n.ok()) {
      co_return absl::Status(
          n.status().code(),
          absl::StrCat(n.status().message(), " (wrote ", written, " of ",
                       buf.size(), " bytes)"));
    }
    if (*n == 0) {
      // pwrite(2) of a non-empty buffer to a regular file never returns 0;
      // guard against looping forever all the same.
      co_return absl::DataLossError(absl::StrCat(
          "write ", file_ ? file_->path : "", " at ", offset + written,
          ": no progress (wrote ", written, " of ", buf.size(), " bytes)"));
    }
    written += *n;
  }
  co_return absl::OkStatus();
}

Task<absl::StatusOr<fs::Metadata>> File::Stat() const {
  if (file_ == nullptr) {
    co_return absl::FailedPreconditionError("fstat: the file is closed");
  }
#if defined(__linux__)
  if (UseNativeFileIo<Backend>()) {
    // statx of "" with AT_EMPTY_PATH: the file itself. The copy of the fd's
    // owner keeps the number from being closed and reused meanwhile.
    std::shared_ptr<internal::FileFd> file = file_;
    internal::PathOpFuture stat(OpKind::kStatx, "");
    stat.set_dir(file->fd.get());
    stat.set_flags(AT_EMPTY_PATH);
    stat.set_statx_mask(STATX_BASIC_STATS);
    int32_t res = co_await stat;
    if (res == 0) co_return fs::MetadataFromStatx(stat.statx_result());
    if (!internal::PathOpFuture::Unsupported(res)) {
      co_return absl::ErrnoToStatus(-res, absl::StrCat("fstat ", file->path));
    }
  }
#endif
  // The job shares the fd, so a Close meanwhile cannot reuse its number.
  BlockingFuture<absl::StatusOr<fs::Metadata>> job =
      SpawnBlocking([file = file_]() -> absl::StatusOr<fs::Metadata> {
        struct stat st;
        if (::fstat(file->fd.get(), &st) < 0) {
          return absl::ErrnoToStatus(errno, absl::StrCat("fstat ", file->path));
        }
        return fs::MetadataFromStat(st);
      });
  co_return co_await job;
}

Task<absl::Status> File::SetLen(uint64_t len) const {
  if (file_ == nullptr) {
    co_return absl::FailedPreconditionError("ftruncate: the file is closed");
  }
  BlockingFuture<absl::Status> job =
      SpawnBlocking([file = file_, len]() -> absl::Status {
        for (;;) {
          if (::ftruncate(file->fd.get(), static_cast<off_t>(len)) == 0) {
            return absl::OkStatus();
          }
          if (errno != EINTR) {
            return absl::ErrnoToStatus(
                errno, absl::StrCat("ftruncate ", file->path, " to ", len));
          }
        }
      });
  co_return co_await job;
}

absl::Status File::Close() {
  if (file_ == nullptr) return absl::OkStatus();
  std::shared_ptr<internal::FileFd> file = std::move(file_);
  if (UseNativeFileIo<Backend>()) {
    // The backend tracks operations by fd number (backends/backend.h).
    if (Driver* driver = Driver::Current())
      driver->backend().Forget(file->fd.get());
  }
  // A future still holds the fd: it closes when the last one goes.
  if (file.use_count() > 1) return absl::OkStatus();
  int fd = file->fd.Release();
  if (::close(fd) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("close ", file->path));
  }
  return absl::OkStatus();
}

}  // namespace polyio
