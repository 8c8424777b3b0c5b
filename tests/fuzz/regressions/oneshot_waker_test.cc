// Regression test (docs/reliability.md, bugs found), found by channels_fuzz: a
// oneshot Receiver polled once (pending) and then dropped — as when a Timeout
// around `co_await rx` expires — unlinks its wait node but leaves the waker in
// it. The node lives in the channel's shared state (oneshot.h), so that clone
// of the task's waker, a reference to the task, lives on until the Sender
// is destroyed too: a dropped future should let go of its waker. Fixed:
// the Receiver now takes the waker out of its node whenever it stops
// waiting.
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "runtime/sync/oneshot.h"
#include "runtime/task/context.h"
#include "runtime/task/waker.h"

namespace polyio::sync {
namespace {

struct CountedWaker {
  int clones = 0;
  static void* Clone(void* d) {
    ++static_cast<CountedWaker*>(d)->clones;
    return d;
  }
  static void Drop(void* d) { --static_cast<CountedWaker*>(d)->clones; }
  static void Wake(void* d) { Drop(d); }
  static void WakeByRef(void*) {}
  static constexpr WakerVTable kVTable = {&Clone, &Wake, &WakeByRef, &Drop};
};

TEST(OneshotKnownBugTest, DroppedReceiverLetsGoOfItsWaker) {
  CountedWaker counted;
  auto [tx, rx] = oneshot::Channel<std::string>();
  {
    oneshot::Receiver<std::string> receiver = std::move(rx);
    ++counted.clones;  // the waker below
    Waker waker(&counted, &CountedWaker::kVTable);
    int budget = Context::kDefaultBudget;
    Context cx(waker, nullptr, &budget);
    ASSERT_TRUE(receiver.Poll(cx).pending());
  }  // the receiver and the task's own waker are gone
  EXPECT_EQ(counted.clones, 0) << "the channel still holds a waker clone";
  tx.Send("late").IgnoreError();
}

}  // namespace
}  // namespace polyio::sync
