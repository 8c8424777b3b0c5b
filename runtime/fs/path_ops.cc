#include "runtime/fs/path_ops.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/selected.h"
#include "runtime/blocking/spawn_blocking.h"
#include "runtime/fs/path_op.h"

namespace polyio::fs {
namespace {

// Retries `call` through EINTR; an error names `what`.
template <class F>
absl::Status Retry(F call, const std::string& what) {
  for (;;) {
    if (call() >= 0) return absl::OkStatus();
    if (errno != EINTR) return absl::ErrnoToStatus(errno, what);
  }
}

// Runs `fn` (returning absl::Status) on the blocking pool.
template <class F>
Task<absl::Status> OnPool(F fn) {
  // Named, not a temporary in the co_await (g++ 12, see file.cc).
  BlockingFuture<absl::Status> job = SpawnBlocking(std::move(fn));
  co_return co_await job;
}

// One path operation: `kind` on the backend where it takes it (path_op.h),
// else `on_pool` (the same, retried through EINTR) on the blocking pool.
// `what` names the call in errors, as the pool's do.
struct PathCall {
  PathCall(OpKind k, std::string p, std::string n = "")
      : kind(k), path(std::move(p)), new_path(std::move(n)) {}
  OpKind kind;
  std::string path;
  std::string new_path;  // kRenameAt
  int flags = 0;
  mode_t mode = 0;
};

template <class F>
Task<absl::Status> NativeOrPool(PathCall call, std::string what, F on_pool) {
  if (internal::UseNativeFileIo<Backend>()) {
    internal::PathOpFuture op(call.kind, std::move(call.path));
    op.set_new_path(std::move(call.new_path));
    op.set_flags(call.flags);
    op.set_mode(call.mode);
    int32_t res = co_await op;
    if (!internal::PathOpFuture::Unsupported(res)) {
      if (res < 0) co_return absl::ErrnoToStatus(-res, what);
      co_return absl::OkStatus();
    }
  }
  // Named, not a temporary in the co_await (g++ 12, see file.cc).
  BlockingFuture<absl::Status> job = SpawnBlocking(std::move(on_pool));
  co_return co_await job;
}

int OpenRetrying(const std::string& path, int flags, mode_t mode) {
  for (;;) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd >= 0 || errno != EINTR) return fd;
  }
}

// The blocking body of CreateDirAll.
absl::Status MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) {
    return absl::InvalidArgumentError("create_dir_all: empty path");
  }
  // Each prefix ending before a '/', then the whole path: mkdir them in
  // order, taking EEXIST as fine when the name is (now) a directory.
  for (size_t end = 1; end <= path.size(); ++end) {
    if (end != path.size() && path[end] != '/') continue;
    if (path[end - 1] == '/') continue;  // "//" or a trailing '/'
    std::string prefix = path.substr(0, end);
    if (::mkdir(prefix.c_str(), mode) == 0) continue;
    int err = errno;
    if (err == EEXIST) {
      struct stat st;
      if (::stat(prefix.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
      err = ENOTDIR;
    }
    std::string what = absl::StrCat("create_dir_all ", path);
    if (prefix != path) absl::StrAppend(&what, " (at ", prefix, ")");
    return absl::ErrnoToStatus(err, what);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadWhole(const std::string& path) {
  int fd = OpenRetrying(path, O_RDONLY, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  struct stat st;
  std::string out;
  // The size is a hint (the file may change, or be a pipe reading as 0).
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    out.reserve(static_cast<size_t>(st.st_size) + 1);
  }
  absl::Status status;
  char chunk[64 << 10];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n > 0) {
      out.append(chunk, static_cast<size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      status = absl::ErrnoToStatus(errno, absl::StrCat("read ", path));
      break;
    }
  }
  ::close(fd);  // read-only: close reports nothing worth failing for
  if (!status.ok()) return status;
  return out;
}

absl::Status WriteWhole(const std::string& path, const std::string& data,
                        mode_t mode) {
  int fd = OpenRetrying(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  absl::Status status;
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n >= 0) {
      written += static_cast<size_t>(n);
    } else if (errno != EINTR) {
      status = absl::ErrnoToStatus(
          errno, absl::StrCat("write ", path, " (wrote ", written, " of ",
                              data.size(), " bytes)"));
      break;
    }
  }
  // close(2) may report a deferred write-back error (NFS): keep it.
  if (::close(fd) < 0 && status.ok() && errno != EINTR) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("close ", path));
  }
  return status;
}

}  // namespace

Task<absl::Status> Rename(std::string from, std::string to) {
  std::string what = absl::StrCat("rename ", from, " to ", to);
  PathCall call{OpKind::kRenameAt, from, to};
  return NativeOrPool(
      std::move(call), what,
      [from = std::move(from), to = std::move(to), what] {
        return Retry([&] { return ::rename(from.c_str(), to.c_str()); }, what);
      });
}

Task<absl::Status> Unlink(std::string path) {
  std::string what = absl::StrCat("unlink ", path);
  PathCall call{OpKind::kUnlinkAt, path};
  return NativeOrPool(std::move(call), what, [path = std::move(path), what] {
    return Retry([&] { return ::unlink(path.c_str()); }, what);
  });
}

Task<absl::Status> Mkdir(std::string path, mode_t mode) {
  std::string what = absl::StrCat("mkdir ", path);
  PathCall call{OpKind::kMkdirAt, path};
  call.mode = mode;
  return NativeOrPool(
      std::move(call), what, [path = std::move(path), mode, what] {
        return Retry([&] { return ::mkdir(path.c_str(), mode); }, what);
      });
}

Task<absl::Status> CreateDirAll(std::string path, mode_t mode) {
  return OnPool(
      [path = std::move(path), mode] { return MakeDirs(path, mode); });
}

Task<absl::Status> Rmdir(std::string path) {
  std::string what = absl::StrCat("rmdir ", path);
  PathCall call{OpKind::kUnlinkAt, path};
  call.flags = AT_REMOVEDIR;
  return NativeOrPool(std::move(call), what, [path = std::move(path), what] {
    return Retry([&] { return ::rmdir(path.c_str()); }, what);
  });
}

Task<absl::Status> Truncate(std::string path, uint64_t len) {
  return OnPool([path = std::move(path), len] {
    return Retry(
        [&] { return ::truncate(path.c_str(), static_cast<off_t>(len)); },
        absl::StrCat("truncate ", path, " to ", len));
  });
}

Task<absl::StatusOr<std::string>> ReadFile(std::string path) {
  BlockingFuture<absl::StatusOr<std::string>> job =
      SpawnBlocking([path = std::move(path)] { return ReadWhole(path); });
  co_return co_await job;
}

Task<absl::Status> WriteFile(std::string path, std::string data, mode_t mode) {
  return OnPool([path = std::move(path), data = std::move(data), mode] {
    return WriteWhole(path, data, mode);
  });
}

}  // namespace polyio::fs
