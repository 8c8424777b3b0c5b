// The statuses the Unix socket types give for a closed socket, a busy slot
// and a failed operation, worded as TcpStream's and UdpSocket's are:
//   "read: the stream is closed"
//   "recv: another receive is pending on this socket (one receive and one
//    send at a time)"
//   "read: cancelled: the stream was closed"
//   "sendmsg fd 7: Broken pipe"
// `noun` is what the caller calls the object ("stream", "socket").
// Thread-safe (pure functions).
#ifndef POLYIO_RUNTIME_NET_SOCKET_ERRORS_H_
#define POLYIO_RUNTIME_NET_SOCKET_ERRORS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "runtime/io/fd_handle.h"

namespace polyio {

// FailedPrecondition "<op>: the <noun> is closed".
absl::Status ClosedError(absl::string_view op, absl::string_view noun);

// FailedPrecondition: a second operation of one direction while the first
// is pending. `direction`: "receive" or "send".
absl::Status BusyError(absl::string_view op, absl::string_view direction,
                       absl::string_view noun);

// An operation that failed with `res` (-errno). A closed handle says so
// whatever errno the backend saw (-EBADF for a number cleared before
// submission, -ECANCELED for an operation ended by Close); otherwise the
// errno's status with `what` ("recvmsg fd 7") before its text.
absl::Status OperationError(const FdHandle& handle, int32_t res,
                            absl::string_view op, absl::string_view what,
                            absl::string_view noun);

}  // namespace polyio

#endif  // POLYIO_RUNTIME_NET_SOCKET_ERRORS_H_
