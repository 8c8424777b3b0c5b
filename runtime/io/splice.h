// SpliceFuture: one splice(2) from one descriptor's handle to another's,
// the kernel moving the bytes without copying them through user memory.
// Copy (runtime/bufio/read_write.h) uses it when CanSplice says both ends
// allow it; a program does not need it directly.
//
//   if (CanSplice(*in, *out)) {
//     absl::StatusOr<size_t> n = co_await SpliceFuture(in, out, 1 << 20);
//   }
//
// When. splice(2) needs a pipe on at least one side. CanSplice: Linux, both
// ends open, one a pipe (or FIFO), the other a pipe or a stream socket
// (TCP, Unix stream), and no bytes kept in `in` by a cancelled read (those
// must go out first, and only a plain write can send them). Anything else
// — a regular file, a terminal, another OS — is for the read/write loop.
//
// How. The splice is made inline on the polling thread, non-blocking
// (SPLICE_F_NONBLOCK for the pipe side; polyio's sockets and pipes are
// O_NONBLOCK), with SIGPIPE blocked (io/no_sigpipe.h): a reader that went
// away is EPIPE. EAGAIN does not say which side was not ready, so a
// zero-timeout poll(2) of both tells: `in` not readable, and the future
// waits with kPollFd(kPollIn) on `in`'s home driver; else `out` is full,
// and it waits with kPollFd(kPollOut) on `out`'s. Then it tries again. So
// every backend takes the same path, io_uring included (the contract has no
// splice operation; docs/decisions.md).
//
// Result: the bytes moved (> 0), 0 when `in` is at end of stream, or an
// error naming the call and both fds ("splice fd 7 to fd 9: Broken pipe").
// Cancel-safe: bytes move only inside the inline splice, which either
// moved them (and says how many) or moved none; a future cancelled while
// waiting for readiness has moved nothing.
//
// SplicedBytes(): what splice has moved in this process so far, for tests
// and statistics (a relaxed counter).
//
// Thread-compatible, as the streams' own futures: it uses neither end's
// operation slot, so the caller must not read `in` or write `out`
// meanwhile. Like a pipe's Write it reads the fd numbers on the polling
// thread: closing either end must not race it from another thread.
#ifndef POLYIO_RUNTIME_IO_SPLICE_H_
#define POLYIO_RUNTIME_IO_SPLICE_H_

#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "platform/ref_ptr.h"
#include "runtime/io/fd_handle.h"
#include "runtime/io/io_future.h"
#include "runtime/task/context.h"
#include "runtime/task/poll.h"

namespace polyio {

bool CanSplice(FdHandle& in, FdHandle& out);

uint64_t SplicedBytes();

class SpliceFuture {
 public:
  // Moves at most `max` bytes.
  SpliceFuture(RefPtr<FdHandle> in, RefPtr<FdHandle> out, size_t max)
      : in_(std::move(in)), out_(std::move(out)), max_(max) {}
  SpliceFuture(SpliceFuture&&) = default;  // only before the first poll

  polyio::Poll<absl::StatusOr<size_t>> Poll(Context& cx);

 private:
  RefPtr<FdHandle> in_;
  RefPtr<FdHandle> out_;
  size_t max_;
  // Waiting for `in` to be readable or `out` writable.
  std::optional<IoFuture> ready_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_IO_SPLICE_H_
