// TCP streams: bytes arrive intact at scale; ends, resets and refusals are
// reported clearly.
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

Task<absl::Status> EchoTest(int connections, size_t bytes_each) {
  absl::StatusOr<TcpListener> listener =
      TcpListener::Bind(SocketAddress::Loopback4(0));
  if (!listener.ok()) co_return listener.status();
  SocketAddress addr = *listener->LocalAddress();
  JoinHandle<absl::Status> server = Spawn(EchoServer(&*listener, connections));
  std::vector<std::string> payloads;
  for (int i = 0; i < connections; ++i) {
    payloads.push_back(Pattern(bytes_each, i));
  }
  std::vector<JoinHandle<absl::StatusOr<std::string>>> clients;
  for (int i = 0; i < connections; ++i) {
    clients.push_back(Spawn(EchoRoundTrip(addr, &payloads[i])));
  }
  for (int i = 0; i < connections; ++i) {
    absl::StatusOr<std::string> got = co_await clients[i];
    if (!got.ok()) co_return got.status();
    EXPECT_TRUE(*got == payloads[i])
        << "connection " << i << " got " << got->size() << " bytes, corrupted";
  }
  co_return co_await server;
}

TEST_F(ConformanceTest, EchoOneMebibyteRoundTripIntact) {
  absl::Status s = rt().BlockOn(EchoTest(1, 1 << 20));
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, EchoThousandConcurrentConnections64KiBEach) {
  FdLimit limit(4096);
  absl::Status s = rt().BlockOn(EchoTest(1000, 64 << 10));
  EXPECT_TRUE(s.ok()) << s;
}

Task<absl::StatusOr<size_t>> ReadAfterPeerCloses() {
  absl::StatusOr<TcpListener> listener =
      TcpListener::Bind(SocketAddress::Loopback4(0));
  if (!listener.ok()) co_return listener.status();
  JoinHandle<absl::Status> closer =
      Spawn([](TcpListener* l) -> Task<absl::Status> {
        absl::StatusOr<TcpStream> s = co_await l->Accept();
        if (!s.ok()) co_return s.status();
        co_return s->Close();
      }(&*listener));
  absl::StatusOr<TcpStream> client =
      co_await TcpStream::Connect(*listener->LocalAddress());
  if (!client.ok()) co_return client.status();
  char buf[16];
  absl::StatusOr<size_t> n = co_await client->Read(absl::MakeSpan(buf));
  EXPECT_TRUE((co_await closer).ok());
  co_return n;
}

TEST_F(ConformanceTest, PeerCloseReadsAsZeroBytes) {
  absl::StatusOr<size_t> n = rt().BlockOn(ReadAfterPeerCloses());
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0u);
}

// The peer's last bytes and its FIN arrive together while a read is parked.
// The read that takes the bytes is short; the next must see EOF, not wait
// for readiness the kernel has already reported (an edge-triggered poller
// reports the FIN only once).
Task<absl::Status> ReadDataThenEofOnce(TcpListener* listener) {
  absl::StatusOr<TcpStream> writer =
      co_await TcpStream::Connect(*listener->LocalAddress());
  if (!writer.ok()) co_return writer.status();
  absl::StatusOr<TcpStream> reader = co_await listener->Accept();
  if (!reader.ok()) co_return reader.status();
  JoinHandle<absl::Status> finish = Spawn([](int fd) -> Task<absl::Status> {
    // The read is parked by now.
    EXPECT_TRUE((co_await Sleep(milliseconds(1))).ok());
    if (::send(fd, "last bytes", 10, MSG_NOSIGNAL) != 10 ||
        ::shutdown(fd, SHUT_WR) != 0) {
      co_return absl::ErrnoToStatus(errno, "send+shutdown");
    }
    co_return absl::OkStatus();
  }(writer->fd()));
  std::string got;
  char buf[64];
  absl::Status result;
  for (;;) {
    absl::StatusOr<size_t> n =
        co_await Timeout(milliseconds(2000), reader->Read(absl::MakeSpan(buf)));
    if (!n.ok()) {
      result = n.status();
      break;
    }
    if (*n == 0) break;
    got.append(buf, *n);
  }
  absl::Status sent = co_await finish;
  if (!sent.ok()) co_return sent;
  if (!result.ok()) co_return result;
  EXPECT_EQ(got, "last bytes");
  co_return absl::OkStatus();
}

TEST_F(ConformanceTest, LastBytesWithTheFinReadAsBytesThenEof) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    absl::StatusOr<TcpListener> listener =
        TcpListener::Bind(SocketAddress::Loopback4(0));
    if (!listener.ok()) co_return listener.status();
    for (int round = 0; round < 20; ++round) {
      absl::Status s = co_await ReadDataThenEofOnce(&*listener);
      if (!s.ok()) co_return s;
    }
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

// A read polled once and dropped, again and again (a "try read", a select
// that gives up at once), must see the data once it comes: no backend may
// keep treating the stream as empty because nobody stayed to wait.
Task<absl::Status> TryReadUntilData() {
  absl::StatusOr<TcpListener> listener =
      TcpListener::Bind(SocketAddress::Loopback4(0));
  if (!listener.ok()) co_return listener.status();
  absl::StatusOr<TcpStream> writer =
      co_await TcpStream::Connect(*listener->LocalAddress());
  if (!writer.ok()) co_return writer.status();
  absl::StatusOr<TcpStream> reader = co_await listener->Accept();
  if (!reader.ok()) co_return reader.status();
  char buf[16];
  for (int attempt = 0; attempt < 5000; ++attempt) {
    if (attempt == 3 && ::send(writer->fd(), "data", 4, MSG_NOSIGNAL) != 4) {
      co_return absl::ErrnoToStatus(errno, "send");
    }
    std::optional<absl::StatusOr<size_t>> n =
        co_await PollOnceThenDrop(reader->Read(absl::MakeSpan(buf)));
    if (n.has_value()) {
      if (!n->ok()) co_return n->status();
      EXPECT_EQ(std::string(buf, **n), "data");
      co_return absl::OkStatus();
    }
    EXPECT_TRUE((co_await Sleep(microseconds(50))).ok());
  }
  co_return absl::DeadlineExceededError(
      "5,000 reads polled once never saw the 4 bytes sent");
}

TEST_F(ConformanceTest, ReadsPolledOnceAndDroppedSeeDataWhenItComes) {
  absl::Status s = rt().BlockOn(TryReadUntilData());
  EXPECT_TRUE(s.ok()) << s;
}

Task<absl::Status> WriteToResetPeer() {
  absl::StatusOr<TcpListener> listener =
      TcpListener::Bind(SocketAddress::Loopback4(0));
  if (!listener.ok()) co_return listener.status();
  JoinHandle<absl::Status> resetter =
      Spawn([](TcpListener* l) -> Task<absl::Status> {
        absl::StatusOr<TcpStream> s = co_await l->Accept();
        if (!s.ok()) co_return s.status();
        linger hard{1, 0};  // close sends RST
        setsockopt(s->fd(), SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
        co_return s->Close();
      }(&*listener));
  absl::StatusOr<TcpStream> client =
      co_await TcpStream::Connect(*listener->LocalAddress());
  if (!client.ok()) co_return client.status();
  EXPECT_TRUE((co_await resetter).ok());
  // Wait for the RST itself: the socket reports the reset once it is in.
  for (int i = 0; i < 10000; ++i) {
    char peek;
    if (recv(client->fd(), &peek, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
        errno == ECONNRESET) {
      break;
    }
    EXPECT_TRUE((co_await Sleep(milliseconds(1))).ok());
  }
  std::string chunk(4096, 'x');
  for (int i = 0; i < 100; ++i) {
    absl::Status s = co_await client->WriteAll(absl::MakeConstSpan(chunk));
    if (!s.ok()) co_return s;
  }
  co_return absl::OkStatus();
}

TEST_F(ConformanceTest, WritingToAResetPeerIsAnErrorNotASignal) {
  absl::Status s = rt().BlockOn(WriteToResetPeer());
  // Had SIGPIPE been raised, the process would be dead by now.
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::IsUnavailable(s) || absl::IsAborted(s) ||
              absl::IsFailedPrecondition(s) || absl::IsUnknown(s))
      << s;
}

TEST_F(ConformanceTest, ConnectToAClosedPortIsAClearError) {
  // Bind a port, then close it, so that nothing listens there.
  uint16_t port;
  {
    absl::StatusOr<TcpListener> l =
        TcpListener::Bind(SocketAddress::Loopback4(0));
    ASSERT_TRUE(l.ok());
    port = l->LocalAddress()->port();
  }
  absl::StatusOr<TcpStream> s =
      rt().BlockOn([](uint16_t port) -> Task<absl::StatusOr<TcpStream>> {
        co_return co_await TcpStream::Connect(SocketAddress::Loopback4(port));
      }(port));
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::IsUnavailable(s.status())) << s.status();
  EXPECT_NE(s.status().message().find("connect 127.0.0.1:"),
            absl::string_view::npos)
      << s.status();
  EXPECT_NE(s.status().message().find("refused"), absl::string_view::npos)
      << s.status();
}

Task<absl::Status> ConnectThatNeverCompletes() {
  // A listener that never accepts, with a full backlog: further SYNs are
  // dropped, so a connect hangs (all on loopback).
  absl::StatusOr<TcpListener> listener =
      TcpListener::Bind(SocketAddress::Loopback4(0), /*backlog=*/0);
  if (!listener.ok()) co_return listener.status();
  SocketAddress addr = *listener->LocalAddress();
  std::vector<TcpStream> fillers;
  for (int i = 0; i < 16; ++i) {
    absl::StatusOr<TcpStream> s =
        co_await Timeout(milliseconds(100), TcpStream::Connect(addr));
    if (!s.ok()) {
      EXPECT_TRUE(absl::IsDeadlineExceeded(s.status())) << s.status();
      co_return absl::OkStatus();  // the hanging connect was cut short
    }
    fillers.push_back(std::move(*s));
  }
  co_return absl::InternalError(
      "every connect completed; backlog never filled");
}

TEST_F(ConformanceTest, TimeoutCutsShortAConnectThatNeverCompletes) {
  absl::Status s = rt().BlockOn(ConnectThatNeverCompletes());
  EXPECT_TRUE(s.ok()) << s;
}

}  // namespace
}  // namespace polyio::testing
