#include "runtime/driver/paused_time.h"

#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "platform/mutex.h"

namespace polyio::internal {
namespace {

struct Member {
  const void* driver;
  Backend* backend;
  // Which thread has entered the driver; none while no thread runs it.
  const std::atomic<std::thread::id>* owner;
  bool idle = false;
  std::optional<Instant> next;  // while idle
};

struct Registry {
  Mutex mu;
  std::vector<Member> members ABSL_GUARDED_BY(mu);
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: drivers outlive main
  return *r;
}

int64_t Ns(Instant t) {
  return std::chrono::duration_cast<Duration>(t.time_since_epoch()).count();
}

Member* Find(std::vector<Member>& members, const void* driver) {
  for (Member& m : members) {
    if (m.driver == driver) return &m;
  }
  return nullptr;
}

// Moves the paused clock forward to `to` (never back).
void MoveTo(Instant to) {
  ClockState& c = clock_state;
  if (Ns(to) > c.paused_at_ns.load(std::memory_order_relaxed)) {
    c.paused_at_ns.store(Ns(to), std::memory_order_release);
  }
}

// When every driver that a thread runs is idle, time jumps to the
// earliest timer among them and the waiting ones are woken to fire it.
// True if time moved (or a timer is already due).
bool AdvanceIfAllIdle(std::vector<Member>& members, const void* except) {
  std::optional<Instant> earliest;
  for (const Member& m : members) {
    if (!m.idle) {
      // Not running at all (a current-thread runtime outside BlockOn): no
      // task of it can see time move.
      if (m.owner->load(std::memory_order_acquire) == std::thread::id()) {
        continue;
      }
      return false;
    }
    if (m.next && (!earliest || *m.next < *earliest)) earliest = m.next;
  }
  if (!earliest) return false;  // everyone waits for I/O: so does time
  MoveTo(*earliest);
  for (Member& m : members) {
    if (m.driver != except) m.backend->Wake();
  }
  return true;
}

}  // namespace

void Join(const void* driver, Backend* backend,
          const std::atomic<std::thread::id>* owner) {
  Registry& r = registry();
  MutexLock lock(&r.mu);
  r.members.push_back(Member{driver, backend, owner, false, std::nullopt});
}

bool GoIdle(const void* driver, std::optional<Instant> next) {
  Registry& r = registry();
  MutexLock lock(&r.mu);
  // Resumed since the caller looked: it must not wait the paused way (no
  // one would wake it for its timers). Checked under the lock ResumeClock
  // takes, so a resume either comes later and wakes it, or is seen here.
  if (!TimePaused()) return true;
  Member* me = Find(r.members, driver);
  if (me == nullptr) return true;  // not joined: turn again, the usual way
  // Time moved since the caller computed `next` (AdvanceTime, whose wake
  // the caller's last look at its backend may have taken): its timer is
  // due now, so it must turn, not wait.
  if (next && *next <= Now()) return true;
  me->idle = true;
  me->next = next;
  if (AdvanceIfAllIdle(r.members, driver)) {
    Find(r.members, driver)->idle = false;
    return true;
  }
  return false;
}

void Busy(const void* driver) {
  Registry& r = registry();
  MutexLock lock(&r.mu);
  if (Member* me = Find(r.members, driver)) me->idle = false;
}

void Leave(const void* driver) {
  Registry& r = registry();
  MutexLock lock(&r.mu);
  for (auto it = r.members.begin(); it != r.members.end(); ++it) {
    if (it->driver == driver) {
      r.members.erase(it);
      break;
    }
  }
  // It may have been the last busy one.
  if (!r.members.empty()) AdvanceIfAllIdle(r.members, nullptr);
}

void PauseClock() {
  ClockState& c = clock_state;
  Registry& r = registry();
  MutexLock lock(&r.mu);
  if (c.paused.load(std::memory_order_acquire)) return;
  c.paused_at_ns.store(Ns(Now()), std::memory_order_release);
  c.paused.store(true, std::memory_order_release);
  // A driver already waiting on the OS clock (a worker parked before the
  // pause) would count as busy and hold time forever: wake every one, so
  // that each waits again the paused way.
  for (Member& m : r.members) m.backend->Wake();
}

void ResumeClock() {
  ClockState& c = clock_state;
  Registry& r = registry();
  MutexLock lock(&r.mu);
  if (!c.paused.load(std::memory_order_acquire)) return;
  c.ahead_ns.store(
      c.paused_at_ns.load(std::memory_order_acquire) - Ns(RealNow()),
      std::memory_order_relaxed);
  c.paused.store(false, std::memory_order_release);
  // Waiting drivers go back to waiting on the OS clock.
  for (Member& m : r.members) {
    if (m.idle) m.backend->Wake();
    m.idle = false;
  }
}

void AdvanceClock(Duration d) {
  if (!TimePaused()) {
    std::fprintf(stderr, "polyio: AdvanceTime: time is not paused\n");
    std::abort();
  }
  if (d < Duration::zero()) {
    std::fprintf(stderr, "polyio: AdvanceTime: the duration is negative\n");
    std::abort();
  }
  Registry& r = registry();
  MutexLock lock(&r.mu);
  MoveTo(Now() + d);
  for (Member& m : r.members) m.backend->Wake();
}

}  // namespace polyio::internal
