// TcpStream: a connected TCP socket, read and written with co_await.
//
//   absl::StatusOr<TcpStream> s = co_await TcpStream::Connect(addr);
//   absl::StatusOr<size_t> n = co_await s->Read(buf);   // 0 = end of stream
//   absl::Status st = co_await s->WriteAll(data);
//
// Errors name the call and its argument ("connect 127.0.0.1:9: Connection
// refused", "read fd 7: Connection reset by peer"). End of stream is a read of
// 0 bytes, not an error. Writing to a reset peer is an error, never SIGPIPE.
// A stream used after Close() reports FailedPrecondition.
//
// A stream belongs to the driver it was made on: it is created, used and
// destroyed on that driver's thread, and must not outlive its runtime.
// Closing (or destroying) the stream completes every operation still pending
// on it with an error (CancelledError).
//
// One read and one write may be pending at once (from two tasks). Move-only.
// Thread-compatible.
#ifndef POLYIO_RUNTIME_NET_TCP_STREAM_H_
#define POLYIO_RUNTIME_NET_TCP_STREAM_H_

#include <cstddef>
#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "platform/socket_address.h"
#include "platform/unique_fd.h"
#include "runtime/driver.h"
#include "runtime/io/home_driver.h"
#include "runtime/io/io_future.h"
#include "runtime/poll.h"
#include "runtime/task.h"

namespace polyio {

class TcpStream;

// Future of a byte count: Read and Write. Defined here, inline: it is the
// hot path of every stream, and a call less per operation shows.
class TransferFuture {
 public:
  TransferFuture(OpKind kind, int fd, void* buf, size_t len, Driver* driver) {
    io_.set_driver(driver);
    Operation& op = io_.op();
    op.kind = kind;
    op.fd = fd;
    op.buf = buf;
    op.len = len;
  }

  polyio::Poll<absl::StatusOr<size_t>> Poll(Context& cx) {
    const Operation& op = io_.op();
    if (op.fd < 0) return Error(op, 0);
    // An empty transfer is done before it starts, as tokio's is: asking the
    // kernel would wait for data that the caller has no room for.
    if (op.len == 0) return absl::StatusOr<size_t>(0);
    polyio::Poll<int32_t> res = io_.PollResult(cx);
    if (res.pending()) return kPending;
    if (res.value() < 0) return Error(op, res.value());
    return absl::StatusOr<size_t>(static_cast<size_t>(res.value()));
  }

 private:
  // The stream was closed (res 0), or the operation failed with `res`.
  static absl::StatusOr<size_t> Error(const Operation& op, int32_t res);

  IoFuture io_;
};

// Future of WriteAll: writes until the whole buffer is gone, or a write
// fails. A plain future rather than a coroutine: writing a reply is the hot
// path of every server, and most writes finish in one send() without
// suspending, so it is worth not allocating a frame for each.
class WriteAllFuture {
 public:
  WriteAllFuture(int fd, absl::Span<const char> buf, Driver* driver)
      : buf_(buf) {
    io_.set_driver(driver);
    Operation& op = io_.op();
    op.kind = OpKind::kSend;
    op.fd = fd;
    op.buf = const_cast<char*>(buf.data());
    op.len = buf.size();
  }
  polyio::Poll<absl::Status> Poll(Context& cx);

 private:
  absl::Span<const char> buf_;
  size_t written_ = 0;
  IoFuture io_;
};

// Future of a connected stream.
class ConnectFuture {
 public:
  explicit ConnectFuture(const SocketAddress& addr) : addr_(addr) {}
  polyio::Poll<absl::StatusOr<TcpStream>> Poll(Context& cx);

 private:
  SocketAddress addr_;
  UniqueFd fd_;
  IoFuture io_;
};

class TcpStream {
 public:
  // Takes a connected, non-blocking socket. `driver`: the one whose backend
  // already knows the fd (io/home_driver.h); null: bound at the first
  // operation.
  explicit TcpStream(UniqueFd fd, Driver* driver = nullptr)
      : fd_(std::move(fd)), home_(driver) {}
  TcpStream(TcpStream&& other) noexcept
      : fd_(std::move(other.fd_)), home_(std::move(other.home_)) {}
  TcpStream& operator=(TcpStream&& other) noexcept;
  ~TcpStream() { Close().IgnoreError(); }

  static ConnectFuture Connect(const SocketAddress& addr) {
    return ConnectFuture(addr);
  }

  // Reads at most buf.size() bytes; 0 means the peer closed its side.
  TransferFuture Read(absl::Span<char> buf) {
    return TransferFuture(OpKind::kRecv, fd_.get(), buf.data(), buf.size(),
                          home_.Get());
  }
  // Writes at most buf.size() bytes; returns how many.
  TransferFuture Write(absl::Span<const char> buf) {
    return TransferFuture(OpKind::kSend, fd_.get(),
                          const_cast<char*>(buf.data()), buf.size(),
                          home_.Get());
  }
  // Writes all of `buf`, or fails saying how many bytes were written first.
  WriteAllFuture WriteAll(absl::Span<const char> buf) {
    return WriteAllFuture(fd_.get(), buf, home_.Get());
  }

  absl::Status ShutdownWrite();
  absl::Status SetNoDelay(bool on);
  absl::StatusOr<SocketAddress> LocalAddress() const;
  absl::StatusOr<SocketAddress> PeerAddress() const;

  // Completes pending operations with CancelledError and closes the socket.
  // Idempotent.
  absl::Status Close();

  int fd() const { return fd_.get(); }
  bool is_open() const { return fd_.valid(); }

 private:
  UniqueFd fd_;
  HomeDriver home_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_NET_TCP_STREAM_H_
