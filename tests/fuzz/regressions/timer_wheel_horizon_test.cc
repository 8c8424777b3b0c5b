// Regression test (docs/reliability.md, bugs found), found while writing
// timer_wheel_fuzz's model: an entry whose deadline is 2^36 - 2^30 ticks or
// more past the wheel's time (~2.1 years at the runtime's 1 ms tick) can make
// Advance loop forever. Link() clamps it to the top level, in the slot that its
// deadline's bits name; once the wheel's time is in that same slot (one
// 2^36-tick rotation early), NextExpiration reports it due at once, the
// cascade links it back into the same slot, and so on. A deadline 2^36
// ticks ahead (~795 days) hangs the very first Advance; one 3 years ahead
// hangs it ~298 days later. So `co_await polyio::Sleep(days(800))` hangs
// its driver thread at the next turn. Fixed: the wheel now places such an
// entry in the top level's farthest slot and places it again from there.
// A watchdog turns a hang into a failure.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

#include "gtest/gtest.h"
#include "runtime/time/timer_wheel.h"

namespace polyio {
namespace {

TEST(TimerWheelKnownBugTest, AdvanceReturnsWithADeadline800DaysAhead) {
  Instant start = Now();
  TimerEntry entry([](TimerEntry*) {});
  std::mutex mu;
  std::condition_variable cv;
  bool returned = false;
  // The wheel runs on its own thread so that a hang is reported, not
  // waited out; the thread is left behind (detached) if it hangs.
  std::thread driver([&] {
    auto wheel = std::make_unique<TimerWheel>(start);
    // 2^36 ms and a second: the top-level slot of "now".
    wheel->Insert(&entry, start + std::chrono::milliseconds(int64_t{1} << 36) +
                              std::chrono::seconds(1));
    wheel->Advance(start + std::chrono::milliseconds(1));
    wheel->Remove(&entry);
    std::lock_guard<std::mutex> lock(mu);
    returned = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  bool ok =
      cv.wait_for(lock, std::chrono::seconds(5), [&] { return returned; });
  lock.unlock();
  if (ok) {
    driver.join();
  } else {
    driver.detach();
  }
  EXPECT_TRUE(ok) << "TimerWheel::Advance did not return within 5 s";
  if (!ok) std::_Exit(1);  // the detached thread still uses the stack
}

}  // namespace
}  // namespace polyio
