#include "runtime/net/tcp_listener.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "platform/socket.h"

namespace polyio {

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
    handle_ = std::move(other.handle_);
  }
  return *this;
}

absl::StatusOr<SocketAddress> TcpListener::LocalAddress() const {
  if (fd() < 0) {
    return absl::FailedPreconditionError(
        "local address: the listener is closed");
  }
  return polyio::LocalAddress(fd());
}

void TcpListener::Close() {
  if (handle_) handle_->Close().IgnoreError();
}

}  // namespace polyio
