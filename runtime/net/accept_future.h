// Accepting connections on a listening socket (TCP or Unix): AcceptFdFuture
// gives the accepted socket's fd, AcceptFutureOf<Stream> wraps it in the
// listener's stream type (TcpListener's AcceptFuture gives a TcpStream,
// UnixListener's a UnixStream).
//
// Running out of fds (EMFILE, ENFILE) or kernel memory does not fail an
// accept and does not spin: it backs off (10 ms, doubling to 1 s) and tries
// again, so existing connections keep being served and new ones are
// accepted as soon as fds are free — what Go's net/http server does.
// Connections that die in the backlog (ECONNABORTED) are skipped. Other
// errors are returned.
//
// Cancel-safe: a connection the kernel accepted while the accept was being
// cancelled (io_uring) is kept by the listener's FdHandle and returned by
// its next accept, never closed under its client. Thread-compatible; must
// not move once polled.
#ifndef POLYIO_RUNTIME_NET_ACCEPT_FUTURE_H_
#define POLYIO_RUNTIME_NET_ACCEPT_FUTURE_H_

#include <sys/socket.h>

#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "platform/clock.h"
#include "platform/ref_ptr.h"
#include "platform/unique_fd.h"
#include "runtime/io/fd_handle.h"
#include "runtime/io/io_future.h"
#include "runtime/task/poll.h"
#include "runtime/time/sleep.h"

namespace polyio {

// Future of the fd of an accepted connection (non-blocking, close-on-exec).
class AcceptFdFuture {
 public:
  explicit AcceptFdFuture(RefPtr<FdHandle> listener);
  AcceptFdFuture(AcceptFdFuture&& other) noexcept;  // before the first poll
  ~AcceptFdFuture();
  polyio::Poll<absl::StatusOr<UniqueFd>> Poll(Context& cx);

 private:
  void PrepareAccept();
  polyio::Poll<absl::StatusOr<UniqueFd>> Accepted(Context& cx, UniqueFd fd);

  RefPtr<FdHandle> listener_;
  IoFuture io_;
  bool submitted_ = false;  // io_ holds a result nobody has taken yet
  sockaddr_storage peer_;
  socklen_t peer_len_ = sizeof(sockaddr_storage);
  std::optional<SleepFuture> backoff_sleep_;
  Duration backoff_ = Duration::zero();
};

// Future of an accepted `Stream`, made from the fd; its home driver is bound
// by its first operation (io/home_driver.h).
template <class Stream>
class AcceptFutureOf {
 public:
  explicit AcceptFutureOf(RefPtr<FdHandle> listener)
      : inner_(std::move(listener)) {}
  AcceptFutureOf(AcceptFutureOf&&) noexcept = default;  // before first poll

  polyio::Poll<absl::StatusOr<Stream>> Poll(Context& cx) {
    polyio::Poll<absl::StatusOr<UniqueFd>> fd = inner_.Poll(cx);
    if (fd.pending()) return kPending;
    if (!fd.value().ok()) return absl::StatusOr<Stream>(fd.value().status());
    return absl::StatusOr<Stream>(Stream(std::move(*fd.value())));
  }

 private:
  AcceptFdFuture inner_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_NET_ACCEPT_FUTURE_H_
