// Thin socket wrappers: each does one syscall (or two) and says in its
// status which call failed and on what. No policy lives here; the net types
// in runtime/net decide what to call. Thread-safe (they touch only their
// arguments).
#ifndef POLYIO_PLATFORM_SOCKET_H_
#define POLYIO_PLATFORM_SOCKET_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "platform/socket_address.h"
#include "platform/unique_fd.h"

namespace polyio {

// A non-blocking, close-on-exec stream socket of `family`. On macOS, where
// MSG_NOSIGNAL does not exist, it also sets SO_NOSIGPIPE.
absl::StatusOr<UniqueFd> NewStreamSocket(int family);

// socket + SO_REUSEADDR (+ SO_REUSEPORT) + bind + listen.
absl::StatusOr<UniqueFd> ListenTcp(const SocketAddress& addr, int backlog,
                                   bool reuse_port = false);

absl::Status SetNoDelay(int fd, bool on);
absl::StatusOr<SocketAddress> LocalAddress(int fd);
absl::StatusOr<SocketAddress> PeerAddress(int fd);

// Sets O_NONBLOCK and FD_CLOEXEC on an fd made elsewhere (accept without
// accept4, pipes from the user).
absl::Status MakeNonBlocking(int fd);

// Maps a backend result (bytes, or -errno) to a status naming the operation:
// "read fd 7: Connection reset by peer".
absl::Status ResultError(int32_t res, const char* op, int fd);

}  // namespace polyio

#endif  // POLYIO_PLATFORM_SOCKET_H_
