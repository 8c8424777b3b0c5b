// Regression test (docs/reliability.md, bugs found), found by
// socket_address_fuzz: Parse accepts a text with a NUL byte in its address part
// and ignores what follows the NUL, because FromIpPort hands inet_pton the
// c_str() of the host: "[::1\0junk]:8080" parses as [::1]:8080,
// "127.0.0.1\0x:80" as 127.0.0.1:80. A text that is not an address must be
// refused, whatever bytes it holds. Fixed: a host containing a NUL is now
// InvalidArgument.
#include <string>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "platform/socket_address.h"

namespace polyio {
namespace {

TEST(SocketAddressKnownBugTest, NulInsideTheAddressIsRefused) {
  const std::string v6("[::1\0junk]:8080", 15);
  const std::string v4("127.0.0.1\0x:80", 14);
  EXPECT_FALSE(SocketAddress::Parse(absl::string_view(v6)).ok());
  EXPECT_FALSE(SocketAddress::Parse(absl::string_view(v4)).ok());
}

}  // namespace
}  // namespace polyio
