// Operation: one I/O request handed to a backend, and its result.
//
// Contract (see backends/backend.h for the whole backend contract):
// - The caller owns the storage of an Operation (usually it lives inside a
//   future, and so inside a coroutine frame) and fills in `kind`, `fd`, the
//   arguments of that kind, and `on_complete`.
// - From Backend::Submit until `on_complete` runs (or Submit returns true,
//   meaning it finished inline), the Operation and every buffer it names
//   belong to the backend and the kernel. The caller must not touch, move or
//   free them in between.
// - `res` carries the result as io_uring does: bytes transferred, a new fd,
//   a readiness mask, or a negative errno. EAGAIN and EINTR never appear.
// - The `link` and `backend_state` fields are the backend's; callers leave
//   them alone.
//
// Thread-compatible: an Operation is used by one driver thread at a time.
#ifndef POLYIO_BACKENDS_OPERATION_H_
#define POLYIO_BACKENDS_OPERATION_H_

#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "platform/intrusive_list.h"

// statx(2)'s result (<sys/stat.h> on Linux); only named here.
struct statx;

namespace polyio {

enum class OpKind : uint8_t {
  kRead,     // read(fd, buf, len)
  kWrite,    // write(fd, buf, len)
  kRecv,     // recv(fd, buf, len, flags)
  kSend,     // send(fd, buf, len, flags | MSG_NOSIGNAL)
  kRecvMsg,  // recvmsg(fd, msg, flags)
  kSendMsg,  // sendmsg(fd, msg, flags | MSG_NOSIGNAL)
  kAccept,   // accept4(fd, addr, addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC)
  kConnect,  // connect(fd, addr, addrlen); res is 0 or -errno
  kPollFd,   // wait until fd is ready for `poll_events`; res is the mask
  kClose,    // cancel the fd's pending operations, then close(fd)
  kPread,    // pread(fd, buf, len, offset)
  kPwrite,   // pwrite(fd, buf, len, offset)
  kFsync,    // fsync(fd)
  // Kinds only a backend with the matching capability takes (backend.h:
  // kNativeSignals, kNativeProcExit, kNativeWaitId); the others complete
  // them inline with -EOPNOTSUPP. `fd` is not a file descriptor for the
  // first two.
  kSignal,    // wait until signal `fd` is delivered to the process; res is
              // the number of deliveries recorded (>= 1)
  kProcExit,  // wait until child process `fd` (a pid) exits; res is 0. It
              // does not reap: the caller still waits for the child
  kWaitId,    // waitid(P_PIDFD, fd, (siginfo_t*)buf, WEXITED): wait until
              // the child of pidfd `fd` exits and reap it; res is 0 and
              // `buf` filled (si_code, si_status, si_pid)
  // Path operations: taken by backends whose NativeFileIo() is true
  // (backend.h), which complete a kind the kernel lacks inline with
  // -EOPNOTSUPP; the others refuse them all so. `fd` is the directory a
  // relative path starts from (AT_FDCWD, which is negative, or an open
  // directory), or for kStatx with AT_EMPTY_PATH the file itself; `buf`
  // points to the PathArgs below. res is 0 or -errno, except for kOpenAt.
  kOpenAt,    // openat(fd, path, flags, mode); res is the new fd
  kStatx,     // statx(fd, path, flags, mask, statx_buf)
  kRenameAt,  // renameat2(fd, path, fd, new_path, flags)
  kUnlinkAt,  // unlinkat(fd, path, flags); AT_REMOVEDIR: rmdir
  kMkdirAt,   // mkdirat(fd, path, mode)
};

// Whether `kind` is one of the path operations above.
constexpr bool IsPathKind(OpKind kind) {
  return kind >= OpKind::kOpenAt && kind <= OpKind::kMkdirAt;
}

// The arguments of a path operation, which Operation::buf points to. The
// strings and the statx buffer belong to the backend and the kernel while
// the operation is in flight, as a buffer does (they live in the future).
struct PathArgs {
  const char* path = nullptr;
  const char* new_path = nullptr;  // kRenameAt
  int flags = 0;      // O_* (open), AT_* (statx, unlink), RENAME_* (rename)
  uint32_t mode = 0;  // kOpenAt with O_CREAT, kMkdirAt
  uint32_t mask = 0;  // kStatx: STATX_* fields wanted
  struct statx* statx_buf = nullptr;  // kStatx: the result
};

// Readiness bits for kPollFd, the same values as poll(2)'s.
inline constexpr uint32_t kPollIn = 0x001;   // POLLIN
inline constexpr uint32_t kPollOut = 0x004;  // POLLOUT
inline constexpr uint32_t kPollErr = 0x008;  // POLLERR
inline constexpr uint32_t kPollHup = 0x010;  // POLLHUP

struct Operation {
  using CompleteFn = void (*)(Operation*);

  OpKind kind = OpKind::kRead;
  int fd = -1;

  // Arguments; which ones matter depends on `kind`.
  void* buf = nullptr;               // read, write, recv, send, pread, pwrite;
                                     // path kinds: a PathArgs*
  size_t len = 0;                    // same
  uint64_t offset = 0;               // pread, pwrite
  int flags = 0;                     // recv, send, recvmsg, sendmsg
  msghdr* msg = nullptr;             // recvmsg, sendmsg
  sockaddr* addr = nullptr;          // accept (out, may be null), connect (in)
  socklen_t* addrlen_out = nullptr;  // accept (in/out, may be null)
  socklen_t addrlen = 0;             // connect
  uint32_t poll_events = 0;          // poll-fd: kPollIn | kPollOut
  // A transfer on a byte stream (TCP, Unix stream, pipe): fewer bytes than
  // asked means the fd had no more data, or no more room, for now. A
  // readiness backend then waits for readiness before the next attempt
  // instead of making a syscall that would fail (reactor.h). Leave it false
  // for datagrams, where a short read is one whole message.
  bool byte_stream = false;

  // Result, valid once the operation has completed.
  int32_t res = 0;

  // Called exactly once, on the thread that runs Backend::Wait, unless
  // Submit returned true. It may submit new operations; it must not block.
  CompleteFn on_complete = nullptr;

  // Backend-private: the intrusive link for waiter lists and the completion
  // queue (backends/readiness/op_list.h), and a small state word.
  ListLink<Operation> link;
  uint32_t backend_state = 0;
};

}  // namespace polyio

#endif  // POLYIO_BACKENDS_OPERATION_H_
