// Fuzz target: SocketAddress::Parse, ToString and FromSockaddr.
//
// The contract (platform/socket_address.h), checked on every input:
// - no input crashes Parse or FromSockaddr;
// - round trip: for every address that Parse or FromSockaddr gives,
//   Parse(ToString(a)) is OK and names the same family, address and port;
// - strictness: Parse is OK exactly when the text is "IPv4:port" with a
//   dotted quad, or "[IPv6]:port" where inet_pton(AF_INET6) takes the part
//   in brackets, and the port is 1-5 ASCII digits worth at most 65535. So
//   signs, spaces, hex or empty ports, brackets around IPv4 and IPv6
//   without brackets are all refused.
// The IPv4 grammar is written out here (glibc's: four decimal parts of at
// most 255, no leading zeros); IPv6's is left to inet_pton, which is what
// the kernel-facing side must agree with anyway.
//
// Input: the first byte picks the mode; the rest is the text to parse, or
// the bytes of a sockaddr_in / sockaddr_in6.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"
#include "platform/socket_address.h"
#include "tests/fuzz/byte_reader.h"
#include "tests/fuzz/check.h"

namespace polyio::fuzz {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// glibc's inet_pton(AF_INET): exactly a.b.c.d, each 0-255 in decimal, no
// leading zero (so "01.2.3.4" is refused), nothing else.
bool IsDottedQuad(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (true) {
    size_t start = i;
    int value = 0;
    while (i < s.size() && IsDigit(s[i]) && i - start < 4) {
      value = value * 10 + (s[i] - '0');
      ++i;
    }
    size_t len = i - start;
    if (len == 0 || len > 3 || value > 255 || (len > 1 && s[start] == '0')) {
      return false;
    }
    ++parts;
    if (i == s.size()) return parts == 4;
    if (s[i] != '.' || parts == 4) return false;
    ++i;
  }
}

bool IsIpv6(std::string_view s) {
  std::string text(s);
  if (text.size() != std::strlen(text.c_str())) return false;  // a NUL inside
  in6_addr addr;
  return inet_pton(AF_INET6, text.c_str(), &addr) == 1;
}

// 1-5 ASCII digits, at most 65535.
bool IsPort(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  uint32_t v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  return v <= 65535;
}

// The grammar, independently of the parser under test.
bool WellFormed(std::string_view text) {
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() ||
        text[close + 1] != ':') {
      return false;
    }
    return IsIpv6(text.substr(1, close - 1)) && IsPort(text.substr(close + 2));
  }
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  return IsDottedQuad(text.substr(0, colon)) && IsPort(text.substr(colon + 1));
}

// Family, port and address bytes (ToString names no scope id or flow label,
// so those are not part of the round trip).
bool SameAddress(const SocketAddress& a, const SocketAddress& b) {
  if (a.family() != b.family() || a.port() != b.port()) return false;
  if (a.family() == AF_INET6) {
    const auto* x = reinterpret_cast<const sockaddr_in6*>(a.data());
    const auto* y = reinterpret_cast<const sockaddr_in6*>(b.data());
    return std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(in6_addr)) == 0;
  }
  const auto* x = reinterpret_cast<const sockaddr_in*>(a.data());
  const auto* y = reinterpret_cast<const sockaddr_in*>(b.data());
  return x->sin_addr.s_addr == y->sin_addr.s_addr;
}

void CheckRoundTrip(const SocketAddress& a) {
  std::string text = a.ToString();
  FUZZ_CHECK(WellFormed(text), "ToString gave a malformed \"%s\"",
             text.c_str());
  absl::StatusOr<SocketAddress> back = SocketAddress::Parse(text);
  FUZZ_CHECK(back.ok(), "Parse(ToString(a)) failed: \"%s\": %s", text.c_str(),
             std::string(back.status().message()).c_str());
  FUZZ_CHECK(SameAddress(a, *back), "\"%s\" parsed back as \"%s\"",
             text.c_str(), back->ToString().c_str());
  FUZZ_CHECK(*back == a, "operator== disagrees on \"%s\"", text.c_str());
}

void ParseText(std::string_view text) {
  absl::StatusOr<SocketAddress> a =
      SocketAddress::Parse(absl::string_view(text.data(), text.size()));
  bool expected = WellFormed(text);
  std::string shown(text);
  FUZZ_CHECK(a.ok() == expected, "Parse(\"%s\") is %s, the grammar says %s",
             shown.c_str(), a.ok() ? "OK" : "an error",
             expected ? "well-formed" : "malformed");
  if (!a.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(a.status()),
               "Parse(\"%s\") failed with a code other than InvalidArgument",
               shown.c_str());
    return;
  }
  FUZZ_CHECK(a->port() == std::stoul(shown.substr(shown.rfind(':') + 1)),
             "Parse(\"%s\") gave port %u", shown.c_str(), a->port());
  FUZZ_CHECK((a->family() == AF_INET6) == (text.front() == '['),
             "Parse(\"%s\") gave the wrong family", shown.c_str());
  CheckRoundTrip(*a);
}

void FromBytes(sa_family_t family, std::string_view bytes) {
  sockaddr_storage storage;
  std::memset(&storage, 0, sizeof(storage));
  socklen_t len =
      family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  std::memcpy(&storage, bytes.data(), std::min<size_t>(bytes.size(), len));
  storage.ss_family = family;
  absl::StatusOr<SocketAddress> a =
      SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&storage), len);
  FUZZ_CHECK(a.ok(), "FromSockaddr refused a full-length sockaddr");
  CheckRoundTrip(*a);
}

}  // namespace
}  // namespace polyio::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  polyio::fuzz::ByteReader in(data, size);
  switch (in.Byte() % 4) {
    case 0:
    case 1:  // text, the case that matters most: half of the inputs
      polyio::fuzz::ParseText(in.Rest());
      break;
    case 2:
      polyio::fuzz::FromBytes(AF_INET, in.Rest());
      break;
    case 3:
      polyio::fuzz::FromBytes(AF_INET6, in.Rest());
      break;
  }
  return 0;
}
