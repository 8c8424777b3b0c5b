#include "platform/socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace polyio {
namespace {

absl::Status Errno(absl::string_view what) {
  return absl::ErrnoToStatus(errno, what);
}

}  // namespace

absl::Status MakeNonBlocking(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    return Errno(absl::StrCat("fcntl O_NONBLOCK fd ", fd));
  }
  int fdfl = fcntl(fd, F_GETFD);
  if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0) {
    return Errno(absl::StrCat("fcntl FD_CLOEXEC fd ", fd));
  }
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> NewStreamSocket(int family) {
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return Errno("socket");
#else
  UniqueFd fd(::socket(family, SOCK_STREAM, 0));
  if (!fd) return Errno("socket");
  if (absl::Status s = MakeNonBlocking(fd.get()); !s.ok()) return s;
#endif
#if defined(SO_NOSIGPIPE)
  int one = 1;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one)) < 0) {
    return Errno("setsockopt SO_NOSIGPIPE");
  }
#endif
  return fd;
}

absl::StatusOr<UniqueFd> ListenTcp(const SocketAddress& addr, int backlog,
                                   bool reuse_port) {
  absl::StatusOr<UniqueFd> fd = NewStreamSocket(addr.family());
  if (!fd.ok()) return fd.status();
  int one = 1;
  if (setsockopt(fd->get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
    return Errno("setsockopt SO_REUSEADDR");
  }
  if (reuse_port &&
      setsockopt(fd->get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
    return Errno("setsockopt SO_REUSEPORT");
  }
  if (::bind(fd->get(), addr.data(), addr.size()) < 0) {
    return Errno(absl::StrCat("bind ", addr.ToString()));
  }
  if (::listen(fd->get(), backlog) < 0) {
    return Errno(absl::StrCat("listen ", addr.ToString()));
  }
  return fd;
}

absl::Status SetNoDelay(int fd, bool on) {
  int v = on ? 1 : 0;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) < 0) {
    return Errno(absl::StrCat("setsockopt TCP_NODELAY fd ", fd));
  }
  return absl::OkStatus();
}

absl::StatusOr<SocketAddress> LocalAddress(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) {
    return Errno(absl::StrCat("getsockname fd ", fd));
  }
  return SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

absl::StatusOr<SocketAddress> PeerAddress(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) {
    return Errno(absl::StrCat("getpeername fd ", fd));
  }
  return SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

absl::Status ResultError(int32_t res, const char* op, int fd) {
  return absl::ErrnoToStatus(-res, absl::StrCat(op, " fd ", fd));
}

}  // namespace polyio
