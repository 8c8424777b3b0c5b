#include "runtime/fs/dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace polyio::fs {

namespace internal {

struct DirHandle {
  explicit DirHandle(DIR* d) : dir(d) {}
  DirHandle(const DirHandle&) = delete;
  DirHandle& operator=(const DirHandle&) = delete;
  ~DirHandle() { ::closedir(dir); }
  DIR* dir;
};

}  // namespace internal

namespace {

FileType TypeOf(const struct dirent& e, int dir_fd) {
#if defined(DT_UNKNOWN)
  switch (e.d_type) {
    case DT_REG:
      return FileType::kRegular;
    case DT_DIR:
      return FileType::kDirectory;
    case DT_LNK:
      return FileType::kSymlink;
    case DT_FIFO:
      return FileType::kFifo;
    case DT_SOCK:
      return FileType::kSocket;
    case DT_CHR:
      return FileType::kCharDevice;
    case DT_BLK:
      return FileType::kBlockDevice;
    default:
      break;
  }
#endif
  struct stat st;
  if (::fstatat(dir_fd, e.d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    return FileTypeFromMode(st.st_mode);
  }
  return FileType::kUnknown;
}

// One batch, on a pool thread: up to `max` entries; empty at the end.
absl::StatusOr<std::vector<DirEntry>> ReadBatch(internal::DirHandle& dir,
                                                const std::string& path,
                                                size_t max) {
  std::vector<DirEntry> out;
  int fd = ::dirfd(dir.dir);
  while (out.size() < max) {
    errno = 0;
    struct dirent* e = ::readdir(dir.dir);
    if (e == nullptr) {
      // Entries read before an error are still delivered; the error is
      // reported by the batch after them (readdir fails the same way).
      if (errno != 0 && out.empty()) {
        return absl::ErrnoToStatus(errno, absl::StrCat("readdir ", path));
      }
      break;
    }
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) {
      continue;
    }
    out.push_back(DirEntry{e->d_name, TypeOf(*e, fd)});
  }
  return out;
}

}  // namespace

DirStream::DirStream(std::shared_ptr<internal::DirHandle> dir, std::string path)
    : dir_(std::move(dir)), path_(std::move(path)) {}

Poll<absl::StatusOr<DirEntry>> DirStream::PollNext(Context& cx) {
  using Result = absl::StatusOr<DirEntry>;
  if (!buffered_.empty()) {
    Result e(std::move(buffered_.front()));
    buffered_.pop_front();
    return e;
  }
  if (!end_.ok()) return Result(end_);
  if (dir_ == nullptr) {
    return Result(absl::FailedPreconditionError(
        "readdir: the directory stream is closed (default-constructed or "
        "moved from)"));
  }
  // Cancelled: take nothing, and leave a running batch to the next Next
  // (polling it with a cancelled context would detach it and lose it).
  if (cx.cancelled()) return Result(absl::CancelledError("readdir " + path_));
  if (!reading_.has_value()) {
    reading_.emplace(SpawnBlocking(
        [dir = dir_, path = path_] { return ReadBatch(*dir, path, kBatch); }));
  }
  polyio::Poll<Batch> r = reading_->Poll(cx);
  if (r.pending()) return kPending;
  reading_.reset();
  Batch batch = std::move(r.value());
  if (!batch.ok()) {
    // Cancelled: the job did not run (the pool shut down), nothing was
    // read, and a later Next may try again. Any other error ends it.
    if (!absl::IsCancelled(batch.status())) {
      end_ = absl::OutOfRangeError(
          absl::StrCat("readdir ", path_, ": ended after an error"));
      dir_.reset();
    }
    return Result(batch.status());
  }
  if (batch->empty()) {
    end_ = absl::OutOfRangeError(absl::StrCat("readdir ", path_, ": the end"));
    dir_.reset();  // closes the fd now, not when the stream goes
    return Result(end_);
  }
  for (DirEntry& e : *batch) buffered_.push_back(std::move(e));
  Result e(std::move(buffered_.front()));
  buffered_.pop_front();
  return e;
}

Task<absl::StatusOr<DirStream>> ReadDir(std::string path) {
  BlockingFuture<absl::StatusOr<std::shared_ptr<internal::DirHandle>>> job =
      SpawnBlocking(
          [path]() -> absl::StatusOr<std::shared_ptr<internal::DirHandle>> {
            int fd;
            for (;;) {
              fd = ::open(path.c_str(),
                          O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
              if (fd >= 0 || errno != EINTR) break;
            }
            if (fd < 0) {
              return absl::ErrnoToStatus(errno, absl::StrCat("opendir ", path));
            }
            DIR* d = ::fdopendir(fd);
            if (d == nullptr) {
              int err = errno;
              ::close(fd);
              return absl::ErrnoToStatus(err, absl::StrCat("opendir ", path));
            }
            return std::make_shared<internal::DirHandle>(d);
          });
  absl::StatusOr<std::shared_ptr<internal::DirHandle>> dir = co_await job;
  if (!dir.ok()) co_return dir.status();
  co_return DirStream(std::move(*dir), std::move(path));
}

}  // namespace polyio::fs
