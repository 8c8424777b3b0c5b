#include "runtime/net/unix_datagram.h"

#include <sys/socket.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "runtime/net/socket_errors.h"

namespace polyio {

absl::StatusOr<UnixDatagram> UnixDatagram::Bind(absl::string_view path) {
  absl::StatusOr<UnixAddress> addr = UnixAddress::ForCall("bind", path);
  if (!addr.ok()) return addr.status();
  return Bind(*addr);
}

absl::StatusOr<UnixDatagram> UnixDatagram::BindAbstract(
    absl::string_view name) {
  absl::StatusOr<UnixAddress> addr = UnixAddress::AbstractForCall("bind", name);
  if (!addr.ok()) return addr.status();
  return Bind(*addr);
}

absl::StatusOr<UnixDatagram> UnixDatagram::Bind(const UnixAddress& addr) {
  absl::StatusOr<UniqueFd> fd = NewUnixSocket(SOCK_DGRAM);
  if (!fd.ok()) return fd.status();
  if (::bind(fd->get(), addr.data(), addr.size()) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("bind ", addr.ToString()));
  }
  return UnixDatagram(std::move(*fd));
}

absl::StatusOr<UnixDatagram> UnixDatagram::Unbound() {
  absl::StatusOr<UniqueFd> fd = NewUnixSocket(SOCK_DGRAM);
  if (!fd.ok()) return fd.status();
  return UnixDatagram(std::move(*fd));
}

absl::StatusOr<std::pair<UnixDatagram, UnixDatagram>> UnixDatagram::Pair() {
  UniqueFd a, b;
  if (absl::Status s = NewUnixPair(SOCK_DGRAM, &a, &b); !s.ok()) return s;
  return std::pair<UnixDatagram, UnixDatagram>(UnixDatagram(std::move(a)),
                                               UnixDatagram(std::move(b)));
}

absl::Status UnixDatagram::Connect(absl::string_view path) {
  absl::StatusOr<UnixAddress> addr = UnixAddress::ForCall("connect", path);
  if (!addr.ok()) return addr.status();
  return Connect(*addr);
}

absl::Status UnixDatagram::Connect(const UnixAddress& addr) {
  const std::string what = absl::StrCat("connect ", addr.ToString());
  if (!is_open()) return ClosedError(what, "socket");
  if (::connect(fd(), addr.data(), addr.size()) < 0) {
    return absl::ErrnoToStatus(errno, what);
  }
  return absl::OkStatus();
}

UnixSendFuture UnixDatagram::SendTo(absl::Span<const char> data,
                                    absl::string_view path) {
  absl::StatusOr<UnixAddress> to = UnixAddress::ForCall("sendto", path);
  if (!to.ok()) {
    // The future fails with the status at its first poll, touching nothing.
    UnixSendFuture f(handle_, data, {}, std::nullopt,
                     {"sendto", "socket", false});
    f.Fail(to.status());
    return f;
  }
  return SendTo(data, *to);
}

}  // namespace polyio
