// TimerWheel: a hierarchical timing wheel, O(1) insert and remove.
//
// Six levels of 64 slots; a slot of level L spans 64^L ticks (1 ms each by
// default), so the wheel covers about 2 years ahead. An entry sits at the
// lowest level whose span separates its deadline from the wheel's current
// tick; when time reaches a higher-level slot, its entries move down
// ("cascade") until they reach level 0 and fire. A 64-bit occupancy mask per
// level finds the next non-empty slot without scanning.
//
// Entries due in the same tick fire in deadline order (ties: insertion
// order).
//
// Never early: a deadline is rounded UP to a whole tick when it goes in, and
// an entry fires only once the clock has passed that tick, so an entry never
// fires before its deadline. It may fire up to one tick plus one driver turn
// late.
//
// Entries are intrusive (the caller owns them). Thread-hostile: one driver
// thread inserts, removes and advances.
#ifndef POLYIO_RUNTIME_TIMER_WHEEL_H_
#define POLYIO_RUNTIME_TIMER_WHEEL_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "platform/clock.h"
#include "platform/intrusive_list.h"

namespace polyio {

struct TimerEntry {
  using FireFn = void (*)(TimerEntry*);
  explicit TimerEntry(FireFn fire_fn, FireFn discard_fn = nullptr)
      : fire(fire_fn), discard(discard_fn) {}

  FireFn fire;     // called once, after the entry was unlinked
  FireFn discard;  // if set, called for an entry still linked when the
                   // wheel is destroyed (its owner frees it there)
  // Wheel-private.
  uint64_t when = 0;  // deadline in ticks since the wheel's start, rounded up
  Instant deadline;   // exact, to fire entries of one tick in deadline order
  uint64_t seq = 0;   // insertion order, to break ties between deadlines
  ListLink<TimerEntry> link;
  int16_t level = -1;  // -1: not in the wheel
  uint8_t slot = 0;
};

class TimerWheel {
 public:
  explicit TimerWheel(Instant start,
                      Duration tick = std::chrono::milliseconds(1));
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;
  // Entries still linked are unlinked without firing, and discarded.
  ~TimerWheel();

  // Links `entry` to fire at `deadline`. The entry must not be linked.
  void Insert(TimerEntry* entry, Instant deadline);
  // Unlinks `entry`; a no-op if it is not linked (already fired or removed).
  void Remove(TimerEntry* entry);
  static bool Linked(const TimerEntry* entry) { return entry->level >= 0; }

  // Fires every entry whose deadline is at or before `now`; returns how many.
  // Entries may insert and remove entries from inside `fire`.
  int Advance(Instant now);

  // When Advance next has work: a deadline, or the time of a cascade. Empty
  // when no entry is linked.
  std::optional<Instant> NextWake() const;
  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }

 private:
  static constexpr int kLevels = 6;
  static constexpr int kSlots = 64;
  static constexpr int16_t kExpired = kLevels;     // in expired_: due
  static constexpr int16_t kFiring = kLevels + 1;  // in firing_: being fired
  // How far ahead of now an entry can be placed: the top level's farthest
  // slot, 63 * 64^5 ticks (about 2.1 years at 1 ms). Farther deadlines wait
  // there and are placed again (Link).
  static constexpr uint64_t kReach = uint64_t{63} << (6 * (kLevels - 1));

  using List = IntrusiveList<TimerEntry, &TimerEntry::link>;
  struct Expiration {
    int level;
    int slot;
    uint64_t tick;
  };

  uint64_t CeilTicks(Instant t) const;
  uint64_t FloorTicks(Instant t) const;
  void Link(TimerEntry* e);
  void SortFiringByDeadline();
  List& ListOf(const TimerEntry* e);
  std::optional<Expiration> NextExpiration() const;

  const Instant start_;
  const Duration tick_;
  uint64_t elapsed_ = 0;  // ticks processed
  size_t count_ = 0;
  // Ties between equal deadlines go by insertion, not by list position:
  // two entries inserted at different wheel times can take different
  // cascade paths and meet in one slot in either order (found by fuzzing).
  uint64_t inserted_ = 0;
  uint64_t occupied_[kLevels] = {};
  List slots_[kLevels][kSlots];
  List expired_;
  List firing_;
  std::vector<TimerEntry*> scratch_;  // for SortFiringByDeadline
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_TIMER_WHEEL_H_
