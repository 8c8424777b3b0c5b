// Split: a TcpStream's owned read and write halves (tokio's into_split),
// for a program where one task reads and another writes.
//
//   auto [reader, writer] = Split(std::move(stream));
//   Spawn(Pump(std::move(reader)));            // reads in one task
//   co_await writer.WriteAll(reply);           // writes in another
//
// Each half owns the stream jointly: it may move to any task or thread, and
// no task holds a raw pointer into another's. The halves may be used at
// the same time from two threads — the stream allows one pending read and
// one pending write at once (tcp_stream.h) and each half can only do one
// of them.
//
// Dropping: when both halves are gone, the stream is closed (its pending
// operations end with CancelledError, as with TcpStream::Close). Dropping
// the write half alone shuts the write direction down (shutdown(SHUT_WR)),
// as tokio's does, so the peer sees end of stream while this side can still
// read. Reunite gives back the whole TcpStream from two halves of it.
//
// Futures and their semantics (cancel-safety, errors, Close) are
// TcpStream's own. Move-only. Each half is thread-compatible: one task
// uses it at a time.
#ifndef POLYIO_RUNTIME_NET_TCP_SPLIT_H_
#define POLYIO_RUNTIME_NET_TCP_SPLIT_H_

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "platform/socket_address.h"
#include "runtime/net/tcp_stream.h"

namespace polyio {

class TcpWriteHalf;

class TcpReadHalf {
 public:
  TcpReadHalf(TcpReadHalf&&) = default;
  TcpReadHalf& operator=(TcpReadHalf&&) = default;

  ReadFuture Read(absl::Span<char> buf) { return stream_->Read(buf); }
  absl::StatusOr<SocketAddress> LocalAddress() const {
    return stream_->LocalAddress();
  }
  absl::StatusOr<SocketAddress> PeerAddress() const {
    return stream_->PeerAddress();
  }

 private:
  friend std::pair<TcpReadHalf, TcpWriteHalf> Split(TcpStream stream);
  friend absl::StatusOr<TcpStream> Reunite(TcpReadHalf read,
                                           TcpWriteHalf write);
  explicit TcpReadHalf(std::shared_ptr<TcpStream> s) : stream_(std::move(s)) {}

  std::shared_ptr<TcpStream> stream_;
};

class TcpWriteHalf {
 public:
  TcpWriteHalf(TcpWriteHalf&&) = default;
  TcpWriteHalf& operator=(TcpWriteHalf&& other) noexcept {
    if (this != &other) {
      ShutdownIfReaderAlive();
      stream_ = std::move(other.stream_);
    }
    return *this;
  }
  ~TcpWriteHalf() { ShutdownIfReaderAlive(); }

  WriteFuture Write(absl::Span<const char> buf) { return stream_->Write(buf); }
  WriteAllFuture WriteAll(absl::Span<const char> buf) {
    return stream_->WriteAll(buf);
  }
  absl::Status ShutdownWrite() { return stream_->ShutdownWrite(); }
  absl::Status SetNoDelay(bool on) { return stream_->SetNoDelay(on); }

 private:
  friend std::pair<TcpReadHalf, TcpWriteHalf> Split(TcpStream stream);
  friend absl::StatusOr<TcpStream> Reunite(TcpReadHalf read,
                                           TcpWriteHalf write);
  explicit TcpWriteHalf(std::shared_ptr<TcpStream> s) : stream_(std::move(s)) {}

  // Shuts the write side down when the read half is still alive (when it
  // is not, the stream's destructor closes it anyway).
  void ShutdownIfReaderAlive() {
    if (stream_ != nullptr && stream_.use_count() > 1 && stream_->is_open()) {
      stream_->ShutdownWrite().IgnoreError();
    }
  }

  std::shared_ptr<TcpStream> stream_;
};

inline std::pair<TcpReadHalf, TcpWriteHalf> Split(TcpStream stream) {
  auto shared = std::make_shared<TcpStream>(std::move(stream));
  return {TcpReadHalf(shared), TcpWriteHalf(shared)};
}

// The stream the two halves came from; InvalidArgument (and both halves
// dropped) when they came from different streams.
inline absl::StatusOr<TcpStream> Reunite(TcpReadHalf read, TcpWriteHalf write) {
  if (read.stream_ != write.stream_) {
    return absl::InvalidArgumentError(
        "reunite: the halves are of two different streams");
  }
  TcpStream whole = std::move(*read.stream_);
  // Neither half may shut the (moved-from) stream down now.
  write.stream_.reset();
  return whole;
}

}  // namespace polyio

#endif  // POLYIO_RUNTIME_NET_TCP_SPLIT_H_
