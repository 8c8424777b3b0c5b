// TcpListener: a listening TCP socket; Accept() is a future of a TcpStream.
//
//   absl::StatusOr<TcpListener> l = TcpListener::Bind(addr);
//   for (;;) {
//     absl::StatusOr<TcpStream> s = co_await l->Accept();
//     if (s.ok()) Spawn(Serve(std::move(*s))).Detach();
//   }
//
// Running out of fds (EMFILE, ENFILE) or kernel memory does not fail Accept
// and does not spin: the listener backs off (10 ms, doubling to 1 s) and
// tries again, so existing connections keep being served and new ones are
// accepted as soon as fds are free — what Go's net/http server does.
// Connections that die in the backlog (ECONNABORTED) are skipped. Other
// errors are returned. Accept is cancel-safe (accept_future.h).
//
// Same threading, Close and lifetime rules as TcpStream ("polyio: a
// TcpListener was closed after the Runtime ..."). Move-only.
#ifndef POLYIO_RUNTIME_NET_TCP_LISTENER_H_
#define POLYIO_RUNTIME_NET_TCP_LISTENER_H_

#include "absl/status/statusor.h"
#include "platform/ref_ptr.h"
#include "platform/socket_address.h"
#include "platform/unique_fd.h"
#include "runtime/driver/driver.h"
#include "runtime/io/fd_handle.h"
#include "runtime/net/accept_future.h"
#include "runtime/net/tcp_stream.h"

namespace polyio {

// Future of Accept (accept_future.h): cancel-safe, backs off when out of
// fds.
using AcceptFuture = AcceptFutureOf<TcpStream>;

struct ListenOptions {
  int backlog = 1024;
  // SO_REUSEPORT: several listeners (one per thread, thread-per-core) bind
  // the same address and the kernel spreads connections between them.
  bool reuse_port = false;
};

class TcpListener {
 public:
  static absl::StatusOr<TcpListener> Bind(const SocketAddress& addr,
                                          const ListenOptions& options = {});
  static absl::StatusOr<TcpListener> Bind(const SocketAddress& addr,
                                          int backlog) {
    return Bind(addr, ListenOptions{.backlog = backlog});
  }
  TcpListener(TcpListener&& other) noexcept = default;
  TcpListener& operator=(TcpListener&& other) noexcept;
  ~TcpListener() { Close(); }

  AcceptFuture Accept() { return AcceptFuture(handle_); }
  absl::StatusOr<SocketAddress> LocalAddress() const;
  // Ends a pending Accept (CancelledError) and closes the socket; Accept
  // futures made earlier fail from now on (FailedPrecondition). Idempotent.
  void Close();
  // The fd, or -1 once closed.
  int fd() const { return handle_ ? handle_->fd() : -1; }

 private:
  explicit TcpListener(UniqueFd fd)
      : handle_(FdHandle::Make(std::move(fd), nullptr, "TcpListener")) {}

  RefPtr<FdHandle> handle_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_NET_TCP_LISTENER_H_
