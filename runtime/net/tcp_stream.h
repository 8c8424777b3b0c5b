// TcpStream: a connected TCP socket, read and written with co_await.
//
//   absl::StatusOr<TcpStream> s = co_await TcpStream::Connect(addr);
//   absl::StatusOr<size_t> n = co_await s->Read(buf);   // 0 = end of stream
//   absl::Status st = co_await s->WriteAll(data);
//
// Errors name the call and its argument ("connect 127.0.0.1:9: Connection
// refused", "read fd 7: Connection reset by peer"). End of stream is a read of
// 0 bytes, not an error. Writing to a reset peer is an error, never SIGPIPE.
//
// Close. Close() (or destroying the stream) ends every operation still
// pending on it with CancelledError ("... the stream was closed"), and every
// future made from the stream and awaited afterwards fails with
// FailedPrecondition ("read: the stream is closed"). A future never touches
// the fd number after Close, even if the kernel has given that number to
// another connection meanwhile (io/fd_handle.h).
//
// Cancellation (docs/cancellation.md) — what a cancelled future does to the
// data, on every backend:
// - Read is cancel-safe: cancelling it (JoinHandle::Abort, a Timeout that
//   expires, losing a WhenAny/Select, dropping the future) loses no byte.
//   A read that the kernel completed anyway while it was being cancelled
//   reports CancelledError and keeps its bytes in the stream: the next Read
//   returns them first. (On epoll, poll and kqueue the bytes simply stay in
//   the socket; io_uring takes them out, and the stream keeps them.)
// - Write is not: a write cancelled while in flight may have sent some or
//   all of its bytes (io_uring sends them when the kernel reaches the
//   operation). Awaited to its end, it reports the bytes written if any
//   were, else CancelledError; a dropped Write future cannot say.
// - WriteAll is not: cancelled, it fails with CancelledError saying how many
//   bytes were written first ("... (wrote 4096 of 65536 bytes)").
// - Connect is not, in the sense that a cancelled connect gives no stream;
//   nothing is left behind (the socket is closed).
//
// Threads and lifetime: a stream and its futures may be used from any task
// on any worker; operations go to the stream's home driver
// (io/home_driver.h). A stream must be closed or destroyed before its
// Runtime: afterwards the program stops with "polyio: a TcpStream was closed
// after the Runtime ...". One read and one write may be pending at once
// (from two tasks). Move-only. Thread-compatible: the stream object itself
// is used by one task at a time.
#ifndef POLYIO_RUNTIME_NET_TCP_STREAM_H_
#define POLYIO_RUNTIME_NET_TCP_STREAM_H_

#include <cstddef>
#include <cstdint>
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
#include "runtime/task/task.h"

namespace polyio {

class TcpStream;

// Future of Read: the bytes read, 0 at end of stream. Cancel-safe (above).
// Inline: it is the hot path of every stream. A few words: the Operation it
// runs is the stream's read slot (io/fd_handle.h), claimed at the first
// poll and given back with the result.
class ReadFuture {
 public:
  ReadFuture(RefPtr<FdHandle> handle, absl::Span<char> buf)
      : handle_(std::move(handle)), buf_(buf) {}
  ReadFuture(ReadFuture&&) = default;  // only before the first poll
  // A read that completed unseen (the future was dropped) keeps its bytes
  // in the stream.
  ~ReadFuture() {
    if (io_ != nullptr) KeepUnseen(io_->Abandon());
  }

  polyio::Poll<absl::StatusOr<size_t>> Poll(Context& cx) {
    if (io_ == nullptr) {
      if (!handle_ || handle_->closed()) return Closed();
      // An empty read is done before it starts, as tokio's is: asking the
      // kernel would wait for data that the caller has no room for.
      if (buf_.empty()) return absl::StatusOr<size_t>(0);
      if (handle_->has_kept_bytes()) return FromKept(cx);
      io_ = handle_->ClaimSlot(FdHandle::Direction::kRead);
      if (io_ == nullptr) return Busy();
      Operation& op = io_->op();
      op.kind = OpKind::kRecv;
      op.byte_stream = true;
      op.buf = buf_.data();
      op.len = buf_.size();
    }
    polyio::Poll<int32_t> res = io_->PollResult(cx);
    if (res.pending()) return kPending;
    Release();
    const int32_t n = res.value();
    if (n > 0 && cx.cancelled()) return KeepCancelled(n);
    if (n < 0) return Error(n);
    return absl::StatusOr<size_t>(static_cast<size_t>(n));
  }

 private:
  void Release() {
    io_ = nullptr;
    handle_->ReleaseSlot(FdHandle::Direction::kRead);
  }
  absl::StatusOr<size_t> Closed() const;
  absl::StatusOr<size_t> Busy() const;
  absl::StatusOr<size_t> Error(int32_t res) const;
  // The bytes a cancelled read received go to the stream.
  absl::StatusOr<size_t> KeepCancelled(int32_t n);
  void KeepUnseen(int32_t res);
  polyio::Poll<absl::StatusOr<size_t>> FromKept(Context& cx);

  RefPtr<FdHandle> handle_;
  absl::Span<char> buf_;
  IoFuture* io_ = nullptr;  // the claimed read slot, from submission to result
};

// Future of Write: the bytes written (possibly fewer than asked).
class WriteFuture {
 public:
  WriteFuture(RefPtr<FdHandle> handle, absl::Span<const char> buf)
      : handle_(std::move(handle)), buf_(buf) {}
  WriteFuture(WriteFuture&&) = default;  // only before the first poll
  ~WriteFuture();

  polyio::Poll<absl::StatusOr<size_t>> Poll(Context& cx) {
    if (io_ == nullptr) {
      if (!handle_ || handle_->closed()) return Closed();
      if (buf_.empty()) return absl::StatusOr<size_t>(0);
      io_ = handle_->ClaimSlot(FdHandle::Direction::kWrite);
      if (io_ == nullptr) return Busy();
      Operation& op = io_->op();
      op.kind = OpKind::kSend;
      op.byte_stream = true;
      op.buf = const_cast<char*>(buf_.data());
      op.len = buf_.size();
    }
    polyio::Poll<int32_t> res = io_->PollResult(cx);
    if (res.pending()) return kPending;
    io_ = nullptr;
    handle_->ReleaseSlot(FdHandle::Direction::kWrite);
    if (res.value() < 0) return Error(res.value());
    return absl::StatusOr<size_t>(static_cast<size_t>(res.value()));
  }

 private:
  absl::StatusOr<size_t> Closed() const;
  absl::StatusOr<size_t> Busy() const;
  absl::StatusOr<size_t> Error(int32_t res) const;

  RefPtr<FdHandle> handle_;
  absl::Span<const char> buf_;
  IoFuture* io_ = nullptr;  // the claimed write slot
};

// Future of WriteAll: writes until the whole buffer is gone, or a write
// fails. A plain future rather than a coroutine: writing a reply is the hot
// path of every server, and most writes finish in one send() without
// suspending, so it is worth not allocating a frame for each.
class WriteAllFuture {
 public:
  WriteAllFuture(RefPtr<FdHandle> handle, absl::Span<const char> buf)
      : handle_(std::move(handle)), buf_(buf) {}
  WriteAllFuture(WriteAllFuture&&) = default;  // only before the first poll
  ~WriteAllFuture();
  polyio::Poll<absl::Status> Poll(Context& cx);

 private:
  void Release();

  RefPtr<FdHandle> handle_;
  absl::Span<const char> buf_;
  size_t written_ = 0;
  IoFuture* io_ = nullptr;  // the claimed write slot
};

// Future of a connected stream.
class ConnectFuture {
 public:
  explicit ConnectFuture(const SocketAddress& addr) : addr_(addr) {}
  ConnectFuture(ConnectFuture&&) = default;  // only before the first poll
  // Dropped mid-connect: the socket is forgotten by the backend that may
  // have registered it, then closed.
  ~ConnectFuture();
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
      : handle_(FdHandle::Make(std::move(fd), driver, "TcpStream")) {}
  TcpStream(TcpStream&& other) noexcept = default;
  TcpStream& operator=(TcpStream&& other) noexcept;
  ~TcpStream() { Close().IgnoreError(); }

  static ConnectFuture Connect(const SocketAddress& addr) {
    return ConnectFuture(addr);
  }

  // Reads at most buf.size() bytes; 0 means the peer closed its side.
  ReadFuture Read(absl::Span<char> buf) { return ReadFuture(handle_, buf); }
  // Writes at most buf.size() bytes; returns how many.
  WriteFuture Write(absl::Span<const char> buf) {
    return WriteFuture(handle_, buf);
  }
  // Writes all of `buf`, or fails saying how many bytes were written first.
  WriteAllFuture WriteAll(absl::Span<const char> buf) {
    return WriteAllFuture(handle_, buf);
  }

  absl::Status ShutdownWrite();
  absl::Status SetNoDelay(bool on);
  absl::StatusOr<SocketAddress> LocalAddress() const;
  absl::StatusOr<SocketAddress> PeerAddress() const;

  // Ends pending operations (CancelledError) and closes the socket; futures
  // made earlier fail from now on. Idempotent.
  absl::Status Close();

  // The fd, or -1 once closed. Valid only until Close: do not keep it.
  int fd() const { return handle_ ? handle_->fd() : -1; }
  // The shared descriptor, for polyio's own helpers (Copy's splice,
  // io/splice.h); null once moved from.
  const RefPtr<FdHandle>& io_handle() const { return handle_; }
  bool is_open() const { return fd() >= 0; }

 private:
  RefPtr<FdHandle> handle_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_NET_TCP_STREAM_H_
