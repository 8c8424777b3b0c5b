// ReadDir: the entries of a directory as an async sequence.
//
//   absl::StatusOr<fs::DirStream> dir = co_await fs::ReadDir(path);
//   for (;;) {
//     absl::StatusOr<fs::DirEntry> e = co_await dir->Next();
//     if (absl::IsOutOfRange(e.status())) break;   // the end
//     if (!e.ok()) return e.status();
//     use(e->name, e->type);
//   }
//
// The sequence convention is polyio::sync's channels' (docs/sync.md): Next
// gives a value, OutOfRange at the end (and on every Next after it).
// "." and ".." are skipped. Entries come in directory order; an entry
// added or removed while the stream is read may or may not be seen
// (readdir(3)'s rule), every other one is seen exactly once.
//
// Where the work happens: opendir and readdir run on the blocking pool
// (BlockingPool::Current()) on every backend. readdir is called in batches
// of up to kBatch entries per job, so a directory of n entries costs about
// n / kBatch thread hops; Next returns the buffered entries without one.
// An entry whose d_type is DT_UNKNOWN (some filesystems) is resolved with
// fstatat in the same job; if that fails too its type is kUnknown.
//
// Errors name the operation and the path: "opendir /etc/nope: No such file
// or directory" (NotFound), "opendir /etc/passwd: Not a directory"
// (FailedPrecondition), "readdir <path>: ..." for a failure mid-way (then
// the stream ends). Next on a default-constructed or moved-from stream is
// FailedPrecondition.
//
// Ownership: the DirStream owns the directory fd; it is closed when the
// stream is destroyed — at once, or, if a batch job is running on a pool
// thread, when that job returns (the job shares the DIR). A NextFuture
// borrows its stream: the stream must outlive it and not move meanwhile.
//
// Cancel-safety (docs/cancellation.md): Next is cancel-safe — a cancelled
// Next takes no entry. A batch being read when Next is cancelled stays with
// the stream, and the next Next continues with it; nothing is lost or
// repeated.
//
// Thread-safety: thread-compatible — one Next at a time per stream, from
// any task on any thread; the stream may move between Nexts.
#ifndef POLYIO_RUNTIME_FS_DIR_H_
#define POLYIO_RUNTIME_FS_DIR_H_

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/blocking/spawn_blocking.h"
#include "runtime/fs/metadata.h"
#include "runtime/task/context.h"
#include "runtime/task/poll.h"
#include "runtime/task/task.h"

namespace polyio::fs {

struct DirEntry {
  std::string name;  // the entry's name in the directory, not a path
  FileType type = FileType::kUnknown;  // not following symbolic links
};

namespace internal {
// The open DIR and its name, shared by the stream and its running job.
struct DirHandle;
}  // namespace internal

class DirStream {
 public:
  // How many entries one pool job reads at most.
  static constexpr size_t kBatch = 256;

  class NextFuture;

  // An empty stream: Next is FailedPrecondition.
  DirStream() = default;
  DirStream(std::shared_ptr<internal::DirHandle> dir, std::string path);
  DirStream(DirStream&&) noexcept = default;
  DirStream& operator=(DirStream&&) noexcept = default;
  ~DirStream() = default;

  // The next entry; OutOfRange at the end.
  NextFuture Next();

  const std::string& path() const { return path_; }

 private:
  using Batch = absl::StatusOr<std::vector<DirEntry>>;

  polyio::Poll<absl::StatusOr<DirEntry>> PollNext(Context& cx);

  std::shared_ptr<internal::DirHandle> dir_;
  std::string path_;
  std::deque<DirEntry> buffered_;
  // The batch being read, kept here (not in a NextFuture) so that a
  // cancelled Next leaves it for the next one.
  std::optional<BlockingFuture<Batch>> reading_;
  absl::Status end_;  // OK until the stream ended: then OutOfRange
};

class [[nodiscard]] DirStream::NextFuture {
 public:
  explicit NextFuture(DirStream* stream) : stream_(stream) {}
  polyio::Poll<absl::StatusOr<DirEntry>> Poll(Context& cx) {
    return stream_->PollNext(cx);
  }

 private:
  DirStream* stream_;
};

inline DirStream::NextFuture DirStream::Next() { return NextFuture(this); }

// Opens the directory at `path` for reading.
Task<absl::StatusOr<DirStream>> ReadDir(std::string path);

}  // namespace polyio::fs

#endif  // POLYIO_RUNTIME_FS_DIR_H_
