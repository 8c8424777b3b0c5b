// Operations on paths: rename, unlink, mkdir (and mkdir -p), rmdir,
// truncate, and the whole-file helpers ReadFile and WriteFile.
//
//   absl::Status s = co_await fs::CreateDirAll(dir + "/a/b");
//   s = co_await fs::WriteFile(dir + "/a/b/f", "contents");
//   absl::StatusOr<std::string> text = co_await fs::ReadFile(dir + "/a/b/f");
//   s = co_await fs::Rename(dir + "/a/b/f", dir + "/g");
//
// Where the work happens: on io_uring, Rename, Unlink, Mkdir and Rmdir are
// one RENAMEAT / UNLINKAT / MKDIRAT SQE each (runtime/fs/path_op.h), with
// no thread hop of ours. Elsewhere, where the kernel lacks the opcode, and
// for CreateDirAll, Truncate, ReadFile and WriteFile on every backend, each
// call is one job on the blocking pool (BlockingPool::Current()) —
// ReadFile and WriteFile included: open, the read or write loop and close
// run in that one job, so a whole file costs two thread hops, not two per
// chunk.
//
// Errors name the operation and the path(s), errno mapped by
// absl::ErrnoToStatus: "unlink /tmp/x: No such file or directory" is
// NotFound; EEXIST AlreadyExists; EACCES/EPERM PermissionDenied; ENOTDIR,
// ENOTEMPTY and EISDIR FailedPrecondition; ReadFile and WriteFile report
// the step that failed ("open ...", "read ...", "write ...").
//
// Cancel-safety (docs/cancellation.md): none of these is cancel-safe in
// the sense of "nothing happened": a cancelled call stops waiting at once
// (CancelledError, or DeadlineExceeded under Timeout), but a job a pool
// thread had already taken runs to the end — the rename, unlink or write
// may have happened. A job no thread had taken yet never runs. On io_uring
// the kernel's result wins a race with the cancel: a call that happened
// reports its real result. Stat the path to learn which.
//
// Thread-safety: callable from any task on any thread; concurrent calls on
// the same paths race as the system calls do.
#ifndef POLYIO_RUNTIME_FS_PATH_OPS_H_
#define POLYIO_RUNTIME_FS_PATH_OPS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/task/task.h"

namespace polyio::fs {

// rename(2): replaces `to` if it exists (a file by a file, an empty
// directory by a directory).
Task<absl::Status> Rename(std::string from, std::string to);

// unlink(2): removes a name that is not a directory (EISDIR/EPERM for one).
Task<absl::Status> Unlink(std::string path);

// mkdir(2) with `mode` (less the umask). AlreadyExists if `path` exists.
Task<absl::Status> Mkdir(std::string path, mode_t mode = 0777);

// mkdir -p: creates `path` and any missing parents with `mode`. Succeeds if
// `path` already is a directory (or a symbolic link to one); a component
// that exists and is not a directory fails with FailedPrecondition naming
// that component. Creating a component concurrently with another caller is
// not an error.
Task<absl::Status> CreateDirAll(std::string path, mode_t mode = 0777);

// rmdir(2): removes an empty directory (FailedPrecondition if not empty).
Task<absl::Status> Rmdir(std::string path);

// truncate(2): sets the file's size to `len`, cutting or zero-extending.
Task<absl::Status> Truncate(std::string path, uint64_t len);

// The whole contents of the file at `path`.
Task<absl::StatusOr<std::string>> ReadFile(std::string path);

// Replaces the contents of the file at `path` with `data`, creating it with
// `mode` (less the umask) if missing. Not atomic: a reader may see a
// partial file; write elsewhere and Rename for that.
Task<absl::Status> WriteFile(std::string path, std::string data,
                             mode_t mode = 0666);

}  // namespace polyio::fs

#endif  // POLYIO_RUNTIME_FS_PATH_OPS_H_
