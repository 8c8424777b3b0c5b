// Metadata: what stat(2) says about a file, and fs::Stat / fs::SymlinkStat
// that ask for it by path (File::Stat asks for an open file's, fstat).
//
//   absl::StatusOr<fs::Metadata> m = co_await fs::Stat("/etc/hosts");
//   if (m.ok() && m->type == fs::FileType::kRegular) use(m->size);
//
// Where the work happens: on io_uring, one STATX SQE per call
// (runtime/fs/path_op.h); elsewhere, and where the kernel lacks the
// opcode, stat(2) on the blocking pool (BlockingPool::Current()) — one
// pool hop per call.
//
// Errors name the operation and the path, with errno mapped by
// absl::ErrnoToStatus: "stat /no/such: No such file or directory" is
// NotFound, EACCES PermissionDenied, ENOTDIR FailedPrecondition.
//
// Cancel-safety (docs/cancellation.md): cancel-safe — a stat changes
// nothing. A cancelled call stops waiting at once (CancelledError, or
// DeadlineExceeded under Timeout); a stat already on a pool thread finishes
// there and its result is dropped, one in the kernel is cancelled (or its
// result dropped if it won the race).
//
// Thread-safety: the functions may be called from any task on any thread;
// Metadata is a plain value.
#ifndef POLYIO_RUNTIME_FS_METADATA_H_
#define POLYIO_RUNTIME_FS_METADATA_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/task/task.h"

namespace polyio::fs {

// The kind of a file, from st_mode (or a directory entry's d_type).
enum class FileType : uint8_t {
  kUnknown,  // the filesystem did not say (a d_type of DT_UNKNOWN that
             // could not be resolved), or a kind this enum does not name
  kRegular,
  kDirectory,
  kSymlink,
  kFifo,
  kSocket,
  kCharDevice,
  kBlockDevice,
};

// "regular file", "directory", ... for messages and test output.
const char* FileTypeName(FileType type);

// The kind encoded in a st_mode value.
FileType FileTypeFromMode(mode_t mode);

struct Metadata {
  FileType type = FileType::kUnknown;
  uint64_t size = 0;   // bytes (st_size)
  mode_t mode = 0;     // permission bits and setuid/setgid/sticky (07777)
  uint64_t nlink = 0;  // hard links
  uid_t uid = 0;
  gid_t gid = 0;
  uint64_t dev = 0;  // device and inode: together, the file's identity
  uint64_t ino = 0;
  uint64_t blocks = 0;  // 512-byte blocks allocated
  absl::Time atime;     // last access
  absl::Time mtime;     // last modification of the contents
  absl::Time ctime;     // last change of the inode (metadata)

  bool is_dir() const { return type == FileType::kDirectory; }
  bool is_regular() const { return type == FileType::kRegular; }
};

// Converts what stat(2) filled in.
Metadata MetadataFromStat(const struct stat& st);
#if defined(__linux__)
// The same from statx(2)'s STATX_BASIC_STATS.
Metadata MetadataFromStatx(const struct statx& stx);
#endif

// stat(2): follows symbolic links.
Task<absl::StatusOr<Metadata>> Stat(std::string path);
// lstat(2): a symbolic link describes itself.
Task<absl::StatusOr<Metadata>> SymlinkStat(std::string path);

}  // namespace polyio::fs

#endif  // POLYIO_RUNTIME_FS_METADATA_H_
