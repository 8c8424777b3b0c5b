// The fault layer itself (fault_backend.h), below the runtime, over each
// backend it wraps (epoll, poll, io_uring: POLYIO_FAULT_INNER): each fault
// fires, and the contract still holds while it does — every operation
// completes exactly once, nothing is lost or reordered within an fd, EINTR
// never escapes, the same seed makes the same choices.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "backends/counted_op.h"
#include "backends/fault/fault_config.h"
#include "backends/fault/fault_test_support.h"
#include "backends/fault/interrupter.h"
#include "backends/selected.h"
#include "gtest/gtest.h"

namespace polyio {
namespace {

static_assert(kFaultInjection, "build with the fault layer on");

using fault::FaultConfig;
using fault::FaultRates;
using fault_testing::NoFaults;
using std::chrono::steady_clock;

class FaultLayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    POLYIO_FAULT_SKIP_UNLESS_OK(Backend::Create({}).status());
  }

  // Cancels and completes everything `b` has in flight (before the
  // operations of a case go out of scope).
  static void Drain(Backend& b) {
    b.CancelAll();
    while (b.InFlight() > 0) b.Wait(1'000'000);
  }

  void TearDown() override {
    for (auto& b : backends_) {
      b->CancelAll();
      auto deadline = steady_clock::now() + std::chrono::seconds(5);
      while (b->InFlight() > 0 && steady_clock::now() < deadline) {
        b->Wait(1'000'000);
      }
      EXPECT_EQ(b->InFlight(), 0u);
    }
    for (int fd : fds_) {
      for (auto& b : backends_) b->Forget(fd);
      close(fd);
    }
    fault::SetConfigForTesting(std::nullopt);
  }

  // A backend with these rates and seed (and stream name, so that two
  // backends made under one name draw the same faults).
  Backend& Make(const FaultRates& rates, uint64_t seed = 7,
                const char* stream = "fault_backend_test") {
    fault::SetStreamName(stream);
    fault::SetConfigForTesting(FaultConfig{seed, rates});
    absl::StatusOr<std::unique_ptr<Backend>> b = Backend::Create({});
    fault::SetConfigForTesting(std::nullopt);
    if (!b.ok()) {
      ADD_FAILURE() << b.status();
      std::abort();
    }
    backends_.push_back(std::move(*b));
    return *backends_.back();
  }

  static bool Start(Backend& b, CountedOp& op) {
    op.finished_inline = b.Submit(&op);
    return op.finished_inline;
  }

  template <class Done>
  static bool WaitUntil(Backend& b, Done done) {
    auto deadline = steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
      if (steady_clock::now() > deadline) return false;
      b.Wait(10'000'000);
    }
    return true;
  }

  int Track(int fd) {
    EXPECT_GE(fd, 0) << std::strerror(errno);
    fds_.push_back(fd);
    return fd;
  }

  std::pair<int, int> SocketPair() {
    int sv[2] = {-1, -1};
    EXPECT_EQ(
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
        0);
    return {Track(sv[0]), Track(sv[1])};
  }

  int Listener(sockaddr_in* addr) {
    int fd =
        Track(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    *addr = sockaddr_in{};
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(*addr);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(addr), len), 0);
    EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(addr), &len), 0);
    EXPECT_EQ(listen(fd, 16), 0);
    return fd;
  }

  std::vector<std::unique_ptr<Backend>> backends_;
  std::vector<int> fds_;
};

CountedOp StreamOp(OpKind kind, int fd, void* buf, size_t len) {
  CountedOp op = TransferOp(kind, fd, buf, len);
  op.byte_stream = true;
  return op;
}

// Sends `data` from `from` and receives it at `to`, one operation at a time
// each way, through `b`; returns what arrived and the results of the sends.
struct Transfer {
  std::string received;
  std::vector<int32_t> sends;
  std::vector<int32_t> recvs;
};
Transfer Pump(Backend& b, int from, int to, const std::string& data) {
  Transfer t;
  size_t sent = 0;
  std::vector<char> buf(4096);
  CountedOp send, recv;
  bool send_busy = false, recv_busy = false;
  auto deadline = steady_clock::now() + std::chrono::seconds(20);
  while (t.received.size() < data.size() && steady_clock::now() < deadline) {
    if (!send_busy && sent < data.size()) {
      send =
          StreamOp(OpKind::kSend, from, const_cast<char*>(data.data()) + sent,
                   std::min<size_t>(data.size() - sent, 8192));
      send_busy = true;
      send.finished_inline = b.Submit(&send);
    }
    if (!recv_busy) {
      recv = StreamOp(OpKind::kRecv, to, buf.data(), buf.size());
      recv_busy = true;
      recv.finished_inline = b.Submit(&recv);
    }
    if (send_busy && send.completions() > 0) {
      EXPECT_GT(send.res, 0) << std::strerror(-send.res);
      if (send.res <= 0) break;
      EXPECT_LE(static_cast<size_t>(send.res), send.len);
      t.sends.push_back(send.res);
      sent += send.res;
      send_busy = false;
      continue;
    }
    if (recv_busy && recv.completions() > 0) {
      EXPECT_GT(recv.res, 0) << std::strerror(-recv.res);
      if (recv.res <= 0) break;
      t.recvs.push_back(recv.res);
      t.received.append(buf.data(), recv.res);
      recv_busy = false;
      continue;
    }
    b.Wait(10'000'000);
  }
  // Leave nothing in flight: its storage is on this frame.
  b.CancelAll();
  while (b.InFlight() > 0) b.Wait(1'000'000);
  return t;
}

std::string Bytes(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (char& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// short_io: transfers come back short, and yet every byte arrives in order.
TEST_F(FaultLayerTest, ShortTransfersLoseNothing) {
  FaultRates r = NoFaults();
  r.short_io = 1;
  Backend& b = Make(r);
  auto [x, y] = SocketPair();
  std::string data = Bytes(100'000);
  Transfer t = Pump(b, x, y, data);
  EXPECT_EQ(t.received, data);
  // Each send asked for up to 8192 bytes; all were cut.
  size_t short_sends = 0;
  for (int32_t n : t.sends) short_sends += n < 8192 ? 1 : 0;
  EXPECT_EQ(short_sends, t.sends.size());
  EXPECT_GT(t.recvs.size(), 25u);  // 100,000 bytes in reads of < 4096
}

// Everything at once, including the rare ones at full rate: still intact.
TEST_F(FaultLayerTest, EveryTransparentFaultAtOnceLosesNothing) {
  FaultRates r;  // the defaults
  r.short_io = 0.5;
  r.hold = 0.5;
  r.defer_inline = 0.5;
  r.spurious_return = 0.3;
  r.spurious_wake = 0.3;
  r.eintr = 0.3;
  Backend& b = Make(r);
  auto [x, y] = SocketPair();
  std::string data = Bytes(300'000);
  Transfer t = Pump(b, x, y, data);
  EXPECT_EQ(t.received, data);
}

// hold + defer_inline: completions of different fds come out in another
// order than they happened; those of one fd never do.
TEST_F(FaultLayerTest, HeldCompletionsAreShuffledAcrossFdsOnly) {
  FaultRates r = NoFaults();
  r.hold = 1;
  r.defer_inline = 1;
  r.max_hold_turns = 4;
  Backend& b = Make(r);
  constexpr int kFds = 8;
  std::vector<std::pair<int, int>> pairs;
  for (int i = 0; i < kFds; ++i) pairs.push_back(SocketPair());
  // Two reads per fd, of one byte each, with two bytes waiting.
  struct Tagged : CountedOp {
    int fd_index = 0, nth = 0;
    std::vector<std::pair<int, int>>* log = nullptr;
  };
  std::vector<std::pair<int, int>> log;  // (fd index, nth) in completion order
  std::vector<std::unique_ptr<Tagged>> ops;
  char bufs[kFds][2];
  for (int i = 0; i < kFds; ++i) {
    ASSERT_EQ(write(pairs[i].second, "ab", 2), 2);
    for (int nth = 0; nth < 2; ++nth) {
      auto op = std::make_unique<Tagged>();
      static_cast<CountedOp&>(*op) =
          StreamOp(OpKind::kRecv, pairs[i].first, &bufs[i][nth], 1);
      op->fd_index = i;
      op->nth = nth;
      op->log = &log;
      op->on_complete = [](Operation* o) {
        auto* t = static_cast<Tagged*>(o);
        ++t->callbacks;
        t->log->push_back({t->fd_index, t->nth});
      };
      EXPECT_FALSE(b.Submit(op.get())) << "deferred: never inline";
      ops.push_back(std::move(op));
    }
  }
  // Readiness backends finished them inline: they are held here now.
  if (b.Model() == CompletionModel::kReadiness) {
    EXPECT_TRUE(b.HasReady());
  }
  ASSERT_TRUE(WaitUntil(b, [&] { return log.size() == 2 * kFds; }));
  EXPECT_FALSE(b.HasReady());
  for (auto& op : ops) EXPECT_EQ(op->callbacks, 1);
  for (int i = 0; i < kFds; ++i) {
    EXPECT_EQ(bufs[i][0], 'a');
    EXPECT_EQ(bufs[i][1], 'b');
  }
  // Per fd: first before second.
  std::vector<int> seen(kFds, 0);
  for (auto [fd, nth] : log) EXPECT_EQ(nth, seen[fd]++) << "fd " << fd;
  // Across fds: not the order of submission.
  std::vector<int> fd_order;
  for (auto [fd, nth] : log) {
    if (nth == 0) fd_order.push_back(fd);
  }
  EXPECT_FALSE(std::is_sorted(fd_order.begin(), fd_order.end()))
      << "16 completions held 1-4 turns each came out in submission order";
}

// A held completion is complete: cancelling it loses the race, and the
// operation reports its real result.
TEST_F(FaultLayerTest, CancelOfAHeldCompletionLosesTheRace) {
  FaultRates r = NoFaults();
  r.hold = 1;
  r.defer_inline = 1;
  Backend& b = Make(r);
  auto [x, y] = SocketPair();
  ASSERT_EQ(write(y, "hello", 5), 5);
  char buf[16];
  CountedOp recv = StreamOp(OpKind::kRecv, x, buf, sizeof(buf));
  ASSERT_FALSE(Start(b, recv));
  b.Cancel(&recv);
  ASSERT_TRUE(WaitUntil(b, [&] { return recv.completions() > 0; }));
  EXPECT_EQ(recv.res, 5);
  EXPECT_EQ(std::string(buf, 5), "hello");
  EXPECT_EQ(recv.callbacks, 1);
}

// cancel_late: the cancel reaches the backend after the data did, so the
// operation completes with the data, not -ECANCELED.
TEST_F(FaultLayerTest, ALateCancelLetsTheOperationWin) {
  FaultRates r = NoFaults();
  r.cancel_late = 1;
  Backend& b = Make(r);
  auto [x, y] = SocketPair();
  char buf[16];
  CountedOp recv = StreamOp(OpKind::kRecv, x, buf, sizeof(buf));
  ASSERT_FALSE(Start(b, recv));
  b.Wait(0);  // parked (io_uring: in the kernel)
  ASSERT_EQ(recv.completions(), 0);
  ASSERT_EQ(write(y, "late", 4), 4);
  b.Cancel(&recv);
  EXPECT_TRUE(b.HasReady()) << "a late cancel is pending";
  ASSERT_TRUE(WaitUntil(b, [&] { return recv.completions() > 0; }));
  EXPECT_EQ(recv.res, 4);
  EXPECT_EQ(recv.callbacks, 1);
}

// Without data, a late cancel still ends the operation.
TEST_F(FaultLayerTest, ALateCancelStillCancels) {
  FaultRates r = NoFaults();
  r.cancel_late = 1;
  Backend& b = Make(r);
  auto [x, y] = SocketPair();
  char buf[16];
  CountedOp recv = StreamOp(OpKind::kRecv, x, buf, sizeof(buf));
  ASSERT_FALSE(Start(b, recv));
  b.Cancel(&recv);
  ASSERT_TRUE(WaitUntil(b, [&] { return recv.completions() > 0; }));
  EXPECT_EQ(recv.res, -ECANCELED);
  EXPECT_EQ(b.InFlight(), 0u);
}

// A path operation's fd is AT_FDCWD, which is negative, and yet it is an
// operation in flight like any other: its cancel, on time or late, reaches
// the inner backend. (The layer once passed negative-fd operations straight
// through untracked; their Cancel then found no record and was dropped, and
// an open waiting for a FIFO's other end waited forever.)
TEST_F(FaultLayerTest, APathOperationsCancelReachesTheBackend) {
  for (double late : {0.0, 1.0}) {
    SCOPED_TRACE(late == 0 ? "cancel on time" : "cancel late");
    FaultRates r = NoFaults();
    r.cancel_late = late;
    Backend& b = Make(r);
    if (!b.NativeFileIo()) {
      GTEST_SKIP() << b.Name() << " does not take path operations";
    }
    const char* tmp = std::getenv("TEST_TMPDIR");
    const std::string fifo = std::string(tmp != nullptr ? tmp : "/tmp") +
                             "/fault_path_op_fifo_" +
                             std::to_string(late == 0 ? 0 : 1);
    ::unlink(fifo.c_str());
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
    // Opening a FIFO for reading waits for a writer, which never comes.
    PathArgs args;
    args.path = fifo.c_str();
    args.flags = O_RDONLY | O_CLOEXEC;
    CountedOp open;
    open.kind = OpKind::kOpenAt;
    open.fd = AT_FDCWD;
    open.buf = &args;
    ASSERT_FALSE(Start(b, open));
    b.Wait(0);
    ASSERT_EQ(open.completions(), 0) << "res " << open.res;
    b.Cancel(&open);
    ASSERT_TRUE(WaitUntil(b, [&] { return open.completions() > 0; }))
        << "the cancel never reached the backend";
    EXPECT_TRUE(open.res == -ECANCELED || open.res == -EINTR) << open.res;
    EXPECT_EQ(open.callbacks, 1);
    EXPECT_EQ(b.InFlight(), 0u);
    ::unlink(fifo.c_str());
  }
}

// While a completion is held, Wait does not block, whatever its timeout.
TEST_F(FaultLayerTest, WaitNeverBlocksWhileACompletionIsHeld) {
  FaultRates r = NoFaults();
  r.defer_inline = 1;
  r.hold = 1;
  r.max_hold_turns = 3;
  Backend& b = Make(r);
  auto [x, y] = SocketPair();
  ASSERT_EQ(write(y, "z", 1), 1);
  char buf[4];
  CountedOp recv = StreamOp(OpKind::kRecv, x, buf, sizeof(buf));
  ASSERT_FALSE(Start(b, recv));
  EXPECT_EQ(b.InFlight(), 1u);
  auto start = steady_clock::now();
  int waits = 0;
  while (recv.completions() == 0 && waits < 10) {
    b.Wait(-1);
    ++waits;
  }
  EXPECT_EQ(recv.callbacks, 1);
  EXPECT_LE(waits, 3);
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(b.InFlight(), 0u);
  EXPECT_FALSE(b.HasReady());
}

// eintr: the signal does interrupt the inner backend's blocking wait, and
// the backend carries on: a parked read still gets its data, once.
TEST_F(FaultLayerTest, InterruptedWaitsLetNoEintrEscape) {
  FaultRates r = NoFaults();
  r.eintr = 1;
  Backend& b = Make(r);
  auto [x, y] = SocketPair();
  char buf[16];
  CountedOp recv = StreamOp(OpKind::kRecv, x, buf, sizeof(buf));
  ASSERT_FALSE(Start(b, recv));
  const uint64_t before = fault::Interrupter::SignalsHandled();
  // Nothing to do: each 50 ms wait ends early, at the signal (sent 20-500
  // us in). One wait cut short proves it; the rest may run their 50 ms on
  // a loaded machine, where the signal's sender may not be scheduled in
  // time (a bound on their total made this case flaky).
  int cut_short = 0;
  for (int i = 0; i < 20; ++i) {
    auto start = steady_clock::now();
    b.Wait(50'000'000);
    if (steady_clock::now() - start < std::chrono::milliseconds(40)) {
      ++cut_short;
    }
  }
  EXPECT_GT(fault::Interrupter::SignalsHandled(), before);
  EXPECT_GT(cut_short, 0) << "no wait was interrupted";
  EXPECT_EQ(recv.completions(), 0);
  std::thread writer([fd = y] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    EXPECT_EQ(write(fd, "after", 5), 5);
  });
  ASSERT_TRUE(WaitUntil(b, [&] { return recv.completions() > 0; }));
  writer.join();
  EXPECT_EQ(recv.res, 5);
  EXPECT_EQ(recv.callbacks, 1);
}

// accept_error: the accept fails with a transient error, and the
// connection stays queued for the next accept.
TEST_F(FaultLayerTest, AnAcceptErrorLeavesTheConnectionQueued) {
  FaultRates failing = NoFaults();
  failing.accept_error = 1;
  Backend& b = Make(failing);
  sockaddr_in addr;
  int listener = Listener(&addr);
  int client =
      Track(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));  // blocking
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
            0);
  CountedOp accept;
  accept.kind = OpKind::kAccept;
  accept.fd = listener;
  Start(b, accept);
  ASSERT_TRUE(WaitUntil(b, [&] { return accept.completions() > 0; }));
  EXPECT_TRUE(accept.res == -ENOBUFS || accept.res == -ECONNABORTED)
      << accept.res;
  Backend& ok = Make(NoFaults());
  CountedOp again;
  again.kind = OpKind::kAccept;
  again.fd = listener;
  Start(ok, again);
  ASSERT_TRUE(WaitUntil(ok, [&] { return again.completions() > 0; }));
  ASSERT_GE(again.res, 0) << std::strerror(-again.res);
  Track(again.res);
}

// spurious_return, spurious_wake: Wait(-1) with nothing to do returns.
TEST_F(FaultLayerTest, SpuriousReturnsEndAnEndlessWait) {
  FaultRates r = NoFaults();
  r.spurious_return = 1;
  Backend& b = Make(r);
  auto [x, y] = SocketPair();
  char buf[4];
  CountedOp recv = StreamOp(OpKind::kRecv, x, buf, sizeof(buf));
  ASSERT_FALSE(Start(b, recv));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(b.Wait(-1), 0);
  EXPECT_EQ(recv.completions(), 0);

  FaultRates w = NoFaults();
  w.spurious_wake = 1;
  Backend& c = Make(w);
  auto [p, q] = SocketPair();
  CountedOp recv2 = StreamOp(OpKind::kRecv, p, buf, sizeof(buf));
  ASSERT_FALSE(Start(c, recv2));  // and a Wake()
  EXPECT_EQ(c.Wait(-1), 0);       // returns: woken
  Drain(b);
  Drain(c);
}

// One seed, one stream name: the same choices, call for call. Another
// seed: others.
TEST_F(FaultLayerTest, TheSameSeedMakesTheSameChoices) {
  FaultRates r = NoFaults();
  r.short_io = 0.5;
  std::string data = Bytes(50'000);
  auto run = [&](uint64_t seed) {
    Backend& b = Make(r, seed, "same seed");
    auto [x, y] = SocketPair();
    return Pump(b, x, y, data);
  };
  Transfer first = run(42);
  Transfer second = run(42);
  Transfer other = run(43);
  EXPECT_EQ(first.received, data);
  EXPECT_EQ(first.sends, second.sends);
  EXPECT_EQ(first.recvs, second.recvs);
  EXPECT_NE(first.sends, other.sends);
}

// Parsing POLYIO_FAULT_RATES.
TEST(FaultConfigTest, RatesParseAndPrintBack) {
  FaultRates r;
  EXPECT_EQ(fault::ParseRates("short_io=0.5,hold=0,max_hold_turns=7", &r),
            std::nullopt);
  EXPECT_EQ(r.short_io, 0.5);
  EXPECT_EQ(r.hold, 0);
  EXPECT_EQ(r.max_hold_turns, 7);
  FaultRates back;
  EXPECT_EQ(fault::ParseRates(fault::DescribeRates(r), &back), std::nullopt);
  EXPECT_EQ(fault::DescribeRates(back), fault::DescribeRates(r));
  EXPECT_NE(fault::ParseRates("shortio=1", &r), std::nullopt);
  EXPECT_NE(fault::ParseRates("hold=2", &r), std::nullopt);
  EXPECT_NE(fault::ParseRates("hold=x", &r), std::nullopt);
  EXPECT_NE(fault::ParseRates("max_hold_turns=0", &r), std::nullopt);
}

}  // namespace
}  // namespace polyio
