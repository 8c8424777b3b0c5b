#include "runtime/fs/metadata.h"

#include <fcntl.h>
#include <sys/stat.h>
#if defined(__linux__)
#include <sys/sysmacros.h>
#endif

#include <cerrno>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "backends/selected.h"
#include "runtime/blocking/spawn_blocking.h"
#include "runtime/fs/path_op.h"

namespace polyio::fs {
namespace {

absl::Time TimeOf(const struct timespec& ts) {
  return absl::TimeFromTimespec(ts);
}

// One stat or lstat: a STATX SQE where the backend takes it (path_op.h),
// else on the blocking pool; "stat <path>" or "lstat <path>" in errors.
Task<absl::StatusOr<Metadata>> StatOf(std::string path, bool follow) {
#if defined(__linux__)
  if (internal::UseNativeFileIo<Backend>()) {
    internal::PathOpFuture stat(OpKind::kStatx, path);
    stat.set_flags(follow ? 0 : AT_SYMLINK_NOFOLLOW);
    stat.set_statx_mask(STATX_BASIC_STATS);
    int32_t res = co_await stat;
    if (res == 0) co_return MetadataFromStatx(stat.statx_result());
    if (!internal::PathOpFuture::Unsupported(res)) {
      co_return absl::ErrnoToStatus(
          -res, absl::StrCat(follow ? "stat " : "lstat ", path));
    }
  }
#endif
  // Named, not a temporary in the co_await (g++ 12, see file.cc).
  BlockingFuture<absl::StatusOr<Metadata>> job =
      SpawnBlocking([path, follow]() -> absl::StatusOr<Metadata> {
        struct stat st;
        int r = follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
        if (r < 0) {
          return absl::ErrnoToStatus(
              errno, absl::StrCat(follow ? "stat " : "lstat ", path));
        }
        return MetadataFromStat(st);
      });
  co_return co_await job;
}

}  // namespace

const char* FileTypeName(FileType type) {
  switch (type) {
    case FileType::kRegular:
      return "regular file";
    case FileType::kDirectory:
      return "directory";
    case FileType::kSymlink:
      return "symbolic link";
    case FileType::kFifo:
      return "fifo";
    case FileType::kSocket:
      return "socket";
    case FileType::kCharDevice:
      return "character device";
    case FileType::kBlockDevice:
      return "block device";
    default:
      return "unknown";
  }
}

FileType FileTypeFromMode(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return FileType::kRegular;
    case S_IFDIR:
      return FileType::kDirectory;
    case S_IFLNK:
      return FileType::kSymlink;
    case S_IFIFO:
      return FileType::kFifo;
    case S_IFSOCK:
      return FileType::kSocket;
    case S_IFCHR:
      return FileType::kCharDevice;
    case S_IFBLK:
      return FileType::kBlockDevice;
    default:
      return FileType::kUnknown;
  }
}

Metadata MetadataFromStat(const struct stat& st) {
  Metadata m;
  m.type = FileTypeFromMode(st.st_mode);
  m.size = static_cast<uint64_t>(st.st_size);
  m.mode = st.st_mode & 07777;
  m.nlink = static_cast<uint64_t>(st.st_nlink);
  m.uid = st.st_uid;
  m.gid = st.st_gid;
  m.dev = static_cast<uint64_t>(st.st_dev);
  m.ino = static_cast<uint64_t>(st.st_ino);
  m.blocks = static_cast<uint64_t>(st.st_blocks);
#if defined(__APPLE__)
  m.atime = TimeOf(st.st_atimespec);
  m.mtime = TimeOf(st.st_mtimespec);
  m.ctime = TimeOf(st.st_ctimespec);
#else
  m.atime = TimeOf(st.st_atim);
  m.mtime = TimeOf(st.st_mtim);
  m.ctime = TimeOf(st.st_ctim);
#endif
  return m;
}

#if defined(__linux__)
Metadata MetadataFromStatx(const struct statx& stx) {
  auto time_of = [](const struct statx_timestamp& t) {
    return absl::FromUnixSeconds(t.tv_sec) + absl::Nanoseconds(t.tv_nsec);
  };
  Metadata m;
  m.type = FileTypeFromMode(stx.stx_mode);
  m.size = stx.stx_size;
  m.mode = stx.stx_mode & 07777;
  m.nlink = stx.stx_nlink;
  m.uid = stx.stx_uid;
  m.gid = stx.stx_gid;
  m.dev = static_cast<uint64_t>(makedev(stx.stx_dev_major, stx.stx_dev_minor));
  m.ino = stx.stx_ino;
  m.blocks = stx.stx_blocks;
  m.atime = time_of(stx.stx_atime);
  m.mtime = time_of(stx.stx_mtime);
  m.ctime = time_of(stx.stx_ctime);
  return m;
}
#endif

Task<absl::StatusOr<Metadata>> Stat(std::string path) {
  return StatOf(std::move(path), /*follow=*/true);
}

Task<absl::StatusOr<Metadata>> SymlinkStat(std::string path) {
  return StatOf(std::move(path), /*follow=*/false);
}

}  // namespace polyio::fs
