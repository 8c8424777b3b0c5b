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
// errors are returned.
//
// Same threading and lifetime rules as TcpStream. Move-only.
#ifndef POLYIO_RUNTIME_NET_TCP_LISTENER_H_
#define POLYIO_RUNTIME_NET_TCP_LISTENER_H_

#include <netinet/in.h>

#include <optional>

#include "absl/status/statusor.h"
#include "platform/clock.h"
#include "platform/socket_address.h"
#include "platform/unique_fd.h"
#include "runtime/driver.h"
#include "runtime/io/io_future.h"
#include "runtime/net/tcp_stream.h"
#include "runtime/time/sleep.h"

namespace polyio {

class AcceptFuture {
 public:
  AcceptFuture(int listen_fd, Driver* driver);
  AcceptFuture(AcceptFuture&& other) noexcept;
  polyio::Poll<absl::StatusOr<TcpStream>> Poll(Context& cx);

 private:
  void PrepareAccept();

  int listen_fd_;
  IoFuture io_;
  sockaddr_storage peer_;
  socklen_t peer_len_ = sizeof(sockaddr_storage);
  std::optional<SleepFuture> backoff_sleep_;
  Duration backoff_ = Duration::zero();
};

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

  AcceptFuture Accept() { return AcceptFuture(fd_.get(), home_.Get()); }
  absl::StatusOr<SocketAddress> LocalAddress() const;
  void Close();
  int fd() const { return fd_.get(); }

 private:
  explicit TcpListener(UniqueFd fd) : fd_(std::move(fd)) {}

  UniqueFd fd_;
  HomeDriver home_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_NET_TCP_LISTENER_H_
