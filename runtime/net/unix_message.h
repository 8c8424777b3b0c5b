// The messages of Unix sockets: sendmsg and recvmsg futures that carry
// bytes, file descriptors (SCM_RIGHTS, fd_passing.h) and, for datagrams,
// the sender's or the destination's UnixAddress. UnixStream's SendWithFds
// and RecvWithFds and every UnixDatagram send and receive are these.
//
// Receiving. A result says how many bytes were stored, which fds came
// (owned), and whether anything was cut: `truncated` for a datagram longer
// than the buffer (the rest is gone), `fds_truncated` when fds were closed
// because more came than the caller allowed or the kernel could not pass
// them all (MSG_CTRUNC). A receive that allows no fds (RecvFrom, Recv)
// closes any that arrive and says so.
//
// Cancellation: receives are cancel-safe. One that the kernel completed
// while it was being cancelled (io_uring) reports CancelledError, or, as a
// dropped future, nothing; its bytes (a stream) or its datagram go to the
// socket object, and its fds with them: the next receive returns them
// first. Fds kept that way travel with the next receive of this kind that
// takes the kept data, up to its max_fds (the rest are closed and
// `fds_truncated` says so); a plain Read of a stream returns the kept bytes
// and leaves the fds for the next RecvWithFds. Sends are not cancel-safe:
// one cancelled in flight may have gone.
//
// A send future holds its control buffer and the msghdr the kernel reads,
// a receive future the ones it fills in: neither may move once polled.
// Thread-compatible, as the socket's other futures.
#ifndef POLYIO_RUNTIME_NET_UNIX_MESSAGE_H_
#define POLYIO_RUNTIME_NET_UNIX_MESSAGE_H_

#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "platform/ref_ptr.h"
#include "platform/unique_fd.h"
#include "runtime/io/fd_handle.h"
#include "runtime/io/io_future.h"
#include "runtime/net/unix_address.h"
#include "runtime/task/poll.h"

namespace polyio {

// One received message.
struct UnixMessage {
  size_t bytes = 0;            // bytes stored in the buffer; 0 on a stream:
                               // end of stream
  std::vector<UniqueFd> fds;   // the fds that came, close-on-exec
  bool truncated = false;      // a datagram longer than the buffer
  bool fds_truncated = false;  // fds were closed (above)
  UnixAddress peer;            // a datagram's sender; unnamed on a stream
};

// What a future is working on, for its messages and its kept data.
struct UnixOpInfo {
  const char* op;    // "recvmsg", "recvfrom", "sendmsg" ...
  const char* noun;  // "stream" or "socket"
  bool byte_stream;  // a stream: partial transfers, kept bytes
};

class UnixRecvFuture {
 public:
  UnixRecvFuture(RefPtr<FdHandle> handle, absl::Span<char> buf, size_t max_fds,
                 UnixOpInfo info)
      : handle_(std::move(handle)), buf_(buf), max_fds_(max_fds), info_(info) {}
  UnixRecvFuture(UnixRecvFuture&&) = default;  // only before the first poll
  // A message that arrived unseen (the future was dropped) is kept.
  ~UnixRecvFuture();

  polyio::Poll<absl::StatusOr<UnixMessage>> Poll(Context& cx);

 private:
  void Release();
  void Keep(int32_t n);
  absl::StatusOr<UnixMessage> Received(int32_t n);
  polyio::Poll<absl::StatusOr<UnixMessage>> FromKept(Context& cx);

  RefPtr<FdHandle> handle_;
  absl::Span<char> buf_;
  size_t max_fds_;
  UnixOpInfo info_;
  IoFuture* io_ = nullptr;  // the claimed read slot
  std::vector<char> control_;
  msghdr msg_{};
  iovec iov_{};
  sockaddr_un from_{};
};

// The bytes sent. On a stream it may be fewer than asked; the fds went with
// the first of them.
class UnixSendFuture {
 public:
  // `to`: a datagram's destination, nullopt when connected. Too many fds,
  // or fds with no data on a stream, is the future's result
  // (InvalidArgument).
  UnixSendFuture(RefPtr<FdHandle> handle, absl::Span<const char> data,
                 absl::Span<const int> fds, std::optional<UnixAddress> to,
                 UnixOpInfo info);
  UnixSendFuture(UnixSendFuture&&) = default;  // only before the first poll
  ~UnixSendFuture();

  // Makes the future fail with `status` at its first poll (an argument its
  // maker found invalid).
  void Fail(absl::Status status) { invalid_ = std::move(status); }

  polyio::Poll<absl::StatusOr<size_t>> Poll(Context& cx);

 private:
  RefPtr<FdHandle> handle_;
  absl::Span<const char> data_;
  std::optional<UnixAddress> to_;
  UnixOpInfo info_;
  absl::Status invalid_;
  IoFuture* io_ = nullptr;  // the claimed write slot
  std::vector<char> control_;
  msghdr msg_{};
  iovec iov_{};
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_NET_UNIX_MESSAGE_H_
