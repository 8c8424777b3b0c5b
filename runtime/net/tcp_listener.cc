#include "runtime/net/tcp_listener.h"

#include <cerrno>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "platform/socket.h"

namespace polyio {
namespace {

constexpr Duration kFirstBackoff = std::chrono::milliseconds(10);
constexpr Duration kMaxBackoff = std::chrono::seconds(1);

bool OutOfResources(int err) {
  return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

}  // namespace

AcceptFuture::AcceptFuture(int listen_fd, Driver* driver)
    : listen_fd_(listen_fd) {
  io_.set_driver(driver);
  PrepareAccept();
}

AcceptFuture::AcceptFuture(AcceptFuture&& other) noexcept
    : listen_fd_(other.listen_fd_) {
  io_.set_driver(other.io_.driver());
  PrepareAccept();
}

void AcceptFuture::PrepareAccept() {
  Operation& op = io_.op();
  op.kind = OpKind::kAccept;
  op.fd = listen_fd_;
  op.addr = reinterpret_cast<sockaddr*>(&peer_);
  peer_len_ = sizeof(peer_);
  op.addrlen_out = &peer_len_;
}

Poll<absl::StatusOr<TcpStream>> AcceptFuture::Poll(Context& cx) {
  using Result = absl::StatusOr<TcpStream>;
  if (listen_fd_ < 0) {
    return Result(
        absl::FailedPreconditionError("accept: the listener is closed"));
  }
  for (;;) {
    if (backoff_sleep_) {
      polyio::Poll<absl::Status> slept = backoff_sleep_->Poll(cx);
      if (slept.pending()) return kPending;
      backoff_sleep_.reset();
      if (!slept.value().ok()) return Result(slept.value());
    }
    polyio::Poll<int32_t> res = io_.PollResult(cx);
    if (res.pending()) return kPending;
    int32_t fd = res.value();
    if (fd >= 0) {
      backoff_ = Duration::zero();
      // Its home is bound by its first operation (io/home_driver.h).
      return Result(TcpStream(UniqueFd(fd)));
    }
    io_.Reset();
    PrepareAccept();
    if (fd == -ECONNABORTED || fd == -EPROTO) continue;
    if (OutOfResources(-fd)) {
      backoff_ = backoff_ == Duration::zero()
                     ? kFirstBackoff
                     : std::min(backoff_ * 2, kMaxBackoff);
      backoff_sleep_.emplace(Now() + backoff_);
      continue;
    }
    return Result(ResultError(fd, "accept", listen_fd_));
  }
}

absl::StatusOr<TcpListener> TcpListener::Bind(const SocketAddress& addr,
                                              const ListenOptions& options) {
  absl::StatusOr<UniqueFd> fd =
      ListenTcp(addr, options.backlog, options.reuse_port);
  if (!fd.ok()) return fd.status();
  return TcpListener(std::move(*fd));
}

TcpListener& TcpListener::operator=(TcpListener&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::move(other.fd_);
    home_ = std::move(other.home_);
  }
  return *this;
}

absl::StatusOr<SocketAddress> TcpListener::LocalAddress() const {
  if (!fd_) {
    return absl::FailedPreconditionError(
        "local address: the listener is closed");
  }
  return polyio::LocalAddress(fd_.get());
}

void TcpListener::Close() {
  if (!fd_) return;
  home_.Forget(fd_.get());
  fd_.Reset();
}

}  // namespace polyio
