// Stress: the cancellation storm. 10,000 tasks, each blocked in Read on its
// own connection with its buffer on its coroutine frame, are aborted at
// once while a forked peer keeps writing to every connection — so reads
// complete, are in flight and are being cancelled all at the same time. On
// every backend (polyio_backend_test); run under ASan by tools/test, which
// sees a completion that touches a freed frame.
//
// Checked: every task ends with CancelledError; the aborts and joins finish
// within the deadline (the time is printed); and then 10,000 new tasks of
// the same coroutine, frames of the same size (the frame pool hands the
// freed ones back), fill their buffers with a canary and sleep while the
// peer still writes: a cancelled io_uring read that the kernel completed
// into a freed frame would show as a changed canary, which ASan cannot see
// (the kernel's writes are not instrumented).
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "polyio.h"
#include "tests/stress/stress_util.h"

namespace polyio::stress {
namespace {

constexpr int kTasks = 10000;
constexpr size_t kBuffer = 4096;
constexpr char kCanary = static_cast<char>(0xA5);

// One reader, or (no stream) one canary of the same frame size.
Task<absl::Status> Reader(std::optional<TcpStream> stream, uint64_t* bytes) {
  char buf[kBuffer];  // on the coroutine frame, as the storm requires
  if (!stream.has_value()) {
    std::memset(buf, kCanary, sizeof(buf));
    absl::Status slept = co_await Sleep(std::chrono::milliseconds(300));
    if (!slept.ok()) co_return slept;
    for (char c : buf) {
      if (c != kCanary)
        co_return absl::DataLossError("a canary was overwritten");
    }
    co_return absl::OkStatus();
  }
  for (;;) {
    absl::StatusOr<size_t> n = co_await stream->Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return absl::DataLossError("the peer closed");
    *bytes += *n;
  }
}

struct StormResult {
  int cancelled = 0;
  int other = 0;
  std::string first_other;
  long long storm_ms = 0;
  uint64_t bytes_before = 0;
  int canaries_ok = 0;
  std::string canary_error;
};

Task<absl::Status> Storm(TcpListener* listener, int total, ForkPeer* peer,
                         StormResult* out) {
  uint64_t bytes = 0;
  std::vector<JoinHandle<absl::Status>> readers;
  readers.reserve(total);
  for (int i = 0; i < total; ++i) {
    absl::StatusOr<TcpStream> conn = co_await listener->Accept();
    if (!conn.ok()) co_return conn.status();
    readers.push_back(Spawn(Reader(std::move(*conn), &bytes)));
  }
  // Every reader is blocked in Read; now the data starts, and the storm
  // comes while it flows.
  peer->Signal();
  absl::Status slept = co_await Sleep(std::chrono::milliseconds(200));
  if (!slept.ok()) co_return slept;
  out->bytes_before = bytes;
  Instant start = Now();
  for (JoinHandle<absl::Status>& r : readers) r.Abort();
  for (JoinHandle<absl::Status>& r : readers) {
    absl::Status s = co_await r;
    if (absl::IsCancelled(s)) {
      ++out->cancelled;
    } else if (out->other++ == 0) {
      out->first_other = s.ToString();
    }
  }
  out->storm_ms = MillisSince(start);
  readers.clear();
  // The canaries, while the peer still writes to the closed connections.
  std::vector<JoinHandle<absl::Status>> canaries;
  canaries.reserve(total);
  for (int i = 0; i < total; ++i) {
    canaries.push_back(Spawn(Reader(std::nullopt, nullptr)));
  }
  for (JoinHandle<absl::Status>& c : canaries) {
    absl::Status s = co_await c;
    if (s.ok()) {
      ++out->canaries_ok;
    } else if (out->canary_error.empty()) {
      out->canary_error = s.ToString();
    }
  }
  peer->Signal();  // stop writing
  co_return absl::OkStatus();
}

// The peer: plain sockets, no polyio. Connects `total` times, waits for
// the go, then writes 1 KiB rounds to every connection (errors ignored:
// the server side goes away during the storm) until told to stop or 60 s.
int WriterProcess(uint16_t port, int signals, int total) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<int> fds;
  for (int i = 0; i < total; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 ||
        connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      std::perror("writer: connect");
      return 1;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    fds.push_back(fd);
  }
  if (!ForkPeer::AwaitSignal(signals)) return 1;
  char chunk[1024];
  std::memset(chunk, 'x', sizeof(chunk));
  Instant start = Now();
  for (;;) {
    pollfd stop = {signals, POLLIN, 0};
    if (poll(&stop, 1, 0) > 0 || Now() - start > std::chrono::seconds(60)) {
      break;
    }
    for (int fd : fds)
      send(fd, chunk, sizeof(chunk), MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  for (int fd : fds) close(fd);
  return 0;
}

TEST(CancelStormTest, TenThousandReadsAbortedWhileDataArrives) {
  const int want = WantedConnections(kTasks);
  const int total = ConnectionsAllowed(want, "cancel_storm");
  ASSERT_GT(total, 0);
  ForkPeer writer([total](uint16_t port, int signals) {
    return WriterProcess(port, signals, total);
  });
  std::string why;
  std::unique_ptr<Runtime> rt = CreateRuntime(&why);
  if (rt == nullptr) {
    if (BackendRequired())
      FAIL() << "backend required but unavailable: " << why;
    GTEST_SKIP() << "backend unavailable on this host: " << why;
  }
  absl::StatusOr<TcpListener> listener =
      TcpListener::Bind(SocketAddress::Loopback4(0), /*backlog=*/4096);
  ASSERT_TRUE(listener.ok()) << listener.status();
  absl::StatusOr<SocketAddress> local = listener->LocalAddress();
  ASSERT_TRUE(local.ok()) << local.status();
  writer.SendPort(local->port());

  StormResult result;
  absl::Status s = rt->BlockOn(Storm(&*listener, total, &writer, &result));
  int writer_status = writer.Wait();
  listener->Close();
  std::fprintf(stderr,
               "STRESS cancel_storm: backend %s: %d tasks aborted in Read "
               "(%d wanted) in %lld ms, %llu bytes read before; %d canaries "
               "intact\n",
               std::string(rt->backend_name()).c_str(), result.cancelled, want,
               result.storm_ms,
               static_cast<unsigned long long>(result.bytes_before),
               result.canaries_ok);
  RecordProperty("storm_ms", std::to_string(result.storm_ms));
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(writer_status, 0);
  EXPECT_EQ(result.cancelled, total)
      << "first other result: " << result.first_other;
  EXPECT_GT(result.bytes_before, 0u) << "no data arrived before the storm";
  EXPECT_EQ(result.canaries_ok, total) << result.canary_error;
}

}  // namespace
}  // namespace polyio::stress
