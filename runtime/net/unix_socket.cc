#include "runtime/net/unix_socket.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "platform/socket.h"
#include "runtime/net/socket_errors.h"

namespace polyio {
namespace {

const char* TypeName(int type) {
  return type == SOCK_DGRAM ? "SOCK_DGRAM" : "SOCK_STREAM";
}

// What the platform cannot set in socket()'s type.
absl::Status Finish(int fd) {
#if !(defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC))
  if (absl::Status s = MakeNonBlocking(fd); !s.ok()) return s;
#endif
#if defined(SO_NOSIGPIPE)
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one)) < 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("setsockopt SO_NOSIGPIPE fd ", fd));
  }
#endif
  (void)fd;
  return absl::OkStatus();
}

int Flags() {
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
  return SOCK_NONBLOCK | SOCK_CLOEXEC;
#else
  return 0;
#endif
}

}  // namespace

absl::StatusOr<UniqueFd> NewUnixSocket(int type) {
  UniqueFd fd(::socket(AF_UNIX, type | Flags(), 0));
  if (!fd) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("socket AF_UNIX ", TypeName(type)));
  }
  if (absl::Status s = Finish(fd.get()); !s.ok()) return s;
  return fd;
}

absl::Status NewUnixPair(int type, UniqueFd* a, UniqueFd* b) {
  int sv[2] = {-1, -1};
  if (::socketpair(AF_UNIX, type | Flags(), 0, sv) < 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("socketpair AF_UNIX ", TypeName(type)));
  }
  a->Reset(sv[0]);
  b->Reset(sv[1]);
  if (absl::Status s = Finish(sv[0]); !s.ok()) return s;
  return Finish(sv[1]);
}

absl::StatusOr<UnixAddress> UnixSocketName(int fd, bool peer) {
  sockaddr_un addr{};
  socklen_t len = sizeof(addr);
  sockaddr* sa = reinterpret_cast<sockaddr*>(&addr);
  const int rc =
      peer ? ::getpeername(fd, sa, &len) : ::getsockname(fd, sa, &len);
  if (rc < 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat(peer ? "getpeername" : "getsockname", " fd ", fd));
  }
  return UnixAddress::FromSockaddr(addr, len);
}

absl::StatusOr<UnixCredentials> UnixPeerCredentials(int fd) {
  UnixCredentials c;
#if defined(SO_PEERCRED) && defined(__linux__)
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("getsockopt SO_PEERCRED fd ", fd));
  }
  c.pid = cred.pid;
  c.uid = cred.uid;
  c.gid = cred.gid;
#else
  if (::getpeereid(fd, &c.uid, &c.gid) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("getpeereid fd ", fd));
  }
#endif
  return c;
}

UnixSocketBase& UnixSocketBase::operator=(UnixSocketBase&& other) noexcept {
  if (this != &other) {
    Close().IgnoreError();
    handle_ = std::move(other.handle_);
    noun_ = other.noun_;
  }
  return *this;
}

absl::StatusOr<UnixCredentials> UnixSocketBase::PeerCredentials() const {
  if (!is_open()) return ClosedError("peer credentials", noun_);
  return UnixPeerCredentials(fd());
}

absl::StatusOr<UnixAddress> UnixSocketBase::LocalAddress() const {
  if (!is_open()) return ClosedError("local address", noun_);
  return UnixSocketName(fd(), false);
}

absl::StatusOr<UnixAddress> UnixSocketBase::PeerAddress() const {
  if (!is_open()) return ClosedError("peer address", noun_);
  return UnixSocketName(fd(), true);
}

absl::Status UnixSocketBase::Close() {
  if (!handle_) return absl::OkStatus();
  return handle_->Close();
}

}  // namespace polyio
