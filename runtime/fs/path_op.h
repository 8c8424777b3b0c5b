// PathOpFuture: one path operation (backends/operation.h's path kinds:
// openat, statx, renameat, unlinkat, mkdirat) on the current driver's
// backend, as a future of its raw result (a new fd, 0, or -errno).
//
// runtime/fs tries one where UseNativeFileIo<Backend>() says the backend
// takes file work (io_uring; `auto` when it chose io_uring): the kernel then
// does the work, without a hop to the blocking pool. A result for which
// Unsupported() is true means the backend does not take the kind (the
// kernel's probe lacked the opcode): the caller does it on the blocking
// pool instead. A kernel that really answers EOPNOTSUPP is then asked again
// from the pool, which answers the same; the operation failed both times,
// so nothing happened twice.
//
// Ownership: the future keeps the path strings, the PathArgs and the statx
// buffer the kernel reads and writes, so it must not move once polled
// (it lives in a coroutine frame). Dropped in flight, it cancels the
// operation and waits for its completion (IoFuture); an open that
// completed anyway has made an fd nobody will see, and the future closes
// it. Cancellation otherwise follows IoFuture: a cancel that loses the race
// gives the real result (the directory was made, the file was opened).
//
// Thread-compatible: polled by one task at a time.
#ifndef POLYIO_RUNTIME_FS_PATH_OP_H_
#define POLYIO_RUNTIME_FS_PATH_OP_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <type_traits>

#include "backends/operation.h"
#include "backends/selected.h"
#include "runtime/driver/driver.h"
#include "runtime/io/io_future.h"
#include "runtime/task/context.h"
#include "runtime/task/poll.h"

namespace polyio::internal {

// Whether file work (positioned I/O, path operations) goes to the backend
// of type B: decided at compile time where NativeFileIo() is a static
// constexpr function; only `auto` and the fault layer over a backend chosen
// at run time ask their instance (one branch). A template, so that the
// branch not taken is never instantiated.
template <class B>
bool UseNativeFileIo() {
  if constexpr (std::is_same_v<decltype(&B::NativeFileIo), bool (*)()>) {
    constexpr bool kNative = B::NativeFileIo();
    return kNative;
  } else {
    Driver* driver = Driver::Current();
    return driver != nullptr && driver->backend().NativeFileIo();
  }
}

class PathOpFuture {
 public:
  // `path` is relative to the working directory unless set_dir says
  // otherwise. Arguments are set before the first poll.
  PathOpFuture(OpKind kind, std::string path);
  PathOpFuture(const PathOpFuture&) = delete;
  PathOpFuture& operator=(const PathOpFuture&) = delete;
  ~PathOpFuture();

  void set_dir(int dir_fd) { io_.op().fd = dir_fd; }
  void set_new_path(std::string path) { new_path_ = std::move(path); }
  void set_flags(int flags) { args_.flags = flags; }
  void set_mode(mode_t mode) { args_.mode = static_cast<uint32_t>(mode); }
  void set_statx_mask(uint32_t mask) { args_.mask = mask; }

  polyio::Poll<int32_t> Poll(Context& cx);

  // The backend does not take this kind: use the blocking pool.
  static bool Unsupported(int32_t res) { return res == -EOPNOTSUPP; }

#if defined(__linux__)
  // kStatx: the result, once Poll gave 0.
  const struct statx& statx_result() const { return statx_; }
#endif

 private:
  std::string path_;
  std::string new_path_;
  PathArgs args_;
#if defined(__linux__)
  struct statx statx_ {};
#endif
  IoFuture io_;
  bool polled_ = false;
  bool taken_ = false;  // Poll returned the result
};

}  // namespace polyio::internal

#endif  // POLYIO_RUNTIME_FS_PATH_OP_H_
