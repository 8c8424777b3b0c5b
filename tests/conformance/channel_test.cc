// polyio::sync channels: ping-pong across threads through every kind, in
// order; closing from either end; broadcast lag; bounded backpressure; sends
// and receives cancelled at random points losing and doubling nothing.
//
// The cross-thread cases run one end on rt() and the other on a second
// Runtime on its own thread; they hold on a multi-thread rt() as well.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr int kPings = 300;
constexpr uint32_t kSeed = 20261126;

absl::Status Mismatch(const char* what, int64_t want, int64_t got) {
  return absl::InternalError(
      absl::StrCat(what, ": expected ", want, ", got ", got));
}

// Polls the future it points to, so that a Timeout can race it while the
// caller keeps it (to take an unsent value back).
template <class F>
struct ByRef {
  F* f;
  auto Poll(Context& cx) { return f->Poll(cx); }
};

// --- Ping-pong across threads, one case per channel kind ---------------

template <class Tx, class Rx>
Task<absl::Status> MpscPinger(Tx tx, Rx rx) {
  for (int i = 0; i < kPings; ++i) {
    absl::Status s;
    if constexpr (requires { tx.TrySend(i); }) {
      s = co_await tx.Send(i);
    } else {
      s = tx.Send(i);
    }
    if (!s.ok()) co_return s;
    absl::StatusOr<int> back = co_await rx.Recv();
    if (!back.ok()) co_return back.status();
    if (*back != i) co_return Mismatch("pong", i, *back);
  }
  co_return absl::OkStatus();
}

template <class Tx, class Rx>
Task<absl::Status> MpscPonger(Tx tx, Rx rx) {
  for (int i = 0;; ++i) {
    absl::StatusOr<int> v = co_await rx.Recv();
    if (absl::IsOutOfRange(v.status())) {  // the pinger is done
      co_return i == kPings ? absl::OkStatus() : Mismatch("pings", kPings, i);
    }
    if (!v.ok()) co_return v.status();
    if (*v != i) co_return Mismatch("ping", i, *v);
    absl::Status s;
    if constexpr (requires { tx.TrySend(*v); }) {
      s = co_await tx.Send(*v);
    } else {
      s = tx.Send(*v);
    }
    if (!s.ok()) co_return s;
  }
}

// Runs `pinger` on rt() and `ponger` on another thread; both must end OK.
void PingPong(Runtime& rt, std::function<Task<absl::Status>()> pinger,
              std::function<Task<absl::Status>()> ponger) {
  OtherThread other(std::move(ponger));
  absl::Status s = rt.BlockOn(pinger());
  EXPECT_TRUE(s.ok()) << s;
  absl::Status o = other.Join();
  EXPECT_TRUE(o.ok()) << o;
}

TEST_F(ConformanceTest, BoundedMpscPingPongsAcrossThreadsInOrder) {
  auto ping = sync::mpsc::Channel<int>(1);
  auto pong = sync::mpsc::Channel<int>(1);
  PingPong(
      rt(),
      [&] { return MpscPinger(std::move(ping.first), std::move(pong.second)); },
      [&] {
        return MpscPonger(std::move(pong.first), std::move(ping.second));
      });
}

TEST_F(ConformanceTest, UnboundedMpscPingPongsAcrossThreadsInOrder) {
  auto ping = sync::mpsc::UnboundedChannel<int>();
  auto pong = sync::mpsc::UnboundedChannel<int>();
  PingPong(
      rt(),
      [&] { return MpscPinger(std::move(ping.first), std::move(pong.second)); },
      [&] {
        return MpscPonger(std::move(pong.first), std::move(ping.second));
      });
}

TEST_F(ConformanceTest, OneshotPingPongsAcrossThreadsInOrder) {
  using Pair =
      std::pair<sync::oneshot::Sender<int>, sync::oneshot::Receiver<int>>;
  std::vector<Pair> pings, pongs;
  for (int i = 0; i < kPings; ++i) {
    pings.push_back(sync::oneshot::Channel<int>());
    pongs.push_back(sync::oneshot::Channel<int>());
  }
  // Each side touches only its own halves of the pairs.
  PingPong(
      rt(),
      [&]() -> Task<absl::Status> {
        return [](std::vector<Pair>* pings,
                  std::vector<Pair>* pongs) -> Task<absl::Status> {
          for (int i = 0; i < kPings; ++i) {
            absl::Status s = (*pings)[i].first.Send(i);
            if (!s.ok()) co_return s;
            absl::StatusOr<int> back = co_await (*pongs)[i].second;
            if (!back.ok()) co_return back.status();
            if (*back != i) co_return Mismatch("pong", i, *back);
          }
          co_return absl::OkStatus();
        }(&pings, &pongs);
      },
      [&]() -> Task<absl::Status> {
        return [](std::vector<Pair>* pings,
                  std::vector<Pair>* pongs) -> Task<absl::Status> {
          for (int i = 0; i < kPings; ++i) {
            absl::StatusOr<int> v = co_await (*pings)[i].second;
            if (!v.ok()) co_return v.status();
            if (*v != i) co_return Mismatch("ping", i, *v);
            absl::Status s = (*pongs)[i].first.Send(*v);
            if (!s.ok()) co_return s;
          }
          co_return absl::OkStatus();
        }(&pings, &pongs);
      });
}

TEST_F(ConformanceTest, BroadcastPingPongsAcrossThreadsInOrder) {
  // Two subscribers to the pings, one per thread: each sees every value.
  auto ping = sync::broadcast::Channel<int>(2);
  auto pong = sync::broadcast::Channel<int>(2);
  sync::broadcast::Receiver<int> local_ping = ping.first.Subscribe();
  PingPong(
      rt(),
      [&]() -> Task<absl::Status> {
        return [](sync::broadcast::Sender<int> tx,
                  sync::broadcast::Receiver<int> rx,
                  sync::broadcast::Receiver<int> echo) -> Task<absl::Status> {
          for (int i = 0; i < kPings; ++i) {
            absl::StatusOr<size_t> n = tx.Send(i);
            if (!n.ok()) co_return n.status();
            absl::StatusOr<int> mine = co_await echo.Recv();
            if (!mine.ok()) co_return mine.status();
            if (*mine != i) co_return Mismatch("own ping", i, *mine);
            absl::StatusOr<int> back = co_await rx.Recv();
            if (!back.ok()) co_return back.status();
            if (*back != i) co_return Mismatch("pong", i, *back);
          }
          co_return absl::OkStatus();
        }(std::move(ping.first), std::move(pong.second), std::move(local_ping));
      },
      [&]() -> Task<absl::Status> {
        return [](sync::broadcast::Sender<int> tx,
                  sync::broadcast::Receiver<int> rx) -> Task<absl::Status> {
          for (int i = 0;; ++i) {
            absl::StatusOr<int> v = co_await rx.Recv();
            if (absl::IsOutOfRange(v.status())) {
              co_return i == kPings ? absl::OkStatus()
                                    : Mismatch("pings", kPings, i);
            }
            if (!v.ok()) co_return v.status();
            if (*v != i) co_return Mismatch("ping", i, *v);
            absl::StatusOr<size_t> n = tx.Send(*v);
            if (!n.ok()) co_return n.status();
          }
        }(std::move(pong.first), std::move(ping.second));
      });
}

TEST_F(ConformanceTest, WatchPingPongsAcrossThreadsInOrder) {
  auto ping = sync::watch::Channel<int>(-1);
  auto pong = sync::watch::Channel<int>(-1);
  PingPong(
      rt(),
      [&]() -> Task<absl::Status> {
        return [](sync::watch::Sender<int> tx,
                  sync::watch::Receiver<int> rx) -> Task<absl::Status> {
          for (int i = 0; i < kPings; ++i) {
            absl::Status s = tx.Send(i);
            if (!s.ok()) co_return s;
            s = co_await rx.Changed();
            if (!s.ok()) co_return s;
            int back = rx.BorrowAndUpdate();
            if (back != i) co_return Mismatch("pong", i, back);
          }
          co_return absl::OkStatus();
        }(std::move(ping.first), std::move(pong.second));
      },
      [&]() -> Task<absl::Status> {
        return [](sync::watch::Sender<int> tx,
                  sync::watch::Receiver<int> rx) -> Task<absl::Status> {
          for (int i = 0;; ++i) {
            absl::Status s = co_await rx.Changed();
            if (absl::IsOutOfRange(s)) {
              co_return i == kPings ? absl::OkStatus()
                                    : Mismatch("pings", kPings, i);
            }
            if (!s.ok()) co_return s;
            int v = rx.BorrowAndUpdate();
            if (v != i) co_return Mismatch("ping", i, v);
            s = tx.Send(v);
            if (!s.ok()) co_return s;
          }
        }(std::move(pong.first), std::move(ping.second));
      });
}

// --- Closing ------------------------------------------------------------

TEST_F(ConformanceTest, MpscReceiverSeesEveryValueThenTheEndWhenSendersGo) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    auto [tx, rx] = sync::mpsc::Channel<int>(4);
    {
      sync::mpsc::Sender<int> copy = tx;  // senders are counted
      if (absl::Status s = copy.TrySend(1); !s.ok()) co_return s;
      if (absl::Status s = co_await tx.Send(2); !s.ok()) co_return s;
      sync::mpsc::Sender<int> gone = std::move(tx);
    }
    for (int want : {1, 2}) {
      absl::StatusOr<int> v = co_await rx.Recv();
      if (!v.ok()) co_return v.status();
      if (*v != want) co_return Mismatch("value", want, *v);
    }
    absl::StatusOr<int> end = co_await rx.Recv();
    if (!absl::IsOutOfRange(end.status())) {
      co_return absl::InternalError(end.status().ToString());
    }
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, MpscSendersGetTheirValueBackWhenTheReceiverGoes) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    auto [tx, rx] = sync::mpsc::Channel<std::string>(1);
    auto [utx, urx] = sync::mpsc::UnboundedChannel<std::string>();
    if (absl::Status s = tx.TrySend(std::string("queued")); !s.ok())
      co_return s;
    // A Send waiting for the full channel's only slot.
    JoinHandle<absl::StatusOr<std::string>> waiting =
        Spawn([](sync::mpsc::Sender<std::string>* tx)
                  -> Task<absl::StatusOr<std::string>> {
          auto send = tx->Send("waiting");
          absl::Status s = co_await ByRef<decltype(send)>{&send};
          if (s.ok()) co_return absl::InternalError("sent to nobody");
          if (!absl::IsFailedPrecondition(s)) co_return s;
          std::optional<std::string> back = send.TakeUnsent();
          if (!back.has_value()) co_return absl::InternalError("value lost");
          co_return *back;
        }(&tx));
    (void)co_await Yield();
    { auto dropped = std::move(rx); }
    { auto dropped = std::move(urx); }
    absl::StatusOr<std::string> back = co_await waiting;
    if (!back.ok()) co_return back.status();
    if (*back != "waiting") co_return absl::InternalError(*back);
    std::string v = "kept";
    absl::Status t = tx.TrySend(std::move(v));
    if (!absl::IsFailedPrecondition(t) || v != "kept" || !tx.IsClosed()) {
      co_return absl::InternalError(absl::StrCat("try_send: ", t.ToString()));
    }
    std::string u = "kept";
    absl::Status us = utx.Send(std::move(u));
    if (!absl::IsFailedPrecondition(us) || u != "kept") {
      co_return absl::InternalError(absl::StrCat("unbounded: ", us.ToString()));
    }
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, MpscCloseRefusesNewValuesButDeliversQueuedOnes) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    auto [tx, rx] = sync::mpsc::UnboundedChannel<int>();
    if (absl::Status s = tx.Send(7); !s.ok()) co_return s;
    rx.Close();
    if (!absl::IsFailedPrecondition(tx.Send(8))) {
      co_return absl::InternalError("sent after Close");
    }
    absl::StatusOr<int> v = co_await rx.Recv();
    if (!v.ok() || *v != 7) co_return absl::InternalError("queued value lost");
    absl::StatusOr<int> end = co_await rx.Recv();
    if (!absl::IsOutOfRange(end.status())) co_return end.status();
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, OneshotEndsWhenEitherSideGoes) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    {
      auto [tx, rx] = sync::oneshot::Channel<int>();
      { auto dropped = std::move(tx); }
      absl::StatusOr<int> v = co_await rx;
      if (!absl::IsOutOfRange(v.status())) co_return v.status();
    }
    {
      auto [tx, rx] = sync::oneshot::Channel<std::string>();
      { auto dropped = std::move(rx); }
      std::string v = "kept";
      absl::Status sent = tx.Send(std::move(v));
      if (!absl::IsFailedPrecondition(sent) || v != "kept") {
        co_return absl::InternalError(sent.ToString());
      }
    }
    {
      // Sent, then the sender goes: the value still arrives.
      auto [tx, rx] = sync::oneshot::Channel<int>();
      if (absl::Status s = tx.Send(5); !s.ok()) co_return s;
      { auto dropped = std::move(tx); }
      absl::StatusOr<int> v = co_await rx;
      if (!v.ok() || *v != 5) co_return absl::InternalError("value lost");
    }
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, BroadcastEndsAfterTheRetainedValuesWhenSendersGo) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    auto [tx, rx] = sync::broadcast::Channel<int>(4);
    sync::broadcast::Receiver<int> rx2 = tx.Subscribe();
    absl::StatusOr<size_t> n = tx.Send(1);
    if (!n.ok() || *n != 2) co_return absl::InternalError("receiver count");
    { auto dropped = std::move(tx); }
    for (auto* r : {&rx, &rx2}) {
      absl::StatusOr<int> v = co_await r->Recv();
      if (!v.ok() || *v != 1) co_return absl::InternalError("value lost");
      absl::StatusOr<int> end = co_await r->Recv();
      if (!absl::IsOutOfRange(end.status())) co_return end.status();
    }
    auto [tx3, rx3] = sync::broadcast::Channel<int>(4);
    { auto dropped = std::move(rx3); }
    int v = 9;
    if (!absl::IsFailedPrecondition(tx3.Send(v).status())) {
      co_return absl::InternalError("sent with no receivers");
    }
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, ALaggingBroadcastReceiverIsToldHowManyItMissed) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    auto [tx, rx] = sync::broadcast::Channel<int>(4);
    for (int i = 0; i < 10; ++i) {
      if (absl::StatusOr<size_t> n = tx.Send(i); !n.ok()) co_return n.status();
    }
    absl::StatusOr<int> lag = co_await rx.Recv();
    if (!sync::broadcast::IsLagged(lag.status()) ||
        sync::broadcast::MissedCount(lag.status()) != 6) {
      co_return absl::InternalError(lag.status().ToString());
    }
    for (int want = 6; want < 10; ++want) {  // on from the oldest retained
      absl::StatusOr<int> v = co_await rx.Recv();
      if (!v.ok()) co_return v.status();
      if (*v != want) co_return Mismatch("value", want, *v);
    }
    if (!absl::IsUnavailable(rx.TryRecv().status())) {
      co_return absl::InternalError("more values than sent");
    }
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, WatchReportsTheLastValueThenTheEnd) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    auto [tx, rx] = sync::watch::Channel<int>(0);
    for (int i = 1; i <= 3; ++i) {
      if (absl::Status s = tx.Send(i); !s.ok()) co_return s;
    }
    { auto dropped = std::move(tx); }
    // Only the latest counts, and it is reported although the sender went.
    if (absl::Status c = co_await rx.Changed(); !c.ok()) co_return c;
    if (rx.BorrowAndUpdate() != 3) co_return absl::InternalError("not latest");
    absl::Status end = co_await rx.Changed();
    if (!absl::IsOutOfRange(end)) co_return end;
    auto [tx2, rx2] = sync::watch::Channel<int>(0);
    { auto dropped = std::move(rx2); }
    int v = 4;
    if (!absl::IsFailedPrecondition(tx2.Send(v)) || tx2.Borrow() != 0) {
      co_return absl::InternalError("sent with no receivers");
    }
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

// --- Backpressure and cancellation ----------------------------------------

TEST_F(ConformanceTest, ABoundedChannelHoldsSendersBackWhileFull) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    auto [tx, rx] = sync::mpsc::Channel<int>(2);
    if (absl::Status s = tx.TrySend(0); !s.ok()) co_return s;
    if (absl::Status s = co_await tx.Send(1); !s.ok()) co_return s;
    if (!absl::IsResourceExhausted(tx.TrySend(2))) {
      co_return absl::InternalError("a full channel took a third value");
    }
    // A Send times out while full: it neither sends nor keeps a slot.
    absl::Status late = co_await Timeout(milliseconds(2), tx.Send(99));
    if (!absl::IsDeadlineExceeded(late)) co_return late;
    // A waiting Send completes once a slot frees, after the queued values.
    JoinHandle<absl::Status> sender =
        Spawn([](sync::mpsc::Sender<int> tx) -> Task<absl::Status> {
          co_return co_await tx.Send(2);
        }(tx));
    for (int want = 0; want < 3; ++want) {
      absl::StatusOr<int> v = co_await Timeout(milliseconds(5000), rx.Recv());
      if (!v.ok()) co_return v.status();
      if (*v != want) co_return Mismatch("value", want, *v);
    }
    if (absl::Status sent = co_await sender; !sent.ok()) co_return sent;
    // Every slot is free again.
    if (absl::Status a = tx.TrySend(3); !a.ok()) co_return a;
    if (absl::Status b = tx.TrySend(4); !b.ok()) co_return b;
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

constexpr int kValues = 300;

// Sends 0..kValues-1, each Send raced by a random timeout and retried with
// the value it gives back.
Task<absl::Status> CancelledSender(sync::mpsc::Sender<int> tx, uint32_t seed) {
  std::mt19937 rng(seed);
  for (int i = 0; i < kValues;) {
    auto send = tx.Send(i);
    absl::Status s;
    if (rng() % 2 == 0) {
      s = co_await Timeout(microseconds(rng() % 3 == 0 ? 0 : rng() % 200),
                           ByRef<decltype(send)>{&send});
    } else {
      s = co_await ByRef<decltype(send)>{&send};
    }
    std::optional<int> back = send.TakeUnsent();
    if (s.ok()) {
      if (back.has_value()) co_return absl::InternalError("sent and kept");
      ++i;
    } else if (absl::IsDeadlineExceeded(s)) {
      if (back != i) co_return absl::InternalError("value lost on timeout");
    } else {
      co_return s;
    }
  }
  co_return absl::OkStatus();
}

// Receives with random timeouts until the end; every value once, in order.
Task<absl::Status> CancelledReceiver(sync::mpsc::Receiver<int> rx,
                                     uint32_t seed) {
  std::mt19937 rng(seed);
  int next = 0;
  for (;;) {
    // (An if, not ?: — g++ 12 miscompiles co_await inside a conditional
    // expression.)
    absl::StatusOr<int> v;
    if (rng() % 2 == 0) {
      v = co_await Timeout(microseconds(rng() % 3 == 0 ? 0 : rng() % 200),
                           rx.Recv());
    } else {
      v = co_await rx.Recv();
    }
    if (absl::IsDeadlineExceeded(v.status())) continue;
    if (absl::IsOutOfRange(v.status())) {
      co_return next == kValues ? absl::OkStatus()
                                : Mismatch("values", kValues, next);
    }
    if (!v.ok()) co_return v.status();
    if (*v != next) co_return Mismatch("value", next, *v);
    ++next;
  }
}

TEST_F(ConformanceTest, CancelledSendsAndReceivesLoseAndDoubleNothing) {
  SCOPED_TRACE(::testing::Message() << "seed " << kSeed);
  auto [tx, rx] = sync::mpsc::Channel<int>(2);
  // Named: clang 14 cannot capture a structured binding.
  sync::mpsc::Receiver<int>& receiver = rx;
  OtherThread other([&receiver] {
    return CancelledReceiver(std::move(receiver), kSeed + 1);
  });
  absl::Status s = rt().BlockOn(CancelledSender(std::move(tx), kSeed));
  EXPECT_TRUE(s.ok()) << s;
  absl::Status r = other.Join();
  EXPECT_TRUE(r.ok()) << r;
}

}  // namespace
}  // namespace polyio::testing
