// What UnixStream, UnixListener and UnixDatagram share: the system calls
// that make AF_UNIX sockets and pairs, name a socket's own end or its peer
// and read the peer's credentials (each says in its status which call
// failed on what; thread-safe), and UnixSocketBase, the part of a stream
// and a datagram socket that is not about reading or writing.
#ifndef POLYIO_RUNTIME_NET_UNIX_SOCKET_H_
#define POLYIO_RUNTIME_NET_UNIX_SOCKET_H_

#include <sys/types.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "platform/ref_ptr.h"
#include "platform/unique_fd.h"
#include "runtime/driver/driver.h"
#include "runtime/io/fd_handle.h"
#include "runtime/net/unix_address.h"

namespace polyio {

// The peer of a Unix socket as the kernel recorded it at connect (or at
// socketpair). `pid` is -1 where the system does not say (the BSDs).
struct UnixCredentials {
  pid_t pid = -1;
  uid_t uid = 0;
  gid_t gid = 0;
};

// A non-blocking, close-on-exec AF_UNIX socket of `type` (SOCK_STREAM or
// SOCK_DGRAM); on macOS also SO_NOSIGPIPE.
absl::StatusOr<UniqueFd> NewUnixSocket(int type);
// Two such sockets connected to each other (socketpair).
absl::Status NewUnixPair(int type, UniqueFd* a, UniqueFd* b);

// getsockname (peer false) or getpeername (peer true) of `fd`.
absl::StatusOr<UnixAddress> UnixSocketName(int fd, bool peer);

// SO_PEERCRED (Linux), getpeereid (BSDs, macOS).
absl::StatusOr<UnixCredentials> UnixPeerCredentials(int fd);

// The fd's handle, its names, its peer's credentials and Close. Closed
// (after Close, or moved from), each call is FailedPrecondition naming it:
// "local address: the stream is closed". Move-only; thread-compatible.
class UnixSocketBase {
 public:
  UnixSocketBase(UnixSocketBase&& other) noexcept = default;
  UnixSocketBase& operator=(UnixSocketBase&& other) noexcept;

  absl::StatusOr<UnixCredentials> PeerCredentials() const;
  absl::StatusOr<UnixAddress> LocalAddress() const;
  absl::StatusOr<UnixAddress> PeerAddress() const;

  // Ends pending operations (CancelledError) and closes the socket; futures
  // made earlier fail from now on. Idempotent.
  absl::Status Close();

  // The fd, or -1 once closed. Valid only until Close: do not keep it.
  int fd() const { return handle_ ? handle_->fd() : -1; }
  // The shared descriptor, for polyio's own helpers (Copy's splice,
  // io/splice.h); null once moved from.
  const RefPtr<FdHandle>& io_handle() const { return handle_; }
  bool is_open() const { return fd() >= 0; }

 protected:
  // `owner` names the type in FdHandle's messages, `noun` in statuses.
  UnixSocketBase(UniqueFd fd, Driver* driver, const char* owner,
                 const char* noun)
      : handle_(FdHandle::Make(std::move(fd), driver, owner)), noun_(noun) {}
  ~UnixSocketBase() { Close().IgnoreError(); }

  RefPtr<FdHandle> handle_;
  const char* noun_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_NET_UNIX_SOCKET_H_
