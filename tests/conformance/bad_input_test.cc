// Bad input gets a clear status, never a crash.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

TEST_F(ConformanceTest, InvalidAddressesAreInvalidArgument) {
  for (const char* text :
       {"", "nonsense", "1.2.3.4", "1.2.3.4:99999", "1.2.3.4:-1", "::1:80",
        "[::1]", "[::1]80", "300.1.1.1:80", "[zz::1]:80", "1.2.3.4:port",
        // A port is digits only, an IPv4 address is never in brackets.
        "1.2.3.4:+80", "1.2.3.4: 80", "1.2.3.4:80 ", " 1.2.3.4:80",
        "[1.2.3.4]:80", "1.2.3.4:", "[::1]:", "[::1]:+1", "1.2.3.4:0x50"}) {
    absl::StatusOr<SocketAddress> a = SocketAddress::Parse(text);
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
  absl::StatusOr<SocketAddress> v6 = SocketAddress::Parse("[::1]:8080");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->ToString(), "[::1]:8080");
  EXPECT_EQ(SocketAddress::Parse("127.0.0.1:80")->ToString(), "127.0.0.1:80");
}

TEST_F(ConformanceTest, AnInvalidFdIsAClearError) {
  // An fd number nothing has open.
  int fd = open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  close(fd);
  TcpStream stream{UniqueFd(fd)};
  absl::StatusOr<size_t> n =
      rt().BlockOn([](TcpStream* s) -> Task<absl::StatusOr<size_t>> {
        char buf[8];
        co_return co_await s->Read(absl::MakeSpan(buf));
      }(&stream));
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("read fd"), absl::string_view::npos)
      << n.status();
  stream.Close().IgnoreError();
}

TEST_F(ConformanceTest, ZeroLengthReadAndWriteReturnZero) {
  auto [a, b] = StreamPair();
  auto [r, w] = rt().BlockOn(
      [](TcpStream* a, TcpStream* b)
          -> Task<std::pair<absl::StatusOr<size_t>, absl::StatusOr<size_t>>> {
        absl::StatusOr<size_t> w = co_await b->Write(absl::Span<const char>());
        absl::StatusOr<size_t> r = co_await a->Read(absl::Span<char>());
        co_return std::make_pair(r, w);
      }(&a, &b));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(*r, 0u);
  EXPECT_EQ(*w, 0u);
}

TEST_F(ConformanceTest, AStreamUsedAfterCloseIsFailedPrecondition) {
  auto [a, b] = StreamPair();
  ASSERT_TRUE(a.Close().ok());
  EXPECT_TRUE(a.Close().ok());  // idempotent
  auto [r, w] = rt().BlockOn(
      [](TcpStream* a)
          -> Task<std::pair<absl::StatusOr<size_t>, absl::Status>> {
        char buf[4];
        absl::StatusOr<size_t> r = co_await a->Read(absl::MakeSpan(buf));
        absl::Status w = co_await a->WriteAll(absl::MakeConstSpan("abc", 3));
        co_return std::make_pair(r, w);
      }(&a));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition)
      << r.status();
  EXPECT_EQ(w.code(), absl::StatusCode::kFailedPrecondition) << w;
  EXPECT_EQ(a.ShutdownWrite().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(a.SetNoDelay(true).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ConformanceTest, BindingAPortInUseIsAClearError) {
  absl::StatusOr<TcpListener> first =
      TcpListener::Bind(SocketAddress::Loopback4(0));
  ASSERT_TRUE(first.ok());
  absl::StatusOr<TcpListener> second =
      TcpListener::Bind(*first->LocalAddress());
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("bind 127.0.0.1:"),
            absl::string_view::npos)
      << second.status();
}

}  // namespace
}  // namespace polyio::testing
