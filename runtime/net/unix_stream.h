// UnixStream: a connected Unix-domain stream socket, read and written with
// co_await as TcpStream is, and able to pass file descriptors.
//
//   absl::StatusOr<UnixStream> s = co_await UnixStream::Connect("app.sock");
//   absl::StatusOr<size_t> n = co_await s->Read(buf);   // 0 = end of stream
//   absl::Status st = co_await s->WriteAll(data);
//   co_await s->SendWithFds(data, {fd1, fd2});
//   absl::StatusOr<UnixMessage> m = co_await s->RecvWithFds(buf, 4);
//
// Read, Write and WriteAll are TcpStream's futures (tcp_stream.h), with
// their contract: errors name the call and the fd, end of stream is a read
// of 0 bytes, writing to a closed peer is an error and never SIGPIPE. So a
// UnixStream is an AsyncReader and an AsyncWriter, and every runtime/bufio
// helper takes it.
//
// Connecting: Connect(path) finds the socket file ("connect run/app.sock: No
// such file or directory", NotFound; "connect run/app.sock: Connection refused"
// when nobody listens there); a path that starts with '\0', or
// ConnectAbstract(name), names an abstract socket (Linux). A path longer
// than sun_path holds is InvalidArgument naming the call and the path
// (unix_address.h). Pair() makes two connected streams (socketpair).
//
// fd passing (fd_passing.h, unix_message.h): SendWithFds sends the fds with
// the first byte of `data` (so `data` must not be empty) and returns the
// bytes sent, maybe fewer than asked: send the rest with WriteAll. A
// RecvWithFds(buf, max_fds) returns the bytes and at most max_fds owned,
// close-on-exec fds; fds beyond that are closed and `fds_truncated` says
// so. A plain Read of bytes that came with fds closes those fds (the kernel
// does). PeerCredentials() is the peer's pid, uid and gid when it connected
// (SO_PEERCRED on Linux; getpeereid, without the pid, on the BSDs).
//
// Close. Close() (or destroying the stream) ends every operation still
// pending on it with CancelledError ("read: cancelled: the stream was
// closed"), and every future made from it and awaited afterwards fails with
// FailedPrecondition ("read: the stream is closed"). No future touches the
// fd number after Close (io/fd_handle.h).
//
// Cancellation (docs/cancellation.md), on every backend: Read and
// RecvWithFds are cancel-safe (a read the kernel completed while being
// cancelled keeps its bytes, and its fds, in the stream for the next read);
// Write, WriteAll and SendWithFds are not (bytes and fds may have gone);
// Connect leaves nothing behind.
//
// Threads and lifetime: TcpStream's. Any task on any worker; operations go
// to the home driver; one read (Read or RecvWithFds) and one write (Write,
// WriteAll or SendWithFds) may be pending at once; close it before its
// Runtime. Move-only; thread-compatible.
#ifndef POLYIO_RUNTIME_NET_UNIX_STREAM_H_
#define POLYIO_RUNTIME_NET_UNIX_STREAM_H_

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "platform/ref_ptr.h"
#include "platform/unique_fd.h"
#include "runtime/driver/driver.h"
#include "runtime/io/fd_handle.h"
#include "runtime/io/io_future.h"
#include "runtime/net/tcp_stream.h"
#include "runtime/net/unix_address.h"
#include "runtime/net/unix_message.h"
#include "runtime/net/unix_socket.h"
#include "runtime/task/poll.h"

namespace polyio {

class UnixStream;

// Future of Connect. Not cancel-safe in the sense that a cancelled connect
// gives no stream; nothing is left behind (the socket is closed).
class UnixConnectFuture {
 public:
  explicit UnixConnectFuture(absl::StatusOr<UnixAddress> addr)
      : addr_(std::move(addr)) {}
  UnixConnectFuture(UnixConnectFuture&&) = default;  // before the first poll
  ~UnixConnectFuture();
  polyio::Poll<absl::StatusOr<UnixStream>> Poll(Context& cx);

 private:
  absl::StatusOr<UnixAddress> addr_;
  UniqueFd fd_;
  IoFuture io_;
};

class UnixStream : public UnixSocketBase {
 public:
  // Takes a connected, non-blocking Unix stream socket. `driver` as
  // TcpStream's.
  explicit UnixStream(UniqueFd fd, Driver* driver = nullptr)
      : UnixSocketBase(std::move(fd), driver, "UnixStream", "stream") {}
  UnixStream(UnixStream&& other) noexcept = default;
  UnixStream& operator=(UnixStream&& other) noexcept = default;

  // `path`: a socket file, or an abstract name when it starts with '\0'.
  static UnixConnectFuture Connect(absl::string_view path) {
    return UnixConnectFuture(UnixAddress::ForCall("connect", path));
  }
  static UnixConnectFuture ConnectAbstract(absl::string_view name) {
    return UnixConnectFuture(UnixAddress::AbstractForCall("connect", name));
  }
  static UnixConnectFuture Connect(const UnixAddress& addr) {
    return UnixConnectFuture(addr);
  }
  // Two streams connected to each other.
  static absl::StatusOr<std::pair<UnixStream, UnixStream>> Pair();

  // As TcpStream's.
  ReadFuture Read(absl::Span<char> buf) { return ReadFuture(handle_, buf); }
  WriteFuture Write(absl::Span<const char> buf) {
    return WriteFuture(handle_, buf);
  }
  WriteAllFuture WriteAll(absl::Span<const char> buf) {
    return WriteAllFuture(handle_, buf);
  }

  // fd passing (above).
  UnixSendFuture SendWithFds(absl::Span<const char> data,
                             absl::Span<const int> fds) {
    return UnixSendFuture(handle_, data, fds, std::nullopt, kSendInfo);
  }
  UnixRecvFuture RecvWithFds(absl::Span<char> buf, size_t max_fds) {
    return UnixRecvFuture(handle_, buf, max_fds, kRecvInfo);
  }

  // PeerCredentials, LocalAddress, PeerAddress, Close, fd, is_open:
  // UnixSocketBase's (unix_socket.h).
  absl::Status ShutdownWrite();

 private:
  static constexpr UnixOpInfo kSendInfo{"sendmsg", "stream", true};
  static constexpr UnixOpInfo kRecvInfo{"recvmsg", "stream", true};
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_NET_UNIX_STREAM_H_
