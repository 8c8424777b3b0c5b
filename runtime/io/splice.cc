// One splice(2) between two handles (splice.h).
#include "runtime/io/splice.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "backends/operation.h"
#include "runtime/io/no_sigpipe.h"

namespace polyio {
namespace {

std::atomic<uint64_t> spliced{0};

#ifdef __linux__
// What kind of file `fd` is: S_IFIFO, S_IFSOCK (a stream socket), or 0.
mode_t SpliceKind(int fd) {
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) return 0;
  if (S_ISFIFO(st.st_mode)) return S_IFIFO;
  if (!S_ISSOCK(st.st_mode)) return 0;
  int type = 0;
  socklen_t len = sizeof(type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return 0;
  return type == SOCK_STREAM ? S_IFSOCK : 0;
}
#endif

}  // namespace

bool CanSplice(FdHandle& in, FdHandle& out) {
#ifdef __linux__
  if (in.has_kept_bytes()) return false;
  const mode_t from = SpliceKind(in.fd());
  const mode_t to = SpliceKind(out.fd());
  return from != 0 && to != 0 && (from == S_IFIFO || to == S_IFIFO);
#else
  (void)in;
  (void)out;
  return false;
#endif
}

uint64_t SplicedBytes() { return spliced.load(std::memory_order_relaxed); }

Poll<absl::StatusOr<size_t>> SpliceFuture::Poll(Context& cx) {
  using Result = absl::StatusOr<size_t>;
#ifdef __linux__
  for (;;) {
    if (ready_) {
      polyio::Poll<int32_t> ready = ready_->PollResult(cx);
      if (ready.pending()) return kPending;
      const int32_t res = ready.value();
      ready_.reset();
      if (res == -ECANCELED) {
        return Result(absl::CancelledError("splice: cancelled"));
      }
      // Any other outcome (ready, POLLERR, POLLHUP, a closed fd) is for the
      // splice below to report, which says it better.
    }
    const int in = in_->fd();
    const int out = out_->fd();
    if (in < 0 || out < 0) {
      return Result(absl::FailedPreconditionError(
          absl::StrCat("splice: the ", in < 0 ? in_->owner() : out_->owner(),
                       " is closed")));
    }
    if (cx.cancelled())
      return Result(absl::CancelledError("splice: cancelled"));
    if (!cx.ConsumeBudget()) {
      cx.waker().WakeByRef();
      return kPending;
    }
    const ssize_t n = internal::WithoutSigpipe([&] {
      return ::splice(in, nullptr, out, nullptr, max_,
                      SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
    });
    if (n >= 0) {
      spliced.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      return Result(static_cast<size_t>(n));
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return Result(absl::ErrnoToStatus(
          errno, absl::StrCat("splice fd ", in, " to fd ", out)));
    }
    // Which side was not ready? `in` without data (nor end, nor error)
    // waits to be readable; otherwise `out` is full.
    pollfd p = {in, POLLIN, 0};
    const bool in_ready = ::poll(&p, 1, 0) > 0;
    FdHandle& wait_on = in_ready ? *out_ : *in_;
    ready_.emplace();
    ready_->set_driver(wait_on.home());
    ready_->set_fd_source(wait_on.fd_source());
    Operation& op = ready_->op();
    op.kind = OpKind::kPollFd;
    op.poll_events = in_ready ? kPollOut : kPollIn;
  }
#else
  (void)cx;
  return Result(absl::UnimplementedError("splice: Linux only"));
#endif
}

}  // namespace polyio
