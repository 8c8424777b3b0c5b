// UnixDatagram: a Unix-domain datagram socket, messages sent and received
// with co_await, with file descriptors if wanted.
//
//   absl::StatusOr<UnixDatagram> s = UnixDatagram::Bind("app.dgram");
//   absl::StatusOr<UnixMessage> m = co_await s->RecvFrom(buf);
//   // m->bytes, m->peer, m->truncated
//   absl::StatusOr<size_t> n = co_await s->SendTo(data, m->peer);
//
// Bind(path) or BindAbstract(name) names the socket (so that others can
// send to it and it can reply); Unbound() makes one without a name (it can
// send, but nobody can answer it unless it is connected to); Pair() two
// connected to each other. Connect(path) fixes the peer: Send and Recv then
// need no address and the kernel takes datagrams from that peer only. A
// path longer than sun_path holds is InvalidArgument naming the call and the
// path. Unlike a listener, Bind's socket file is not removed at Close (the
// kernel does not either): remove it yourself if you want it gone.
//
// A datagram arrives whole or says it was cut: one longer than the buffer
// fills it and comes back with `truncated` set; the rest is gone. Sending
// to a socket whose queue is full waits (it does not drop, as UDP would).
// SendWithFds / RecvWithFds pass fds as UnixStream's do (fd_passing.h); a
// RecvFrom or Recv closes any fds that came and says `fds_truncated`.
//
// Close, cancellation, threads and lifetime: as UdpSocket's (udp_socket.h):
// receives are cancel-safe (a datagram the kernel delivered to a cancelled
// receive, and its fds, are kept for the next one), sends are not; one
// receive and one send may be pending at once; Close ends pending ones with
// CancelledError and later ones fail with FailedPrecondition ("recvfrom:
// the socket is closed"); close it before its Runtime. Move-only;
// thread-compatible.
#ifndef POLYIO_RUNTIME_NET_UNIX_DATAGRAM_H_
#define POLYIO_RUNTIME_NET_UNIX_DATAGRAM_H_

#include <cstddef>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "platform/ref_ptr.h"
#include "platform/unique_fd.h"
#include "runtime/driver/driver.h"
#include "runtime/io/fd_handle.h"
#include "runtime/net/unix_address.h"
#include "runtime/net/unix_message.h"
#include "runtime/net/unix_socket.h"

namespace polyio {

class UnixDatagram : public UnixSocketBase {
 public:
  static absl::StatusOr<UnixDatagram> Bind(absl::string_view path);
  static absl::StatusOr<UnixDatagram> BindAbstract(absl::string_view name);
  static absl::StatusOr<UnixDatagram> Bind(const UnixAddress& addr);
  static absl::StatusOr<UnixDatagram> Unbound();
  static absl::StatusOr<std::pair<UnixDatagram, UnixDatagram>> Pair();

  // Takes a non-blocking AF_UNIX datagram socket. `driver` as TcpStream's.
  explicit UnixDatagram(UniqueFd fd, Driver* driver = nullptr)
      : UnixSocketBase(std::move(fd), driver, "UnixDatagram", "socket") {}
  UnixDatagram(UnixDatagram&& other) noexcept = default;
  UnixDatagram& operator=(UnixDatagram&& other) noexcept = default;

  // Connected mode (above). A plain call: connecting a datagram socket only
  // records the peer.
  absl::Status Connect(absl::string_view path);
  absl::Status Connect(const UnixAddress& addr);

  UnixRecvFuture RecvFrom(absl::Span<char> buf) {
    return UnixRecvFuture(handle_, buf, 0, {"recvfrom", "socket", false});
  }
  // Connected mode.
  UnixRecvFuture Recv(absl::Span<char> buf) {
    return UnixRecvFuture(handle_, buf, 0, {"recv", "socket", false});
  }
  UnixRecvFuture RecvWithFds(absl::Span<char> buf, size_t max_fds) {
    return UnixRecvFuture(handle_, buf, max_fds, {"recvmsg", "socket", false});
  }

  // An invalid `path` is the future's result.
  UnixSendFuture SendTo(absl::Span<const char> data, absl::string_view path);
  UnixSendFuture SendTo(absl::Span<const char> data, const UnixAddress& to) {
    return UnixSendFuture(handle_, data, {}, to, {"sendto", "socket", false});
  }
  // Connected mode.
  UnixSendFuture Send(absl::Span<const char> data) {
    return UnixSendFuture(handle_, data, {}, std::nullopt,
                          {"send", "socket", false});
  }
  // `to`: nullopt in connected mode.
  UnixSendFuture SendWithFds(absl::Span<const char> data,
                             absl::Span<const int> fds,
                             std::optional<UnixAddress> to = std::nullopt) {
    return UnixSendFuture(handle_, data, fds, std::move(to),
                          {"sendmsg", "socket", false});
  }

  // PeerCredentials, LocalAddress, PeerAddress, Close, fd, is_open:
  // UnixSocketBase's (unix_socket.h).
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_NET_UNIX_DATAGRAM_H_
