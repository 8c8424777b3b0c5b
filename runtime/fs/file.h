// File: a regular file, read and written at explicit offsets with co_await.
//
//   absl::StatusOr<File> f = co_await File::Open(path, O_RDWR | O_CREAT);
//   absl::StatusOr<size_t> n = co_await f->ReadAt(absl::MakeSpan(buf), 4096);
//   absl::Status s = co_await f->WriteAllAt(data, 0);
//   s = co_await f->Sync();
//
// Where the work happens depends on the backend, and is decided at compile
// time from Backend::NativeFileIo() (backends/backend.h; `auto` decides per
// runtime with one branch):
// - io_uring: ReadAt/WriteAt/Sync are one READ/WRITE/FSYNC SQE each, sent
//   to the driver's ring like any socket operation (IoFuture).
// - epoll, poll, kqueue: pread/pwrite/fsync run on the blocking pool
//   (BlockingPool::Current()), so that a slow disk never stalls the driver.
//   On Linux a read first tries preadv2(RWF_NOWAIT) inline: what is in the
//   page cache is returned at once, without two thread hops; only a read
//   that would wait for the disk goes to the pool.
// - Open and Stat: on io_uring an OPENAT / STATX SQE (runtime/fs/path_op.h;
//   the blocking pool where the kernel lacks the opcode), elsewhere the
//   blocking pool. SetLen (ftruncate) runs on the blocking pool everywhere
//   (io_uring's FTRUNCATE needs Linux 6.9 and liburing 2.6).
//
// Results: ReadAt gives the bytes read, 0 at or past the end of the file;
// WriteAt the bytes written (possibly fewer than asked: WriteAllAt loops).
// Errors name the operation, the path and the offset ("read /tmp/x at 4096:
// Input/output error"); an operation on a closed File is
// FailedPrecondition. A task cancelled while an operation is in flight gets
// its real result if the operation finished, else CancelledError; the
// caller's buffer is never written after the future is gone (a pool read in
// progress is waited for, as an io_uring read is).
//
// Ownership: File owns its fd. Every operation future shares ownership of
// it, so the number cannot be closed and reused under an operation in
// flight: Close() closes the fd at once, and reports close(2)'s error, when
// no future made from the File is alive; otherwise the last one closes it.
//
// Move-only. Thread-compatible: one File may be used by several tasks, on
// any thread, as long as its own methods are not called concurrently; the
// futures it returns are independent.
//
// Cancel-safety (docs/cancellation.md): ReadAt is cancel-safe (read again:
// nothing moved); WriteAt, WriteAllAt and Sync are not — a cancelled write
// may have reached the file.
#ifndef POLYIO_RUNTIME_FS_FILE_H_
#define POLYIO_RUNTIME_FS_FILE_H_

#include <fcntl.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "backends/operation.h"
#include "platform/unique_fd.h"
#include "runtime/blocking/spawn_blocking.h"
#include "runtime/fs/metadata.h"
#include "runtime/io/io_future.h"
#include "runtime/task/poll.h"
#include "runtime/task/task.h"

namespace polyio {

namespace internal {

// The fd and the name errors use, shared by a File and its futures.
struct FileFd {
  FileFd(UniqueFd f, std::string p) : fd(std::move(f)), path(std::move(p)) {}
  UniqueFd fd;
  std::string path;
  // Set once preadv2(RWF_NOWAIT) turned out unsupported for this file (an
  // old kernel, a filesystem without it): its reads go straight to the
  // blocking pool from then on, without a failing syscall first.
  std::atomic<bool> no_inline_reads{false};
};

}  // namespace internal

// Future of ReadAt and WriteAt: absl::StatusOr<size_t>.
class FileIoFuture {
 public:
  FileIoFuture(OpKind kind, std::shared_ptr<internal::FileFd> file, void* buf,
               size_t len, uint64_t offset);
  FileIoFuture(FileIoFuture&&) = default;  // only before the first poll

  polyio::Poll<absl::StatusOr<size_t>> Poll(Context& cx);

 private:
  absl::Status Error(int32_t res) const;

  std::shared_ptr<internal::FileFd> file_;
  uint64_t offset_;
  OpKind kind_;
  bool native_;  // the backend does it (IoFuture), else the blocking pool
  bool started_ = false;
  IoFuture io_;
  BlockingFuture<int32_t> job_;
};

// Future of Sync: absl::Status.
class FileSyncFuture {
 public:
  explicit FileSyncFuture(std::shared_ptr<internal::FileFd> file)
      : io_(OpKind::kFsync, std::move(file), nullptr, 0, 0) {}

  polyio::Poll<absl::Status> Poll(Context& cx) {
    polyio::Poll<absl::StatusOr<size_t>> res = io_.Poll(cx);
    if (res.pending()) return kPending;
    return res.value().status();
  }

 private:
  FileIoFuture io_;
};

class File {
 public:
  // A closed File.
  File() = default;
  // Takes `fd`, an open file; `path` names it in error messages.
  explicit File(UniqueFd fd, std::string path = "");
  File(File&&) noexcept = default;
  File& operator=(File&& other) noexcept;
  ~File() { Close().IgnoreError(); }

  // open(path, flags | O_CLOEXEC, mode): an OPENAT SQE on io_uring, the
  // blocking pool elsewhere. A missing path is NotFound: "open /no/such: No
  // such file or directory". Dropped or cancelled in flight, an open that
  // completed anyway has its fd closed (cancelled: returned as a File,
  // which whoever drops the result closes); none leaks.
  static Task<absl::StatusOr<File>> Open(std::string path, int flags,
                                         mode_t mode = 0666);

  // Reads at most buf.size() bytes at `offset`; 0 at or past the end.
  FileIoFuture ReadAt(absl::Span<char> buf, uint64_t offset) const {
    return FileIoFuture(OpKind::kPread, file_, buf.data(), buf.size(), offset);
  }
  // Writes at most buf.size() bytes at `offset`; returns how many.
  FileIoFuture WriteAt(absl::Span<const char> buf, uint64_t offset) const {
    return FileIoFuture(OpKind::kPwrite, file_, const_cast<char*>(buf.data()),
                        buf.size(), offset);
  }
  // Writes all of `buf` at `offset`, or fails saying how much was written.
  Task<absl::Status> WriteAllAt(absl::Span<const char> buf,
                                uint64_t offset) const;
  // fsync(2): data and metadata reach stable storage; reports write-back
  // errors of earlier writes.
  FileSyncFuture Sync() const { return FileSyncFuture(file_); }
  // fstat(2): statx(AT_EMPTY_PATH) on io_uring, the blocking pool
  // elsewhere (metadata.h): "fstat <path>: ..." on error. Cancel-safe.
  Task<absl::StatusOr<fs::Metadata>> Stat() const;
  // ftruncate(2) on the blocking pool: the file's size becomes `len`
  // ("ftruncate <path> to <len>: ..." on error). Not cancel-safe: a job a
  // pool thread took finishes.
  Task<absl::Status> SetLen(uint64_t len) const;

  // Closes the fd (see Ownership above). Idempotent.
  absl::Status Close();

  int fd() const { return file_ ? file_->fd.get() : -1; }
  bool is_open() const { return file_ != nullptr; }

 private:
  std::shared_ptr<internal::FileFd> file_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_FS_FILE_H_
