// A Waker called from another thread wakes a driver blocked in the backend.
#include <atomic>
#include <chrono>
#include <thread>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

// Pending until `flag` is set; hands its waker to `out` on first poll.
class WaitForFlag {
 public:
  WaitForFlag(std::atomic<bool>* flag, std::atomic<Waker*>* out)
      : flag_(flag), out_(out) {}
  polyio::Poll<int> Poll(Context& cx) {
    if (flag_->load()) return 1;
    if (!published_) {
      waker_ = cx.waker();
      published_ = true;
      out_->store(&waker_);
    }
    return kPending;
  }

 private:
  std::atomic<bool>* flag_;
  std::atomic<Waker*>* out_;
  Waker waker_;
  bool published_ = false;
};

Task<int> AwaitFlag(std::atomic<bool>* flag, std::atomic<Waker*>* out) {
  co_return co_await WaitForFlag(flag, out);
}

TEST_F(ConformanceTest, WakerFromAnotherThreadWakesABlockedDriver) {
  for (int round = 0; round < 20; ++round) {
    std::atomic<bool> flag{false};
    std::atomic<Waker*> waker{nullptr};
    std::atomic<int64_t> woke_at_ns{0};
    std::thread other([&] {
      while (waker.load() == nullptr) std::this_thread::yield();
      // Let the driver go to sleep in the backend (no timers, no I/O).
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      flag.store(true);
      woke_at_ns.store(Now().time_since_epoch().count());
      waker.load()->WakeByRef();
    });
    EXPECT_EQ(rt().BlockOn(AwaitFlag(&flag, &waker)), 1);
    Instant done = Now();
    other.join();
    auto latency = done - Instant(Duration(woke_at_ns.load()));
    // A lost wake hangs the BlockOn (the driver has no periodic tick);
    // a wake that only lands at some fallback timeout (>= 1 s) fails here.
    // Below that, a loaded machine under a sanitizer may take its time.
    EXPECT_LT(latency, std::chrono::milliseconds(500)) << "round " << round;
  }
}

TEST_F(ConformanceTest, TwoWakesBeforeAPollScheduleTheTaskOnce) {
  struct CountPolls {
    int* polls;
    polyio::Poll<int> Poll(Context& cx) {
      if (++*polls == 1) {
        cx.waker().WakeByRef();
        cx.waker().WakeByRef();
        return kPending;
      }
      return *polls;
    }
  };
  int polls = 0;
  EXPECT_EQ(rt().BlockOn([](int* p) -> Task<int> {
    co_return co_await CountPolls{p};
  }(&polls)),
            2);
}

// Two threads each waking the other's task 20,000 times in a row: every
// wake lands while the woken driver is about to sleep, has just woken, or
// is draining its wake-up fd. One lost wake-up hangs the test.
struct Parked {
  Mutex mu;
  Waker waker ABSL_GUARDED_BY(mu);
};

Task<void> Ping(std::atomic<uint64_t>* turn, uint64_t parity, int rounds,
                Parked* mine, Parked* theirs) {
  struct Await {
    std::atomic<uint64_t>* turn;
    uint64_t want;
    Parked* parked;
    polyio::Poll<bool> Poll(Context& cx) {
      MutexLock lock(&parked->mu);
      if (turn->load() == want) return true;
      parked->waker = cx.waker();
      return kPending;
    }
  };
  for (int i = 0; i < rounds; ++i) {
    uint64_t want = 2 * static_cast<uint64_t>(i) + parity;
    co_await Await{turn, want, mine};
    turn->store(want + 1);
    Waker other;
    {
      MutexLock lock(&theirs->mu);
      other = std::move(theirs->waker);
    }
    std::move(other).Wake();
  }
}

TEST_F(ConformanceTest, ManyCrossThreadWakesAreNeverLost) {
  constexpr int kRounds = 20000;
  std::atomic<uint64_t> turn{0};
  Parked a, b;
  std::thread other([&] {
    auto rt2 = Runtime::Create();
    ASSERT_TRUE(rt2.ok());
    (*rt2)->BlockOn(Ping(&turn, 1, kRounds, &b, &a));
  });
  rt().BlockOn(Ping(&turn, 0, kRounds, &a, &b));
  other.join();
  EXPECT_EQ(turn.load(), 2u * kRounds);
}

}  // namespace
}  // namespace polyio::testing
