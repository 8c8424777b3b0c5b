// UdpSocket: a UDP socket (IPv4 or IPv6), datagrams sent and received with
// co_await.
//
//   absl::StatusOr<UdpSocket> s = UdpSocket::Bind(addr);
//   absl::StatusOr<UdpDatagram> d = co_await s->RecvFrom(buf);
//   // d->bytes, d->peer, d->truncated
//   absl::StatusOr<size_t> n = co_await s->SendTo(data, d->peer);
//
// Unconnected, a socket sends with SendTo and learns each sender from
// RecvFrom. Connect(addr) fixes the peer (connected mode): Send and Recv
// then need no address, the kernel drops datagrams from anyone else, and an
// ICMP "port unreachable" for an earlier Send surfaces as the error of a
// later receive ("recv fd 7: Connection refused"). SendMsg and RecvMsg also
// carry ancillary data (cmsg: IP_PKTINFO, timestamps, ...) in a control
// buffer the caller lays out with CMSG_* macros.
//
// Truncation is reported, never silent: a datagram larger than the buffer
// fills the buffer and comes back with `truncated` set (recvmsg's
// MSG_TRUNC); the rest of it is gone, as datagram sockets do. Ancillary
// data that did not fit sets `control_truncated` (MSG_CTRUNC).
//
// Errors name the call and its argument ("bind 127.0.0.1:53: Address
// already in use", "sendto [::1]:9 fd 7: Network is unreachable",
// "setsockopt IP_MULTICAST_TTL fd 7: Invalid argument").
//
// Close. Close() (or destroying the socket) ends every operation still
// pending on it with CancelledError ("recvfrom: cancelled: the socket was
// closed"), and every future made from the socket and awaited afterwards
// fails with FailedPrecondition ("recvfrom: the socket is closed"). A future
// never touches the fd number after Close (io/fd_handle.h).
//
// Cancellation (docs/cancellation.md), on every backend:
// - RecvFrom, Recv and RecvMsg are cancel-safe: cancelling one (Abort, a
//   Timeout, losing a select, dropping the future) loses no datagram. A
//   receive that the kernel completed anyway while it was being cancelled
//   (io_uring takes the datagram out of the socket) reports CancelledError,
//   or, dropped, reports nothing, and keeps the datagram in the socket
//   object: the next receive returns it first, with its sender, its
//   ancillary data and its truncation flag. (A kept datagram is as long as
//   the cancelled receive's buffer allowed; given to a smaller buffer it is
//   cut again, and says so.)
// - SendTo, Send and SendMsg are not: one cancelled in flight may have sent
//   its datagram (a datagram goes whole or not at all). Awaited to its end
//   it reports the bytes sent if it was sent, else CancelledError; a
//   dropped future cannot say.
//
// Threads and lifetime: as TcpStream's. Futures and the socket may be used
// from any task on any worker; operations go to the socket's home driver.
// One receive and one send may be pending at once (a second fails with
// FailedPrecondition). The socket must be closed or destroyed before its
// Runtime. Move-only; thread-compatible (the socket object is used by one
// task at a time; setting options while operations are pending is fine).
#ifndef POLYIO_RUNTIME_NET_UDP_SOCKET_H_
#define POLYIO_RUNTIME_NET_UDP_SOCKET_H_

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "platform/ref_ptr.h"
#include "platform/socket_address.h"
#include "platform/unique_fd.h"
#include "runtime/driver/driver.h"
#include "runtime/io/fd_handle.h"
#include "runtime/io/io_future.h"
#include "runtime/task/poll.h"

namespace polyio {

// One received datagram.
struct UdpDatagram {
  size_t bytes = 0;          // bytes stored in the buffer
  SocketAddress peer;        // who sent it
  bool truncated = false;    // it was longer than the buffer; the rest is lost
  size_t control_bytes = 0;  // ancillary data stored (RecvMsg)
  bool control_truncated = false;  // ancillary data did not fit
};

// Future of RecvFrom, Recv and RecvMsg. Cancel-safe (above). Holds the
// msghdr the kernel fills in, so it must not move once polled (it lives in
// a coroutine frame or is awaited in place).
class UdpRecvFuture {
 public:
  UdpRecvFuture(RefPtr<FdHandle> handle, absl::Span<char> buf,
                absl::Span<char> control, const char* op_name)
      : handle_(std::move(handle)),
        buf_(buf),
        control_(control),
        op_name_(op_name) {}
  UdpRecvFuture(UdpRecvFuture&&) = default;  // only before the first poll
  // A datagram that arrived unseen (the future was dropped) is kept.
  ~UdpRecvFuture();

  polyio::Poll<absl::StatusOr<UdpDatagram>> Poll(Context& cx);

 private:
  void Release();
  void Keep(int32_t n);
  absl::StatusOr<UdpDatagram> Received(int32_t n) const;
  polyio::Poll<absl::StatusOr<UdpDatagram>> FromKept(Context& cx);

  RefPtr<FdHandle> handle_;
  absl::Span<char> buf_;
  absl::Span<char> control_;
  const char* op_name_;
  IoFuture* io_ = nullptr;  // the claimed read slot
  msghdr msg_{};
  iovec iov_{};
  sockaddr_storage from_{};
};

// Future of SendTo, Send and SendMsg: the bytes sent (the whole datagram).
class UdpSendFuture {
 public:
  UdpSendFuture(RefPtr<FdHandle> handle, absl::Span<const char> data,
                std::optional<SocketAddress> to, absl::Span<const char> control,
                const char* op_name)
      : handle_(std::move(handle)),
        data_(data),
        to_(std::move(to)),
        control_(control),
        op_name_(op_name) {}
  UdpSendFuture(UdpSendFuture&&) = default;  // only before the first poll
  ~UdpSendFuture();

  polyio::Poll<absl::StatusOr<size_t>> Poll(Context& cx);

 private:
  absl::StatusOr<size_t> Error(int32_t res) const;

  RefPtr<FdHandle> handle_;
  absl::Span<const char> data_;
  std::optional<SocketAddress> to_;
  absl::Span<const char> control_;
  const char* op_name_;
  IoFuture* io_ = nullptr;  // the claimed write slot
  msghdr msg_{};
  iovec iov_{};
};

class UdpSocket {
 public:
  // An unbound socket of `family` (AF_INET or AF_INET6): for options that
  // must be set before bind (IPV6_V6ONLY), then BindTo.
  static absl::StatusOr<UdpSocket> Open(int family);
  // Open(addr.family()) and BindTo(addr). Port 0 picks a free port
  // (LocalAddress tells which).
  static absl::StatusOr<UdpSocket> Bind(const SocketAddress& addr);

  // Takes a non-blocking datagram socket. `driver` as TcpStream's.
  UdpSocket(UniqueFd fd, int family, Driver* driver = nullptr)
      : handle_(FdHandle::Make(std::move(fd), driver, "UdpSocket")),
        family_(family) {}
  UdpSocket(UdpSocket&& other) noexcept = default;
  UdpSocket& operator=(UdpSocket&& other) noexcept;
  ~UdpSocket() { Close().IgnoreError(); }

  absl::Status BindTo(const SocketAddress& addr);
  // Connected mode (above). Does not block: for UDP, connect only records
  // the peer, so it is a plain call rather than a future.
  absl::Status Connect(const SocketAddress& addr);

  UdpRecvFuture RecvFrom(absl::Span<char> buf) {
    return UdpRecvFuture(handle_, buf, {}, "recvfrom");
  }
  // Connected mode; `peer` of the result is the connected peer.
  UdpRecvFuture Recv(absl::Span<char> buf) {
    return UdpRecvFuture(handle_, buf, {}, "recv");
  }
  // With ancillary data into `control`.
  UdpRecvFuture RecvMsg(absl::Span<char> buf, absl::Span<char> control) {
    return UdpRecvFuture(handle_, buf, control, "recvmsg");
  }

  UdpSendFuture SendTo(absl::Span<const char> data, const SocketAddress& to) {
    return UdpSendFuture(handle_, data, to, {}, "sendto");
  }
  // Connected mode.
  UdpSendFuture Send(absl::Span<const char> data) {
    return UdpSendFuture(handle_, data, std::nullopt, {}, "send");
  }
  // `to`: nullopt in connected mode. `control`: laid out with CMSG_*.
  UdpSendFuture SendMsg(absl::Span<const char> data,
                        std::optional<SocketAddress> to,
                        absl::Span<const char> control) {
    return UdpSendFuture(handle_, data, std::move(to), control, "sendmsg");
  }

  // Options. Each setter has a getter that reads the kernel's value back
  // (getsockopt); the multicast ones use the IPv4 or IPv6 option by the
  // socket's family.
  absl::Status SetBroadcast(bool on);
  absl::StatusOr<bool> Broadcast() const;
  // The kernel may round the size (Linux doubles it); read it back.
  absl::Status SetReceiveBufferSize(int bytes);
  absl::StatusOr<int> ReceiveBufferSize() const;
  absl::Status SetSendBufferSize(int bytes);
  absl::StatusOr<int> SendBufferSize() const;
  // IPv6 sockets only, before BindTo.
  absl::Status SetV6Only(bool on);
  absl::StatusOr<bool> V6Only() const;
  // `group`'s port is ignored. `interface_index`: 0 lets the kernel choose
  // (the interface of the default route), else an if_nametoindex() value.
  absl::Status JoinMulticast(const SocketAddress& group,
                             uint32_t interface_index = 0);
  absl::Status LeaveMulticast(const SocketAddress& group,
                              uint32_t interface_index = 0);
  // The interface multicast datagrams are sent from.
  absl::Status SetMulticastInterface(uint32_t interface_index);
  absl::Status SetMulticastTtl(int ttl);  // IPv6: hop limit
  absl::StatusOr<int> MulticastTtl() const;
  absl::Status SetMulticastLoop(bool on);
  absl::StatusOr<bool> MulticastLoop() const;

  absl::StatusOr<SocketAddress> LocalAddress() const;
  absl::StatusOr<SocketAddress> PeerAddress() const;

  // Ends pending operations (CancelledError) and closes the socket; futures
  // made earlier fail from now on. Idempotent.
  absl::Status Close();

  // The fd, or -1 once closed. Valid only until Close: do not keep it.
  int fd() const { return handle_ ? handle_->fd() : -1; }
  bool is_open() const { return fd() >= 0; }
  int family() const { return family_; }

 private:
  absl::Status SetIntOption(int level, int name, const char* name_text,
                            int value);
  absl::StatusOr<int> IntOption(int level, int name,
                                const char* name_text) const;
  absl::Status Membership(bool join, const SocketAddress& group,
                          uint32_t interface_index);

  RefPtr<FdHandle> handle_;
  int family_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_NET_UDP_SOCKET_H_
