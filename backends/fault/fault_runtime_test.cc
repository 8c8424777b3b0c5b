// The fault layer seen through the runtime, over each backend it wraps:
// - paused time does not jump while the layer holds a completion (the
//   driver asks the backend's HasReady before it counts itself idle);
// - the visible faults, which the conformance suite does not expect: a
//   send that resets the connection (both ends see the break, nothing
//   hangs) and a datagram send that fails with ENOBUFS (reported, the
//   socket still usable).
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backends/fault/fault_config.h"
#include "backends/fault/fault_test_support.h"
#include "gtest/gtest.h"
#include "polyio.h"

namespace polyio {
namespace {

static_assert(kFaultInjection, "build with the fault layer on");

using fault::FaultRates;
using fault_testing::NoFaults;
using fault_testing::RuntimeWith;

// The seed of every case here (any seed; fixed so each run is the same).
constexpr uint64_t kSeed = 11;
using std::chrono::milliseconds;

// Every completion held back for up to 3 turns, inline ones included: a
// read whose data is already there is still "in flight" for a few turns.
// Under paused time a Timeout around it must not expire meanwhile: the
// runtime is not idle while the backend holds a completion. (Before the
// driver asked HasReady, the clock jumped to the timeout's deadline at the
// first idle turn and the read "timed out" with its data in hand.)
TEST(FaultPausedTime, AHeldCompletionKeepsTheClockStill) {
  FaultRates r = NoFaults();
  r.hold = 1;
  r.defer_inline = 1;
  r.max_hold_turns = 3;
  absl::StatusOr<std::unique_ptr<Runtime>> made = RuntimeWith(r, kSeed);
  POLYIO_FAULT_SKIP_UNLESS_OK(made.status());
  Runtime* rt = made->get();
  ScopedPausedTime paused;
  const Instant start = Now();
  absl::Status s = rt->BlockOn([]() -> Task<absl::Status> {
    absl::StatusOr<std::pair<UnixStream, UnixStream>> pair = UnixStream::Pair();
    if (!pair.ok()) co_return pair.status();
    auto& [a, b] = *pair;
    for (int i = 0; i < 50; ++i) {
      absl::Status w = co_await a.WriteAll(absl::MakeConstSpan("x", 1));
      if (!w.ok()) co_return w;
      char buf[8];
      absl::StatusOr<size_t> n =
          co_await Timeout(milliseconds(1), b.Read(absl::MakeSpan(buf)));
      if (!n.ok()) co_return n.status();
      if (*n != 1) co_return absl::InternalError("read the wrong size");
    }
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(Now(), start) << "paused time moved while a read was held";
}

// send_reset: the connection really breaks. The sender's WriteAll fails
// with ECONNRESET; the peer's read ends (reset or end of stream); nobody
// hangs. Over TCP.
TEST(FaultVisible, ASendResetBreaksTheTcpConnectionForBothEnds) {
  FaultRates r = NoFaults();
  r.send_reset = 1;
  absl::StatusOr<std::unique_ptr<Runtime>> made = RuntimeWith(r, kSeed);
  POLYIO_FAULT_SKIP_UNLESS_OK(made.status());
  Runtime* rt = made->get();
  absl::Status s = rt->BlockOn([]() -> Task<absl::Status> {
    absl::StatusOr<TcpListener> l =
        TcpListener::Bind(SocketAddress::Loopback4(0));
    if (!l.ok()) co_return l.status();
    absl::StatusOr<SocketAddress> addr = l->LocalAddress();
    if (!addr.ok()) co_return addr.status();
    JoinHandle<absl::Status> server =
        Spawn([](TcpListener* l) -> Task<absl::Status> {
          absl::StatusOr<TcpStream> s = co_await l->Accept();
          if (!s.ok()) co_return s.status();
          char buf[64];
          absl::StatusOr<size_t> n = co_await s->Read(absl::MakeSpan(buf));
          if (n.ok() && *n > 0) {
            co_return absl::InternalError("the peer got data");
          }
          // A reset (an error), or end of stream: either way, over.
          co_return absl::OkStatus();
        }(&*l));
    absl::StatusOr<TcpStream> c = co_await TcpStream::Connect(*addr);
    if (!c.ok()) co_return c.status();
    absl::Status w = co_await c->WriteAll(absl::MakeConstSpan("hello", 5));
    if (w.ok()) co_return absl::InternalError("the write succeeded");
    if (w.message().find("reset") == std::string::npos) {
      co_return absl::InternalError(std::string("not a reset: ") +
                                    std::string(w.message()));
    }
    co_return co_await Timeout(std::chrono::seconds(10), std::move(server));
  }());
  EXPECT_TRUE(s.ok()) << s;
}

// The same over a Unix stream, which has no reset: shut down both ways, the
// sender sees EPIPE and the peer end of stream.
TEST(FaultVisible, ASendResetBreaksTheUnixConnectionForBothEnds) {
  FaultRates r = NoFaults();
  r.send_reset = 1;
  absl::StatusOr<std::unique_ptr<Runtime>> made = RuntimeWith(r, kSeed);
  POLYIO_FAULT_SKIP_UNLESS_OK(made.status());
  Runtime* rt = made->get();
  absl::Status s = rt->BlockOn([]() -> Task<absl::Status> {
    absl::StatusOr<std::pair<UnixStream, UnixStream>> pair = UnixStream::Pair();
    if (!pair.ok()) co_return pair.status();
    auto& [a, b] = *pair;
    absl::Status w = co_await a.WriteAll(absl::MakeConstSpan("hello", 5));
    if (w.ok()) co_return absl::InternalError("the write succeeded");
    if (w.message().find("pipe") == std::string::npos) {
      co_return absl::InternalError(std::string("not EPIPE: ") +
                                    std::string(w.message()));
    }
    char buf[8];
    absl::StatusOr<size_t> n =
        co_await Timeout(std::chrono::seconds(10), b.Read(absl::MakeSpan(buf)));
    if (!n.ok()) co_return n.status();
    if (*n != 0) co_return absl::InternalError("the peer got data");
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

// dgram_enobufs: SendTo reports the error (ENOBUFS: nothing sent); with the
// rate at 0 the next socket's datagrams go through.
TEST(FaultVisible, ADatagramSendFailsWithEnobufs) {
  FaultRates r = NoFaults();
  r.dgram_enobufs = 1;
  absl::StatusOr<std::unique_ptr<Runtime>> made = RuntimeWith(r, kSeed);
  POLYIO_FAULT_SKIP_UNLESS_OK(made.status());
  Runtime* rt = made->get();
  absl::Status s = rt->BlockOn([]() -> Task<absl::Status> {
    absl::StatusOr<UdpSocket> a = UdpSocket::Bind(SocketAddress::Loopback4(0));
    absl::StatusOr<UdpSocket> b = UdpSocket::Bind(SocketAddress::Loopback4(0));
    if (!a.ok()) co_return a.status();
    if (!b.ok()) co_return b.status();
    absl::StatusOr<SocketAddress> to = b->LocalAddress();
    if (!to.ok()) co_return to.status();
    absl::StatusOr<size_t> n =
        co_await a->SendTo(absl::MakeConstSpan("dgram", 5), *to);
    if (n.ok()) co_return absl::InternalError("the send succeeded");
    if (n.status().message().find("buffer space") == std::string::npos) {
      co_return absl::InternalError(std::string("not ENOBUFS: ") +
                                    std::string(n.status().message()));
    }
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

}  // namespace
}  // namespace polyio
