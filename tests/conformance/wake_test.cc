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
    EXPECT_LT(latency, std::chrono::milliseconds(100)) << "round " << round;
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

}  // namespace
}  // namespace polyio::testing
