// SocketAddress: an IPv4 or IPv6 address with a port, as the kernel wants it.
//
// Parse accepts "1.2.3.4:80" and "[::1]:80"; ToString gives the same forms
// back. An invalid text gets InvalidArgument naming the text; nothing is
// resolved by name here (DNS belongs to the blocking pool). Value type,
// thread-compatible.
#ifndef POLYIO_PLATFORM_SOCKET_ADDRESS_H_
#define POLYIO_PLATFORM_SOCKET_ADDRESS_H_

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace polyio {

class SocketAddress {
 public:
  // The unspecified IPv4 address 0.0.0.0:0.
  SocketAddress();

  static absl::StatusOr<SocketAddress> Parse(absl::string_view text);
  // `ip` is a numeric IPv4 or IPv6 address without brackets.
  static absl::StatusOr<SocketAddress> FromIpPort(absl::string_view ip,
                                                  uint16_t port);
  static absl::StatusOr<SocketAddress> FromSockaddr(const sockaddr* addr,
                                                    socklen_t len);
  static SocketAddress Loopback4(uint16_t port);
  static SocketAddress Loopback6(uint16_t port);

  int family() const { return storage_.ss_family; }
  uint16_t port() const;
  std::string ToString() const;

  const sockaddr* data() const {
    return reinterpret_cast<const sockaddr*>(&storage_);
  }
  socklen_t size() const { return len_; }

  friend bool operator==(const SocketAddress& a, const SocketAddress& b) {
    return a.ToString() == b.ToString();
  }

 private:
  sockaddr_storage storage_;
  socklen_t len_;
};

}  // namespace polyio

#endif  // POLYIO_PLATFORM_SOCKET_ADDRESS_H_
