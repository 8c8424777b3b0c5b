// Running out of fds: Accept backs off instead of spinning or failing, the
// existing connections keep being served, and accepting resumes once fds are
// free.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::milliseconds;

Duration CpuTime() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](timeval t) {
    return std::chrono::seconds(t.tv_sec) +
           std::chrono::microseconds(t.tv_usec);
  };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

// A plain blocking socket; connecting it later completes the handshake into
// the listener's backlog whether or not the server can accept.
int RawSocket(const SocketAddress& addr) {
  return socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
}

Task<absl::Status> Scenario() {
  absl::StatusOr<TcpListener> listener =
      TcpListener::Bind(SocketAddress::Loopback4(0));
  if (!listener.ok()) co_return listener.status();
  SocketAddress addr = *listener->LocalAddress();
  // Room for one connection more than the test makes, so that the server
  // finishes only by failing. (An fd that another library frees on its own
  // schedule — libkqueue releases a closed kqueue's epoll fd from a thread —
  // may let the second connection in early; that is not the server's doing.)
  JoinHandle<absl::Status> server = Spawn(EchoServer(&*listener, 3));

  // 1. One connection served normally.
  absl::StatusOr<TcpStream> first = co_await TcpStream::Connect(addr);
  if (!first.ok()) co_return first.status();
  std::string ping = "ping";
  char buf[16];
  EXPECT_TRUE((co_await first->WriteAll(absl::MakeConstSpan(ping))).ok());
  EXPECT_EQ(*(co_await first->Read(absl::MakeSpan(buf))), 4u);

  // 2. A second client connects while the process has no fd to spare. Its
  // socket is made first; the connection arrives only once every fd is
  // taken, so that even an accept already waiting in the kernel (io_uring)
  // finds no fd for it.
  int second = RawSocket(addr);
  if (second < 0) co_return absl::InternalError("socket failed");
  std::vector<int> hogs;
  for (;;) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    hogs.push_back(fd);
  }
  EXPECT_EQ(errno, EMFILE);
  if (connect(second, addr.data(), addr.size()) < 0) {
    co_return absl::ErrnoToStatus(errno, "raw connect");
  }

  // 3. For a while: the server must not spin, and must keep serving.
  Duration cpu_before = CpuTime();
  Instant wall_before = Now();
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE((co_await first->WriteAll(absl::MakeConstSpan(ping))).ok());
    absl::StatusOr<size_t> n = co_await first->Read(absl::MakeSpan(buf));
    EXPECT_TRUE(n.ok() && *n == 4u) << "echo failed during EMFILE";
    EXPECT_TRUE((co_await Sleep(milliseconds(10))).ok());
  }
  Duration cpu = CpuTime() - cpu_before;
  Duration wall = Now() - wall_before;
  EXPECT_LT(cpu, wall / 2) << "the accept loop spins while out of fds";
  EXPECT_FALSE(server.finished()) << "the server stopped on EMFILE";

  // 4. Free the fds: the waiting connection is accepted and served.
  for (int fd : hogs) close(fd);
  TcpStream late(UniqueFd(second), Driver::Current());
  EXPECT_TRUE(MakeNonBlocking(late.fd()).ok());
  EXPECT_TRUE((co_await late.WriteAll(absl::MakeConstSpan(ping))).ok());
  absl::StatusOr<size_t> n =
      co_await Timeout(std::chrono::seconds(5), late.Read(absl::MakeSpan(buf)));
  if (!n.ok()) co_return n.status();
  EXPECT_EQ(*n, 4u);
  EXPECT_FALSE(server.finished());
  server.Abort();
  absl::Status ended = co_await server;
  EXPECT_TRUE(absl::IsCancelled(ended)) << ended;
  co_return absl::OkStatus();
}

TEST_F(ConformanceTest, AcceptOutOfFdsBacksOffAndRecovers) {
  // A low limit, so that running out is quick; restored after the test.
  rlimit saved;
  getrlimit(RLIMIT_NOFILE, &saved);
  rlimit low = saved;
  low.rlim_cur = std::min<rlim_t>(saved.rlim_cur, 256);
  setrlimit(RLIMIT_NOFILE, &low);
  absl::Status s = rt().BlockOn(Scenario());
  setrlimit(RLIMIT_NOFILE, &saved);
  EXPECT_TRUE(s.ok()) << s;
}

}  // namespace
}  // namespace polyio::testing
