// polyio::sync primitives: exclusion, permits, notifications, barriers and
// events, across threads, with waiters cancelled at random points.
//
// The cross-thread cases share a primitive between rt() and a second
// Runtime on its own thread, so wakers go both ways between threads; every
// counter the tasks share is atomic, so the cases hold on a multi-thread
// rt() as well.
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

// The fixed seed of the randomized cases (printed on failure).
constexpr uint32_t kSeed = 20261126;

// Awaits `f` with one of: no limit, an immediate timeout (the waiter is
// cancelled right after it queued), or a timeout of up to 300 us.
template <class F>
Task<FutureOutput<F>> MaybeTimeout(F f, std::mt19937* rng) {
  switch ((*rng)() % 3) {
    case 0:
      co_return co_await f;
    case 1:
      co_return co_await Timeout(microseconds(0), std::move(f));
    default:
      co_return co_await Timeout(microseconds((*rng)() % 300), std::move(f));
  }
}

// Spawns `workers` tasks made by `make(seed)` and aborts about half of them
// at random points; returns how many ended other than OK or cancelled.
Task<int> RunAndAbortSome(std::function<Task<absl::Status>(uint32_t)> make,
                          uint32_t seed, int workers) {
  std::mt19937 rng(seed);
  std::vector<JoinHandle<absl::Status>> handles;
  for (int i = 0; i < workers; ++i) handles.push_back(Spawn(make(rng())));
  for (int i = 0; i < workers / 2; ++i) {
    for (int y = rng() % 40; y > 0; --y) (void)co_await Yield();
    handles[rng() % handles.size()].Abort();
  }
  int bad = 0;
  for (auto& h : handles) {
    absl::Status s = co_await h;
    if (!s.ok() && !absl::IsCancelled(s)) ++bad;
  }
  co_return bad;
}

struct MutexChaos {
  sync::Mutex<int64_t> mutex{0};
  std::atomic<int> inside{0};
  std::atomic<int64_t> entered{0};
  std::atomic<int> overlaps{0};
};

Task<absl::Status> MutexWorker(MutexChaos* c, uint32_t seed) {
  std::mt19937 rng(seed);
  for (int i = 0; i < 60; ++i) {
    absl::StatusOr<sync::MutexGuard<int64_t>> g =
        co_await MaybeTimeout(c->mutex.Lock(), &rng);
    if (absl::IsCancelled(g.status())) co_return g.status();  // aborted
    if (!g.ok()) continue;                                    // timed out
    if (c->inside.fetch_add(1) != 0) ++c->overlaps;
    ++**g;
    ++c->entered;
    if (rng() % 2 == 0) (void)co_await Yield();  // hold it across a switch
    c->inside.fetch_sub(1);
  }
  co_return absl::OkStatus();
}

TEST_F(ConformanceTest, MutexStaysConsistentWhenWaitersAreCancelledAtRandom) {
  SCOPED_TRACE(::testing::Message() << "seed " << kSeed);
  MutexChaos c;
  auto make = [&c](uint32_t s) { return MutexWorker(&c, s); };
  OtherThread other([&] {
    return [](std::function<Task<absl::Status>(uint32_t)> m)
               -> Task<absl::Status> {
      int bad = co_await RunAndAbortSome(m, kSeed + 1, 6);
      co_return bad == 0 ? absl::OkStatus()
                         : absl::InternalError("worker failed");
    }(make);
  });
  EXPECT_EQ(rt().BlockOn(RunAndAbortSome(make, kSeed, 6)), 0);
  EXPECT_TRUE(other.Join().ok());
  EXPECT_EQ(c.overlaps.load(), 0);
  std::optional<sync::MutexGuard<int64_t>> g = c.mutex.TryLock();
  ASSERT_TRUE(g.has_value()) << "the lock was lost";
  EXPECT_EQ(**g, c.entered.load());
  EXPECT_GT(c.entered.load(), 0);
  g.reset();
  absl::Status relock = rt().BlockOn([](MutexChaos* c) -> Task<absl::Status> {
    absl::StatusOr<sync::MutexGuard<int64_t>> g =
        co_await Timeout(milliseconds(5000), c->mutex.Lock());
    co_return g.status();
  }(&c));
  EXPECT_TRUE(relock.ok()) << relock;
}

struct SemaphoreChaos {
  static constexpr size_t kPermits = 3;
  sync::Semaphore sem{kPermits};
  std::atomic<int64_t> held{0};
  std::atomic<int> over{0};
  std::atomic<int64_t> acquired{0};
};

Task<absl::Status> SemaphoreWorker(SemaphoreChaos* c, uint32_t seed) {
  std::mt19937 rng(seed);
  for (int i = 0; i < 60; ++i) {
    const size_t n = 1 + rng() % SemaphoreChaos::kPermits;
    absl::StatusOr<sync::SemaphorePermit> p =
        co_await MaybeTimeout(c->sem.Acquire(n), &rng);
    if (absl::IsCancelled(p.status())) co_return p.status();
    if (!p.ok()) continue;
    if (p->count() != n) co_return absl::InternalError("wrong permit count");
    if (c->held.fetch_add(n) + static_cast<int64_t>(n) >
        static_cast<int64_t>(SemaphoreChaos::kPermits)) {
      ++c->over;
    }
    ++c->acquired;
    if (rng() % 2 == 0) (void)co_await Yield();
    c->held.fetch_sub(n);
  }
  co_return absl::OkStatus();
}

TEST_F(ConformanceTest,
       SemaphoreStaysConsistentWhenWaitersAreCancelledAtRandom) {
  SCOPED_TRACE(::testing::Message() << "seed " << kSeed);
  SemaphoreChaos c;
  auto make = [&c](uint32_t s) { return SemaphoreWorker(&c, s); };
  OtherThread other([&] {
    return [](std::function<Task<absl::Status>(uint32_t)> m)
               -> Task<absl::Status> {
      int bad = co_await RunAndAbortSome(m, kSeed + 3, 6);
      co_return bad == 0 ? absl::OkStatus()
                         : absl::InternalError("worker failed");
    }(make);
  });
  EXPECT_EQ(rt().BlockOn(RunAndAbortSome(make, kSeed + 2, 6)), 0);
  EXPECT_TRUE(other.Join().ok());
  EXPECT_EQ(c.over.load(), 0);
  EXPECT_GT(c.acquired.load(), 0);
  EXPECT_EQ(c.sem.available_permits(), SemaphoreChaos::kPermits);
  EXPECT_TRUE(c.sem.TryAcquire(SemaphoreChaos::kPermits).ok());
}

struct NotifyChaos {
  static constexpr int kNotifications = 150;
  sync::Notify notify;
  std::atomic<int> received{0};
  std::atomic<bool> stop{false};
};

// Waits for notifications until told to stop; counts those it receives.
Task<absl::Status> NotifyConsumer(NotifyChaos* c, uint32_t seed) {
  std::mt19937 rng(seed);
  for (;;) {
    // Made before the check: a NotifyAll after the check still reaches it.
    sync::Notify::NotifiedFuture n = c->notify.Notified();
    if (c->stop.load()) co_return absl::OkStatus();
    absl::Status s = co_await MaybeTimeout(std::move(n), &rng);
    if (absl::IsCancelled(s)) co_return s;  // aborted
    if (s.ok() && !c->stop.load()) ++c->received;
  }
}

// Sends the notifications one at a time (so none can merge into a stored
// permit), aborting a random consumer now and then; each must be received
// exactly once.
Task<absl::Status> NotifyProducer(NotifyChaos* c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<JoinHandle<absl::Status>> consumers;
  for (int i = 0; i < 3; ++i)
    consumers.push_back(Spawn(NotifyConsumer(c, rng())));
  const Instant give_up = Now() + std::chrono::seconds(20);
  absl::Status result;
  for (int i = 0; i < NotifyChaos::kNotifications && result.ok(); ++i) {
    c->notify.NotifyOne();
    if (rng() % 3 == 0) {
      JoinHandle<absl::Status>& h = consumers[rng() % consumers.size()];
      h.Abort();
      (void)co_await h;
      h = Spawn(NotifyConsumer(c, rng()));
    }
    while (c->received.load() < i + 1) {
      if (Now() > give_up) {
        result = absl::InternalError(absl::StrCat("notification ", i, " lost"));
        break;
      }
      (void)co_await Yield();
    }
    if (c->received.load() > i + 1) {
      result =
          absl::InternalError(absl::StrCat("notification ", i, " doubled"));
    }
  }
  c->stop.store(true);
  c->notify.NotifyAll();
  for (auto& h : consumers) (void)co_await h;
  co_return result;
}

TEST_F(ConformanceTest, NotifyLosesNothingWhenWaitersAreCancelledAtRandom) {
  SCOPED_TRACE(::testing::Message() << "seed " << kSeed);
  NotifyChaos c;
  OtherThread other([&c] {
    return [](NotifyChaos* c) -> Task<absl::Status> {
      std::vector<JoinHandle<absl::Status>> hs;
      for (uint32_t i = 0; i < 2; ++i)
        hs.push_back(Spawn(NotifyConsumer(c, kSeed + 10 + i)));
      absl::Status all;
      for (auto& h : hs) all.Update(co_await h);
      co_return all;
    }(&c);
  });
  absl::Status produced = rt().BlockOn(NotifyProducer(&c, kSeed + 4));
  EXPECT_TRUE(produced.ok()) << produced;
  // A consumer on the other thread may have missed `stop` and be waiting.
  c.notify.NotifyAll();
  EXPECT_TRUE(other.Join().ok());
  EXPECT_EQ(c.received.load(), NotifyChaos::kNotifications);
  // A notification stored with nobody waiting is delivered to the next
  // waiter, and only one is stored.
  c.notify.NotifyOne();
  c.notify.NotifyOne();
  absl::Status first = rt().BlockOn([](sync::Notify* n) -> Task<absl::Status> {
    co_return co_await Timeout(milliseconds(5000), n->Notified());
  }(&c.notify));
  EXPECT_TRUE(first.ok()) << first;
  absl::Status second = rt().BlockOn([](sync::Notify* n) -> Task<absl::Status> {
    co_return co_await Timeout(milliseconds(2), n->Notified());
  }(&c.notify));
  EXPECT_TRUE(absl::IsDeadlineExceeded(second)) << second;
}

TEST_F(ConformanceTest, NotifyAllWakesTheCurrentWaitersAndStoresNothing) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    sync::Notify n;
    sync::Event all_waiting;
    std::atomic<int> started{0};
    auto waiter = [](sync::Notify* n, std::atomic<int>* started,
                     sync::Event* all) -> Task<absl::Status> {
      sync::Notify::NotifiedFuture f = n->Notified();  // counts from here
      if (++*started == 3) all->Set();
      co_return co_await f;
    };
    std::vector<JoinHandle<absl::Status>> hs;
    for (int i = 0; i < 3; ++i)
      hs.push_back(Spawn(waiter(&n, &started, &all_waiting)));
    absl::Status ready = co_await all_waiting.Wait();
    if (!ready.ok()) co_return ready;
    n.NotifyAll();
    for (auto& h : hs) {
      absl::Status r = co_await Timeout(milliseconds(5000), std::move(h));
      if (!r.ok()) co_return r;
    }
    // No permit was stored: a new waiter waits.
    absl::Status late = co_await Timeout(milliseconds(2), n.Notified());
    if (!absl::IsDeadlineExceeded(late)) {
      co_return absl::InternalError("NotifyAll stored a permit");
    }
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, ClosingASemaphoreFailsItsWaitersAndKeepsItsCount) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    sync::Semaphore sem(2);
    absl::StatusOr<sync::SemaphorePermit> held = co_await sem.Acquire(2);
    if (!held.ok()) co_return held.status();
    JoinHandle<absl::StatusOr<size_t>> waiter =
        Spawn([](sync::Semaphore* sem) -> Task<absl::StatusOr<size_t>> {
          absl::StatusOr<sync::SemaphorePermit> p = co_await sem->Acquire(1);
          if (!p.ok()) co_return p.status();
          co_return p->count();
        }(&sem));
    (void)co_await Yield();
    sem.Close();
    absl::StatusOr<size_t> w = co_await waiter;
    if (!absl::IsFailedPrecondition(w.status())) {
      co_return absl::InternalError(
          absl::StrCat("waiter got ", w.status().ToString()));
    }
    if (!absl::IsFailedPrecondition(sem.TryAcquire(1).status())) {
      co_return absl::InternalError("TryAcquire on a closed semaphore");
    }
    held->Release();
    if (sem.available_permits() != 2)
      co_return absl::InternalError("permits lost");
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, BarrierReleasesEachGroupWithExactlyOneLeader) {
  constexpr int kParties = 4, kRounds = 5;
  sync::Barrier barrier(kParties);
  std::atomic<int> leaders{0}, passed{0};
  auto party = [](sync::Barrier* b, std::atomic<int>* leaders,
                  std::atomic<int>* passed) -> Task<absl::Status> {
    for (int r = 0; r < kRounds; ++r) {
      absl::StatusOr<sync::BarrierWaitResult> w = co_await b->Wait();
      if (!w.ok()) co_return w.status();
      if (w->is_leader()) ++*leaders;
      ++*passed;
    }
    co_return absl::OkStatus();
  };
  // Half the parties on another thread.
  OtherThread other([&] {
    return [](auto party, sync::Barrier* b, std::atomic<int>* l,
              std::atomic<int>* p) -> Task<absl::Status> {
      JoinHandle<absl::Status> h = Spawn(party(b, l, p));
      absl::Status s = co_await party(b, l, p);
      s.Update(co_await h);
      co_return s;
    }(party, &barrier, &leaders, &passed);
  });
  absl::Status s =
      rt().BlockOn([](auto party, sync::Barrier* b, std::atomic<int>* l,
                      std::atomic<int>* p) -> Task<absl::Status> {
        JoinHandle<absl::Status> h = Spawn(party(b, l, p));
        absl::Status s = co_await party(b, l, p);
        s.Update(co_await h);
        co_return s;
      }(party, &barrier, &leaders, &passed));
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(other.Join().ok());
  EXPECT_EQ(leaders.load(), kRounds);
  EXPECT_EQ(passed.load(), kParties * kRounds);
}

TEST_F(ConformanceTest, ACancelledBarrierWaitWithdrawsItsArrival) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    sync::Barrier b(2);
    // Times out alone: its arrival must not count.
    absl::StatusOr<sync::BarrierWaitResult> lone =
        co_await Timeout(milliseconds(1), b.Wait());
    if (!absl::IsDeadlineExceeded(lone.status())) {
      co_return absl::InternalError("a lone wait passed the barrier");
    }
    JoinHandle<absl::StatusOr<bool>> other =
        Spawn([](sync::Barrier* b) -> Task<absl::StatusOr<bool>> {
          absl::StatusOr<sync::BarrierWaitResult> w = co_await b->Wait();
          if (!w.ok()) co_return w.status();
          co_return w->is_leader();
        }(&b));
    // Were the lone arrival still counted, this would lead at once and the
    // spawned wait would hang.
    absl::StatusOr<sync::BarrierWaitResult> mine =
        co_await Timeout(milliseconds(5000), b.Wait());
    if (!mine.ok()) co_return mine.status();
    absl::StatusOr<bool> theirs = co_await other;
    if (!theirs.ok()) co_return theirs.status();
    if (mine->is_leader() == *theirs) co_return absl::InternalError("leaders");
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, EventReleasesEveryWaiterAndStaysSetUntilCleared) {
  sync::Event event;
  std::atomic<int> released{0};
  auto waiter = [](sync::Event* e, std::atomic<int>* n) -> Task<absl::Status> {
    absl::Status s = co_await e->Wait();
    if (s.ok()) ++*n;
    co_return s;
  };
  OtherThread other([&] { return waiter(&event, &released); });
  absl::Status s = rt().BlockOn([](auto waiter, sync::Event* e,
                                   std::atomic<int>* n) -> Task<absl::Status> {
    std::vector<JoinHandle<absl::Status>> hs;
    for (int i = 0; i < 3; ++i) hs.push_back(Spawn(waiter(e, n)));
    (void)co_await Yield();
    if (e->IsSet()) co_return absl::InternalError("set too early");
    e->Set();
    for (auto& h : hs) {
      absl::Status r = co_await h;
      if (!r.ok()) co_return r;
    }
    // Set stays set: a later wait passes at once.
    absl::Status again = co_await Timeout(milliseconds(5000), e->Wait());
    if (!again.ok()) co_return again;
    // Clear only once the other thread's waiter has been through.
    const Instant give_up = Now() + std::chrono::seconds(20);
    while (n->load() < 4) {
      if (Now() > give_up) co_return absl::InternalError("a waiter missed Set");
      (void)co_await Yield();
    }
    e->Clear();
    if (e->IsSet()) co_return absl::InternalError("still set after Clear");
    absl::Status after = co_await Timeout(milliseconds(2), e->Wait());
    if (!absl::IsDeadlineExceeded(after)) {
      co_return absl::InternalError("a cleared event let a waiter through");
    }
    co_return absl::OkStatus();
  }(waiter, &event, &released));
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(other.Join().ok());
  EXPECT_EQ(released.load(), 4);
}

}  // namespace
}  // namespace polyio::testing
