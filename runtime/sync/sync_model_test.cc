// Semaphore and Notify against a model, under random sequences of waits,
// releases, notifications, cancellations and drops. The futures are polled
// by hand, so every interleaving the sequence names is exact and repeatable:
// the seed is printed on failure.
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/sync/notify.h"
#include "runtime/sync/semaphore.h"
#include "runtime/task/context.h"
#include "runtime/task/future.h"
#include "runtime/task/waker.h"

namespace polyio::sync {
namespace {

// A waker that counts how often it was woken.
struct CountingWaker {
  std::atomic<int> wakes{0};

  Waker Get() { return Waker(this, &kVTable); }

  static void* Clone(void* d) { return d; }
  static void WakeIt(void* d) { ++static_cast<CountingWaker*>(d)->wakes; }
  static void Drop(void*) {}
  static constexpr WakerVTable kVTable = {&Clone, &WakeIt, &WakeIt, &Drop};
};

// A future polled by hand, with its own cancellation flag.
template <class F>
struct Probe {
  using Output = FutureOutput<F>;
  explicit Probe(F f) : future(std::move(f)) {}

  bool PollOnce() {
    Waker w = waker.Get();
    int budget = Context::kDefaultBudget;
    Context cx(w, &cancelled, &budget);
    polyio::Poll<Output> p = future.Poll(cx);
    if (p.ready()) result.emplace(std::move(p).value());
    return p.ready();
  }

  F future;
  std::atomic<bool> cancelled{false};
  CountingWaker waker;
  std::optional<Output> result;
};

using AcquireProbe = Probe<Semaphore::AcquireFuture>;

TEST(SemaphoreModelTest, RandomWaitsReleasesCancelsAndDropsMatchTheModel) {
  for (uint32_t seed = 1; seed <= 100; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937 rng(seed);
    const size_t total = 1 + rng() % 5;
    Semaphore sem(total);

    struct Waiter {
      std::unique_ptr<AcquireProbe> probe;
      size_t need;
      bool granted = false;  // per the model
    };
    size_t avail = total;               // model: free permits
    std::deque<Waiter> waiting;         // model: queue, in order
    std::vector<SemaphorePermit> held;  // permits out
    auto grant = [&] {                  // model: hand-off to the head
      for (Waiter& w : waiting) {
        if (w.granted) continue;
        if (w.need > avail) break;
        avail -= w.need;
        w.granted = true;
      }
    };

    for (int step = 0; step < 300; ++step) {
      SCOPED_TRACE(testing::Message() << "step " << step);
      switch (rng() % 5) {
        case 0: {  // a new Acquire
          size_t need = 1 + rng() % total;
          auto probe = std::make_unique<AcquireProbe>(sem.Acquire(need));
          bool none_ahead = true;
          for (Waiter& w : waiting) none_ahead &= w.granted;
          bool expect_now = none_ahead && avail >= need;
          ASSERT_EQ(probe->PollOnce(), expect_now);
          if (expect_now) {
            ASSERT_TRUE(probe->result->ok());
            avail -= need;
            held.push_back(std::move(**probe->result));
          } else {
            waiting.push_back({std::move(probe), need});
          }
          break;
        }
        case 1:  // release a held permit
          if (!held.empty()) {
            size_t i = rng() % held.size();
            avail += held[i].count();
            held.erase(held.begin() + i);
            grant();
          }
          break;
        case 2:    // cancel a waiter and poll it
        case 3: {  // or drop it unpolled
          if (waiting.empty()) break;
          size_t i = rng() % waiting.size();
          Waiter w = std::move(waiting[i]);
          waiting.erase(waiting.begin() + i);
          if (rng() % 2 == 0) {
            w.probe->cancelled = true;
            ASSERT_TRUE(w.probe->PollOnce());
            if (w.granted) {  // granted first: the permits are the result
              ASSERT_TRUE(w.probe->result->ok());
              held.push_back(std::move(**w.probe->result));
            } else {
              ASSERT_TRUE(absl::IsCancelled(w.probe->result->status()));
            }
          } else {
            if (w.granted) avail += w.need;  // returned by the destructor
            w.probe.reset();
          }
          grant();
          break;
        }
        case 4:  // poll every granted waiter: each was woken, each is ready
          for (auto it = waiting.begin(); it != waiting.end();) {
            ASSERT_EQ(it->probe->waker.wakes.load() > 0, it->granted);
            if (!it->granted) {
              ASSERT_FALSE(it->probe->PollOnce());
              ++it;
              continue;
            }
            ASSERT_TRUE(it->probe->PollOnce());
            ASSERT_TRUE(it->probe->result->ok());
            ASSERT_EQ((*it->probe->result)->count(), it->need);
            held.push_back(std::move(**it->probe->result));
            it = waiting.erase(it);
          }
          break;
      }
      ASSERT_EQ(sem.available_permits(), avail);
    }
    held.clear();
    waiting.clear();
    EXPECT_EQ(sem.available_permits(), total);
  }
}

using NotifiedProbe = Probe<Notify::NotifiedFuture>;

TEST(NotifyModelTest, RandomWaitsNotifiesCancelsAndDropsMatchTheModel) {
  for (uint32_t seed = 1; seed <= 100; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937 rng(seed);
    Notify notify;
    enum class How { kNot, kOne, kAll };
    struct Waiter {
      std::unique_ptr<NotifiedProbe> probe;
      How how = How::kNot;  // per the model
      bool notified() const { return how != How::kNot; }
    };
    bool permit = false;  // model: a stored NotifyOne
    std::deque<Waiter> waiting;
    auto notify_one = [&] {
      for (Waiter& w : waiting) {
        if (!w.notified()) {
          w.how = How::kOne;
          return;
        }
      }
      permit = true;
    };

    for (int step = 0; step < 300; ++step) {
      SCOPED_TRACE(testing::Message() << "step " << step);
      switch (rng() % 6) {
        case 0: {
          auto probe = std::make_unique<NotifiedProbe>(notify.Notified());
          bool expect_now = permit;
          ASSERT_EQ(probe->PollOnce(), expect_now);
          if (expect_now) {
            ASSERT_TRUE(probe->result->ok());
            permit = false;
          } else {
            waiting.push_back({std::move(probe)});
          }
          break;
        }
        case 1:
          notify.NotifyOne();
          notify_one();
          break;
        case 2:
          if (rng() % 4 == 0) {
            notify.NotifyAll();
            for (Waiter& w : waiting) {
              if (!w.notified()) w.how = How::kAll;
            }
          }
          break;
        case 3:
        case 4: {
          if (waiting.empty()) break;
          size_t i = rng() % waiting.size();
          Waiter w = std::move(waiting[i]);
          waiting.erase(waiting.begin() + i);
          if (rng() % 2 == 0) {
            w.probe->cancelled = true;
            ASSERT_TRUE(w.probe->PollOnce());
            ASSERT_EQ(w.probe->result->ok(), w.notified());
          } else {
            w.probe.reset();
            // A NotifyOne it never returned goes on; a NotifyAll does not.
            if (w.how == How::kOne) notify_one();
          }
          break;
        }
        case 5:
          for (auto it = waiting.begin(); it != waiting.end();) {
            ASSERT_EQ(it->probe->waker.wakes.load() > 0, it->notified());
            ASSERT_EQ(it->probe->PollOnce(), it->notified());
            if (it->notified()) {
              it = waiting.erase(it);
            } else {
              ++it;
            }
          }
          break;
      }
    }
    // A stored permit is delivered to the next waiter, and only then.
    NotifiedProbe last(notify.Notified());
    bool unnotified_ahead = false;
    for (Waiter& w : waiting) unnotified_ahead |= !w.notified();
    EXPECT_EQ(last.PollOnce(), permit && !unnotified_ahead);
    waiting.clear();
  }
}

}  // namespace
}  // namespace polyio::sync
