#include "runtime/net/udp_socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "platform/socket.h"
#include "runtime/net/socket_errors.h"

namespace polyio {
namespace {

UdpDatagram FromParts(size_t bytes, const sockaddr_storage& from,
                      socklen_t from_len, int msg_flags, size_t control_bytes) {
  UdpDatagram d;
  d.bytes = bytes;
  // An unconnected recvmsg always names the sender; a connected one may
  // leave it empty on some kernels, and the peer is then unknown (0.0.0.0).
  if (from_len > 0) {
    absl::StatusOr<SocketAddress> peer = SocketAddress::FromSockaddr(
        reinterpret_cast<const sockaddr*>(&from), from_len);
    if (peer.ok()) d.peer = *peer;
  }
  d.truncated = (msg_flags & MSG_TRUNC) != 0;
  d.control_bytes = control_bytes;
  d.control_truncated = (msg_flags & MSG_CTRUNC) != 0;
  return d;
}

}  // namespace

// ---- receive ----

UdpRecvFuture::~UdpRecvFuture() {
  if (io_ == nullptr) return;
  int32_t res = io_->Abandon();
  // Keep before giving the slot back (as TcpStream's ReadFuture does): a
  // receive that claims the slot next must find the datagram already kept,
  // or it would overtake it.
  if (res >= 0) Keep(res);
  Release();
}

void UdpRecvFuture::Release() {
  io_ = nullptr;
  handle_->ReleaseSlot(FdHandle::Direction::kRead);
}

// A datagram the kernel delivered to a receive whose caller stopped
// waiting: it goes to the handle for the next receive. n >= 0 is always a
// datagram (an empty one is a datagram too).
void UdpRecvFuture::Keep(int32_t n) {
  FdHandle::KeptDatagram d;
  d.data.assign(buf_.data(), static_cast<size_t>(n));
  d.control.assign(control_.data(),
                   std::min<size_t>(msg_.msg_controllen, control_.size()));
  d.from = from_;
  d.from_len = msg_.msg_namelen;
  d.msg_flags = msg_.msg_flags;
  handle_->KeepDatagram(std::move(d));
}

absl::StatusOr<UdpDatagram> UdpRecvFuture::Received(int32_t n) const {
  return FromParts(static_cast<size_t>(n), from_, msg_.msg_namelen,
                   msg_.msg_flags, control_.empty() ? 0 : msg_.msg_controllen);
}

Poll<absl::StatusOr<UdpDatagram>> UdpRecvFuture::FromKept(Context& cx) {
  using Result = absl::StatusOr<UdpDatagram>;
  if (cx.cancelled()) {
    return Result(absl::CancelledError(absl::StrCat(op_name_, ": cancelled")));
  }
  if (!cx.ConsumeBudget()) {
    cx.waker().WakeByRef();
    return kPending;
  }
  FdHandle::KeptDatagram kept = handle_->TakeKeptDatagram();
  const size_t n = std::min(kept.data.size(), buf_.size());
  // Empty spans (no control buffer, a zero-length buffer) may have a null
  // data(), which memcpy may not be given even for 0 bytes.
  if (n > 0) std::memcpy(buf_.data(), kept.data.data(), n);
  const size_t c = std::min(kept.control.size(), control_.size());
  if (c > 0) std::memcpy(control_.data(), kept.control.data(), c);
  int flags = kept.msg_flags;
  if (n < kept.data.size()) flags |= MSG_TRUNC;
  if (c < kept.control.size()) flags |= MSG_CTRUNC;
  return Result(FromParts(n, kept.from, kept.from_len, flags, c));
}

Poll<absl::StatusOr<UdpDatagram>> UdpRecvFuture::Poll(Context& cx) {
  using Result = absl::StatusOr<UdpDatagram>;
  if (io_ == nullptr) {
    if (!handle_ || handle_->closed())
      return Result(ClosedError(op_name_, "socket"));
    if (handle_->has_kept_datagram()) return FromKept(cx);
    io_ = handle_->ClaimSlot(FdHandle::Direction::kRead);
    if (io_ == nullptr) return Result(BusyError(op_name_, "receive", "socket"));
    iov_.iov_base = buf_.data();
    iov_.iov_len = buf_.size();
    msg_ = msghdr{};
    msg_.msg_name = &from_;
    msg_.msg_namelen = sizeof(from_);
    msg_.msg_iov = &iov_;
    msg_.msg_iovlen = 1;
    if (!control_.empty()) {
      msg_.msg_control = control_.data();
      msg_.msg_controllen = control_.size();
    }
    Operation& op = io_->op();
    op.kind = OpKind::kRecvMsg;
    op.byte_stream = false;
    op.msg = &msg_;
    op.flags = 0;
  }
  polyio::Poll<int32_t> res = io_->PollResult(cx);
  if (res.pending()) return kPending;
  Release();
  const int32_t n = res.value();
  if (n >= 0 && cx.cancelled()) {
    // Completed while being cancelled: the caller gets CancelledError, as
    // every cancelled future does, and the datagram waits for the next one.
    Keep(n);
    return Result(absl::CancelledError(
        absl::StrCat(op_name_,
                     ": cancelled; the datagram it received is "
                     "kept for the next receive")));
  }
  if (n < 0) {
    return Result(OperationError(*handle_, n, op_name_,
                                 absl::StrCat(op_name_, " fd ", handle_->fd()),
                                 "socket"));
  }
  return Received(n);
}

// ---- send ----

UdpSendFuture::~UdpSendFuture() {
  if (io_ == nullptr) return;
  io_->Abandon();  // sent or not; nobody is told
  handle_->ReleaseSlot(FdHandle::Direction::kWrite);
}

absl::StatusOr<size_t> UdpSendFuture::Error(int32_t res) const {
  std::string what = absl::StrCat(op_name_);
  if (to_.has_value()) absl::StrAppend(&what, " ", to_->ToString());
  absl::StrAppend(&what, " fd ", handle_->fd());
  return OperationError(*handle_, res, op_name_, what, "socket");
}

Poll<absl::StatusOr<size_t>> UdpSendFuture::Poll(Context& cx) {
  using Result = absl::StatusOr<size_t>;
  if (io_ == nullptr) {
    if (!handle_ || handle_->closed())
      return Result(ClosedError(op_name_, "socket"));
    io_ = handle_->ClaimSlot(FdHandle::Direction::kWrite);
    if (io_ == nullptr) return Result(BusyError(op_name_, "send", "socket"));
    iov_.iov_base = const_cast<char*>(data_.data());
    iov_.iov_len = data_.size();
    msg_ = msghdr{};
    if (to_.has_value()) {
      msg_.msg_name = const_cast<sockaddr*>(to_->data());
      msg_.msg_namelen = to_->size();
    }
    msg_.msg_iov = &iov_;
    msg_.msg_iovlen = 1;
    if (!control_.empty()) {
      msg_.msg_control = const_cast<char*>(control_.data());
      msg_.msg_controllen = control_.size();
    }
    Operation& op = io_->op();
    op.kind = OpKind::kSendMsg;
    op.byte_stream = false;
    op.msg = &msg_;
    op.flags = 0;
  }
  polyio::Poll<int32_t> res = io_->PollResult(cx);
  if (res.pending()) return kPending;
  io_ = nullptr;
  handle_->ReleaseSlot(FdHandle::Direction::kWrite);
  if (res.value() < 0) return Error(res.value());
  return Result(static_cast<size_t>(res.value()));
}

// ---- the socket ----

absl::StatusOr<UdpSocket> UdpSocket::Open(int family) {
  if (family != AF_INET && family != AF_INET6) {
    return absl::InvalidArgumentError(absl::StrCat("UdpSocket::Open: family ",
                                                   family,
                                                   " is neither AF_INET nor "
                                                   "AF_INET6"));
  }
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
  int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "socket(SOCK_DGRAM)");
  UniqueFd owned(fd);
#else
  int fd = ::socket(family, SOCK_DGRAM, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "socket(SOCK_DGRAM)");
  UniqueFd owned(fd);
  absl::Status nb = MakeNonBlocking(fd);
  if (!nb.ok()) return nb;
#endif
  return UdpSocket(std::move(owned), family);
}

absl::StatusOr<UdpSocket> UdpSocket::Bind(const SocketAddress& addr) {
  absl::StatusOr<UdpSocket> s = Open(addr.family());
  if (!s.ok()) return s.status();
  absl::Status bound = s->BindTo(addr);
  if (!bound.ok()) return bound;
  return s;
}

UdpSocket& UdpSocket::operator=(UdpSocket&& other) noexcept {
  if (this != &other) {
    Close().IgnoreError();
    handle_ = std::move(other.handle_);
    family_ = other.family_;
  }
  return *this;
}

absl::Status UdpSocket::BindTo(const SocketAddress& addr) {
  const std::string what = absl::StrCat("bind ", addr.ToString());
  if (!is_open()) return ClosedError(what, "socket");
  if (addr.family() != family_) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the socket's family is not the address's"));
  }
  if (::bind(fd(), addr.data(), addr.size()) < 0) {
    return absl::ErrnoToStatus(errno, what);
  }
  return absl::OkStatus();
}

absl::Status UdpSocket::Connect(const SocketAddress& addr) {
  const std::string what = absl::StrCat("connect ", addr.ToString());
  if (!is_open()) return ClosedError(what, "socket");
  if (::connect(fd(), addr.data(), addr.size()) < 0) {
    return absl::ErrnoToStatus(errno, what);
  }
  return absl::OkStatus();
}

absl::Status UdpSocket::SetIntOption(int level, int name, const char* name_text,
                                     int value) {
  const std::string what = absl::StrCat("setsockopt ", name_text);
  if (!is_open()) return ClosedError(what, "socket");
  if (::setsockopt(fd(), level, name, &value, sizeof(value)) < 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat(what, " fd ", fd(), " = ", value));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> UdpSocket::IntOption(int level, int name,
                                         const char* name_text) const {
  const std::string what = absl::StrCat("getsockopt ", name_text);
  if (!is_open()) return ClosedError(what, "socket");
  // Some options (IP_MULTICAST_TTL/LOOP on BSDs) are a byte; zeroing first
  // makes either width read right on little-endian hosts.
  int value = 0;
  socklen_t len = sizeof(value);
  if (::getsockopt(fd(), level, name, &value, &len) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat(what, " fd ", fd()));
  }
  return value;
}

absl::Status UdpSocket::SetBroadcast(bool on) {
  return SetIntOption(SOL_SOCKET, SO_BROADCAST, "SO_BROADCAST", on ? 1 : 0);
}
absl::StatusOr<bool> UdpSocket::Broadcast() const {
  absl::StatusOr<int> v = IntOption(SOL_SOCKET, SO_BROADCAST, "SO_BROADCAST");
  if (!v.ok()) return v.status();
  return *v != 0;
}

absl::Status UdpSocket::SetReceiveBufferSize(int bytes) {
  return SetIntOption(SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF", bytes);
}
absl::StatusOr<int> UdpSocket::ReceiveBufferSize() const {
  return IntOption(SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF");
}
absl::Status UdpSocket::SetSendBufferSize(int bytes) {
  return SetIntOption(SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF", bytes);
}
absl::StatusOr<int> UdpSocket::SendBufferSize() const {
  return IntOption(SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF");
}

absl::Status UdpSocket::SetV6Only(bool on) {
  if (family_ != AF_INET6 && is_open()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "setsockopt IPV6_V6ONLY fd ", fd(), ": not an IPv6 socket"));
  }
  return SetIntOption(IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY", on ? 1 : 0);
}
absl::StatusOr<bool> UdpSocket::V6Only() const {
  absl::StatusOr<int> v = IntOption(IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY");
  if (!v.ok()) return v.status();
  return *v != 0;
}

absl::Status UdpSocket::Membership(bool join, const SocketAddress& group,
                                   uint32_t interface_index) {
  const std::string what = absl::StrCat(
      "setsockopt ",
      family_ == AF_INET6 ? (join ? "IPV6_JOIN_GROUP" : "IPV6_LEAVE_GROUP")
                          : (join ? "IP_ADD_MEMBERSHIP" : "IP_DROP_MEMBERSHIP"),
      " ", group.ToString(), " interface ", interface_index);
  if (!is_open()) return ClosedError(what, "socket");
  if (group.family() != family_) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the group's family is not the socket's"));
  }
  int rc;
  if (family_ == AF_INET6) {
    ipv6_mreq req{};
    req.ipv6mr_multiaddr =
        reinterpret_cast<const sockaddr_in6*>(group.data())->sin6_addr;
    req.ipv6mr_interface = interface_index;
    rc = ::setsockopt(fd(), IPPROTO_IPV6,
                      join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, &req,
                      sizeof(req));
  } else {
#if defined(__linux__)
    ip_mreqn req{};
    req.imr_multiaddr =
        reinterpret_cast<const sockaddr_in*>(group.data())->sin_addr;
    req.imr_ifindex = static_cast<int>(interface_index);
#else
    // Without ip_mreqn an interface is named by its address; only "any".
    if (interface_index != 0) {
      return absl::UnimplementedError(
          absl::StrCat(what, ": an interface index needs ip_mreqn (Linux)"));
    }
    ip_mreq req{};
    req.imr_multiaddr =
        reinterpret_cast<const sockaddr_in*>(group.data())->sin_addr;
#endif
    rc = ::setsockopt(fd(), IPPROTO_IP,
                      join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &req,
                      sizeof(req));
  }
  if (rc < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat(what, " fd ", fd()));
  }
  return absl::OkStatus();
}

absl::Status UdpSocket::JoinMulticast(const SocketAddress& group,
                                      uint32_t interface_index) {
  return Membership(true, group, interface_index);
}
absl::Status UdpSocket::LeaveMulticast(const SocketAddress& group,
                                       uint32_t interface_index) {
  return Membership(false, group, interface_index);
}

absl::Status UdpSocket::SetMulticastInterface(uint32_t interface_index) {
  if (family_ == AF_INET6) {
    return SetIntOption(IPPROTO_IPV6, IPV6_MULTICAST_IF, "IPV6_MULTICAST_IF",
                        static_cast<int>(interface_index));
  }
  const std::string what = "setsockopt IP_MULTICAST_IF";
  if (!is_open()) return ClosedError(what, "socket");
#if defined(__linux__)
  ip_mreqn req{};
  req.imr_ifindex = static_cast<int>(interface_index);
  if (::setsockopt(fd(), IPPROTO_IP, IP_MULTICAST_IF, &req, sizeof(req)) < 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat(what, " fd ", fd(), " = ", interface_index));
  }
  return absl::OkStatus();
#else
  return absl::UnimplementedError(
      absl::StrCat(what, ": an interface index needs ip_mreqn (Linux)"));
#endif
}

absl::Status UdpSocket::SetMulticastTtl(int ttl) {
  if (family_ == AF_INET6) {
    return SetIntOption(IPPROTO_IPV6, IPV6_MULTICAST_HOPS,
                        "IPV6_MULTICAST_HOPS", ttl);
  }
  return SetIntOption(IPPROTO_IP, IP_MULTICAST_TTL, "IP_MULTICAST_TTL", ttl);
}
absl::StatusOr<int> UdpSocket::MulticastTtl() const {
  if (family_ == AF_INET6) {
    return IntOption(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, "IPV6_MULTICAST_HOPS");
  }
  return IntOption(IPPROTO_IP, IP_MULTICAST_TTL, "IP_MULTICAST_TTL");
}

absl::Status UdpSocket::SetMulticastLoop(bool on) {
  if (family_ == AF_INET6) {
    return SetIntOption(IPPROTO_IPV6, IPV6_MULTICAST_LOOP,
                        "IPV6_MULTICAST_LOOP", on ? 1 : 0);
  }
  return SetIntOption(IPPROTO_IP, IP_MULTICAST_LOOP, "IP_MULTICAST_LOOP",
                      on ? 1 : 0);
}
absl::StatusOr<bool> UdpSocket::MulticastLoop() const {
  absl::StatusOr<int> v =
      family_ == AF_INET6
          ? IntOption(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, "IPV6_MULTICAST_LOOP")
          : IntOption(IPPROTO_IP, IP_MULTICAST_LOOP, "IP_MULTICAST_LOOP");
  if (!v.ok()) return v.status();
  return (*v & 0xff) != 0;
}

absl::StatusOr<SocketAddress> UdpSocket::LocalAddress() const {
  if (!is_open()) return ClosedError("local address", "socket");
  return polyio::LocalAddress(fd());
}

absl::StatusOr<SocketAddress> UdpSocket::PeerAddress() const {
  if (!is_open()) return ClosedError("peer address", "socket");
  return polyio::PeerAddress(fd());
}

absl::Status UdpSocket::Close() {
  if (!handle_) return absl::OkStatus();
  return handle_->Close();
}

}  // namespace polyio
