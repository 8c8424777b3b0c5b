// Stress: 10,000 concurrent connections, each echoing 64 KiB intact, on the
// backend this binary was built for (polyio_backend_test: every backend).
//
// The server is this process: a polyio echo server that counts the
// connections it holds. The clients are a forked child (stress_util.h),
// also on polyio: it connects all of them first, then on every connection
// sends 64 KiB in 8 KiB chunks and reads each chunk back, checking every
// byte against the connection's own pattern, and closes nothing until
// every connection has checked all its data. So the server holds all the
// connections at once, which it checks (its peak), and every byte crossed
// the runtime twice. With a lower RLIMIT_NOFILE the test runs as many
// connections as the limit allows and says so (ConnectionsAllowed).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "polyio.h"
#include "tests/stress/stress_util.h"

namespace polyio::stress {
namespace {

constexpr int kConnections = 10000;
constexpr size_t kBytesEach = 64 * 1024;
constexpr size_t kChunk = 8 * 1024;
constexpr auto kDeadline = std::chrono::seconds(300);

struct ServerStats {
  int live = 0;
  int peak = 0;
  int finished = 0;
  uint64_t bytes = 0;
  absl::Status first_error;
};

Task<absl::Status> EchoOne(TcpStream stream, ServerStats* stats, int total,
                           sync::Event* all_finished) {
  stats->peak = std::max(stats->peak, ++stats->live);
  std::vector<char> buf(kChunk);
  absl::Status status;
  for (;;) {
    absl::StatusOr<size_t> n = co_await stream.Read(absl::MakeSpan(buf));
    if (!n.ok()) {
      status = n.status();
      break;
    }
    if (*n == 0) break;  // the client is done
    stats->bytes += *n;
    status = co_await stream.WriteAll(absl::MakeConstSpan(buf.data(), *n));
    if (!status.ok()) break;
  }
  if (!status.ok() && stats->first_error.ok()) stats->first_error = status;
  --stats->live;
  if (++stats->finished == total) all_finished->Set();
  co_return status;
}

Task<absl::Status> Serve(TcpListener* listener, int total, ServerStats* stats) {
  sync::Event all_finished;
  for (int i = 0; i < total; ++i) {
    absl::StatusOr<TcpStream> conn = co_await listener->Accept();
    if (!conn.ok()) co_return conn.status();
    Spawn(EchoOne(std::move(*conn), stats, total, &all_finished)).Detach();
  }
  co_return co_await all_finished.Wait();
}

// One client connection: 64 KiB out, the same 64 KiB back, chunk by chunk.
Task<absl::Status> CheckEcho(TcpStream* stream, uint32_t conn) {
  std::vector<char> out(kChunk), in(kChunk);
  for (uint64_t offset = 0; offset < kBytesEach; offset += kChunk) {
    for (size_t i = 0; i < kChunk; ++i) out[i] = PatternByte(conn, offset + i);
    absl::Status sent = co_await stream->WriteAll(absl::MakeConstSpan(out));
    if (!sent.ok()) co_return sent;
    size_t got = 0;
    while (got < kChunk) {
      absl::StatusOr<size_t> n =
          co_await stream->Read(absl::MakeSpan(in.data() + got, kChunk - got));
      if (!n.ok()) co_return n.status();
      if (*n == 0) co_return absl::DataLossError("the server closed early");
      got += *n;
    }
    if (in != out) {
      co_return absl::DataLossError(
          absl::StrCat("connection ", conn, ": bytes ", offset, "..",
                       offset + kChunk, " came back changed"));
    }
  }
  co_return absl::OkStatus();
}

Task<absl::Status> Clients(uint16_t port, int total) {
  SocketAddress addr = SocketAddress::Loopback4(port);
  std::vector<TcpStream> streams;
  streams.reserve(total);
  for (int i = 0; i < total; ++i) {  // one at a time: no SYN backlog to drop
    absl::StatusOr<TcpStream> s = co_await TcpStream::Connect(addr);
    if (!s.ok()) co_return s.status();
    streams.push_back(std::move(*s));
  }
  std::vector<JoinHandle<absl::Status>> checks;
  checks.reserve(total);
  for (int i = 0; i < total; ++i) {
    checks.push_back(Spawn(CheckEcho(&streams[i], static_cast<uint32_t>(i))));
  }
  absl::Status first;
  for (JoinHandle<absl::Status>& c : checks) {
    absl::Status s = co_await c;
    if (!s.ok() && first.ok()) first = s;
  }
  co_return first;  // and only now are the streams closed
}

// BlockOn takes a Task: the deadline goes around it in one.
Task<absl::Status> WithDeadline(Task<absl::Status> task) {
  co_return co_await Timeout(kDeadline, std::move(task));
}

int ClientProcess(uint16_t port, int total) {
  std::string why;
  std::unique_ptr<Runtime> rt = CreateRuntime(&why);
  if (rt == nullptr) {
    std::fprintf(stderr, "client: %s\n", why.c_str());
    return 2;
  }
  absl::Status s = rt->BlockOn(WithDeadline(Clients(port, total)));
  if (!s.ok()) std::fprintf(stderr, "client: %s\n", s.ToString().c_str());
  return s.ok() ? 0 : 1;
}

TEST(EchoStressTest, TenThousandConnectionsEcho64KiBEachIntact) {
  const int want = WantedConnections(kConnections);
  const int total = ConnectionsAllowed(want, "echo_10k");
  ASSERT_GT(total, 0);
  ForkPeer clients(
      [total](uint16_t port, int) { return ClientProcess(port, total); });
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
  clients.SendPort(local->port());

  ServerStats stats;
  Instant start = Now();
  absl::Status served =
      rt->BlockOn(WithDeadline(Serve(&*listener, total, &stats)));
  long long ms = MillisSince(start);
  int client_status = clients.Wait();
  listener->Close();

  std::fprintf(stderr,
               "STRESS echo_10k: backend %s: %d connections held at once "
               "(%d wanted), %llu bytes echoed, %lld ms\n",
               std::string(rt->backend_name()).c_str(), stats.peak, want,
               static_cast<unsigned long long>(stats.bytes), ms);
  RecordProperty("peak_connections", std::to_string(stats.peak));
  RecordProperty("milliseconds", std::to_string(ms));
  EXPECT_TRUE(served.ok()) << served;
  EXPECT_TRUE(stats.first_error.ok()) << stats.first_error;
  EXPECT_EQ(client_status, 0) << "the client process failed (its stderr says "
                                 "why)";
  EXPECT_EQ(stats.peak, total);
  EXPECT_EQ(stats.bytes, uint64_t{kBytesEach} * total);
}

}  // namespace
}  // namespace polyio::stress
