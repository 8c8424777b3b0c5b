#include "platform/socket_address.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace polyio {
namespace {

absl::Status Invalid(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid socket address \"", text, "\": ", why));
}

}  // namespace

SocketAddress::SocketAddress() : len_(sizeof(sockaddr_in)) {
  std::memset(&storage_, 0, sizeof(storage_));
  storage_.ss_family = AF_INET;
}

absl::StatusOr<SocketAddress> SocketAddress::FromIpPort(absl::string_view ip,
                                                        uint16_t port) {
  // inet_pton reads a C string: text after a NUL would be ignored, not
  // rejected ("[::1\0junk]:80" parsed as [::1]:80; found by fuzzing).
  if (ip.find('\0') != absl::string_view::npos) {
    return Invalid(ip, "contains a NUL byte");
  }
  SocketAddress out;
  std::string ip_text(ip);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage_);
  if (inet_pton(AF_INET, ip_text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    out.len_ = sizeof(sockaddr_in);
    return out;
  }
  std::memset(&out.storage_, 0, sizeof(out.storage_));
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage_);
  if (inet_pton(AF_INET6, ip_text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    out.len_ = sizeof(sockaddr_in6);
    return out;
  }
  return Invalid(ip, "not a numeric IPv4 or IPv6 address");
}

absl::StatusOr<SocketAddress> SocketAddress::Parse(absl::string_view text) {
  absl::string_view host;
  absl::string_view port_text;
  bool bracketed = !text.empty() && text.front() == '[';
  if (bracketed) {
    size_t close = text.find(']');
    if (close == absl::string_view::npos || close + 1 >= text.size() ||
        text[close + 1] != ':') {
      return Invalid(text, "expected [IPv6]:port");
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos) {
      return Invalid(text, "expected IPv4:port or [IPv6]:port");
    }
    host = text.substr(0, colon);
    if (host.find(':') != absl::string_view::npos) {
      return Invalid(text, "an IPv6 address needs brackets: [IPv6]:port");
    }
    port_text = text.substr(colon + 1);
  }
  // Digits only: SimpleAtoi alone would also take "+80", " 80" and "80 ".
  uint32_t port = 0;
  bool digits = !port_text.empty() && port_text.size() <= 5;
  for (char c : port_text) digits = digits && c >= '0' && c <= '9';
  if (!digits || !absl::SimpleAtoi(port_text, &port) || port > 65535) {
    return Invalid(text, "the port must be a number from 0 to 65535");
  }
  absl::StatusOr<SocketAddress> out =
      FromIpPort(host, static_cast<uint16_t>(port));
  if (!out.ok()) return Invalid(text, "not a numeric IPv4 or IPv6 address");
  if (bracketed != (out->family() == AF_INET6)) {
    return Invalid(text, bracketed ? "only an IPv6 address goes in brackets"
                                   : "an IPv6 address needs brackets");
  }
  return out;
}

absl::StatusOr<SocketAddress> SocketAddress::FromSockaddr(const sockaddr* addr,
                                                          socklen_t len) {
  if (addr == nullptr) {
    return absl::InvalidArgumentError("socket address: null sockaddr");
  }
  socklen_t want = addr->sa_family == AF_INET    ? sizeof(sockaddr_in)
                   : addr->sa_family == AF_INET6 ? sizeof(sockaddr_in6)
                                                 : 0;
  if (want == 0 || len < want) {
    return absl::InvalidArgumentError(
        absl::StrCat("socket address: unsupported family ", addr->sa_family,
                     " or length ", len));
  }
  SocketAddress out;
  std::memset(&out.storage_, 0, sizeof(out.storage_));
  std::memcpy(&out.storage_, addr, want);
  out.len_ = want;
  return out;
}

SocketAddress SocketAddress::Loopback4(uint16_t port) {
  return *FromIpPort("127.0.0.1", port);
}

SocketAddress SocketAddress::Loopback6(uint16_t port) {
  return *FromIpPort("::1", port);
}

uint16_t SocketAddress::port() const {
  if (family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
}

std::string SocketAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET6) {
    inet_ntop(AF_INET6,
              &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf,
              sizeof(buf));
    return absl::StrCat("[", buf, "]:", port());
  }
  inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr,
            buf, sizeof(buf));
  return absl::StrCat(buf, ":", port());
}

}  // namespace polyio
