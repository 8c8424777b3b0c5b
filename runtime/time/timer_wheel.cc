#include "runtime/time/timer_wheel.h"

#include <algorithm>
#include <bit>
#include <utility>

namespace polyio {
namespace {

constexpr int kBitsPerLevel = 6;

constexpr uint64_t SlotSpan(int level) {
  return uint64_t{1} << (kBitsPerLevel * level);
}

}  // namespace

TimerWheel::TimerWheel(Instant start, Duration tick)
    : start_(start), tick_(tick) {}

TimerWheel::~TimerWheel() {
  auto drop = [](List& list) {
    while (TimerEntry* e = list.PopFront()) {
      e->level = -1;
      if (e->discard != nullptr) e->discard(e);
    }
  };
  for (auto& level : slots_) {
    for (List& list : level) drop(list);
  }
  drop(expired_);
  drop(firing_);
}

uint64_t TimerWheel::CeilTicks(Instant t) const {
  if (t <= start_) return 0;
  auto d = (t - start_).count();
  auto tick = tick_.count();
  return static_cast<uint64_t>((d + tick - 1) / tick);
}

uint64_t TimerWheel::FloorTicks(Instant t) const {
  if (t <= start_) return 0;
  return static_cast<uint64_t>((t - start_).count() / tick_.count());
}

TimerWheel::List& TimerWheel::ListOf(const TimerEntry* e) {
  if (e->level == kExpired) return expired_;
  if (e->level == kFiring) return firing_;
  return slots_[e->level][e->slot];
}

void TimerWheel::Link(TimerEntry* e) {
  if (e->when <= elapsed_) {
    e->level = kExpired;
    expired_.PushBack(e);
    return;
  }
  // Placed by `at`, not `when`, when the deadline is beyond the wheel's
  // reach (64^6 ticks): in the top level's farthest slot, from which it is
  // cascaded and placed again when that slot comes round. Placed by a
  // `when` that far ahead, it could land in the top level's current slot,
  // which is due at once, and be cascaded back into it forever (found by
  // fuzzing: a Sleep of ~800 days hung the driver).
  const uint64_t at = std::min(e->when, elapsed_ + kReach);
  // The highest bit where deadline and now differ picks the level.
  uint64_t differing = (elapsed_ ^ at) | (kSlots - 1);
  int level = (63 - std::countl_zero(differing)) / kBitsPerLevel;
  if (level >= kLevels) level = kLevels - 1;
  int slot = static_cast<int>((at >> (kBitsPerLevel * level)) & 63);
  e->level = static_cast<int16_t>(level);
  e->slot = static_cast<uint8_t>(slot);
  slots_[level][slot].PushBack(e);
  occupied_[level] |= uint64_t{1} << slot;
}

void TimerWheel::Insert(TimerEntry* entry, Instant deadline) {
  entry->deadline = deadline;
  entry->seq = inserted_++;
  entry->when = CeilTicks(deadline);
  Link(entry);
  ++count_;
}

void TimerWheel::Remove(TimerEntry* e) {
  if (!Linked(e)) return;
  List& list = ListOf(e);
  list.Unlink(e);
  if (e->level < kLevels && list.empty()) {
    occupied_[e->level] &= ~(uint64_t{1} << e->slot);
  }
  e->level = -1;
  --count_;
}

std::optional<TimerWheel::Expiration> TimerWheel::NextExpiration() const {
  std::optional<Expiration> best;
  for (int level = 0; level < kLevels; ++level) {
    if (occupied_[level] == 0) continue;
    uint64_t span = SlotSpan(level);
    uint64_t level_span = span * kSlots;
    int now_slot = static_cast<int>((elapsed_ / span) % kSlots);
    int offset = std::countr_zero(std::rotr(occupied_[level], now_slot));
    int slot = (now_slot + offset) % kSlots;
    uint64_t level_start = elapsed_ & ~(level_span - 1);
    uint64_t tick = level_start + static_cast<uint64_t>(slot) * span;
    if (slot < now_slot) tick += level_span;
    // The slot that holds "now" at a higher level is due at once: its
    // entries are cascaded to lower levels.
    if (tick < elapsed_) tick = elapsed_;
    if (!best || tick < best->tick) best = Expiration{level, slot, tick};
  }
  return best;
}

std::optional<Instant> TimerWheel::NextWake() const {
  if (count_ == 0) return std::nullopt;
  if (!expired_.empty()) return start_ + tick_ * elapsed_;
  std::optional<Expiration> next = NextExpiration();
  if (!next) return std::nullopt;
  return start_ + tick_ * next->tick;
}

void TimerWheel::SortFiringByDeadline() {
  if (firing_.empty() || List::next(firing_.front()) == nullptr) return;
  scratch_.clear();
  while (TimerEntry* e = firing_.PopFront()) scratch_.push_back(e);
  std::stable_sort(scratch_.begin(), scratch_.end(),
                   [](const TimerEntry* a, const TimerEntry* b) {
                     if (a->deadline != b->deadline) {
                       return a->deadline < b->deadline;
                     }
                     return a->seq < b->seq;
                   });
  for (TimerEntry* e : scratch_) firing_.PushBack(e);
}

int TimerWheel::Advance(Instant now) {
  uint64_t now_tick = FloorTicks(now);
  int fired = 0;
  // The common case of a driver turn: nothing to fire, nothing to cascade.
  if (count_ == 0) {
    if (now_tick > elapsed_) elapsed_ = now_tick;
    return 0;
  }
  for (;;) {
    // Fire what is due now. An entry that a callback inserts already due
    // lands in expired_ and waits for the next round, so a callback that
    // re-arms itself for "now" cannot keep this loop going.
    firing_ = std::move(expired_);
    for (TimerEntry* e = firing_.front(); e != nullptr; e = List::next(e)) {
      e->level = kFiring;
    }
    SortFiringByDeadline();
    while (TimerEntry* e = firing_.front()) {
      Remove(e);
      ++fired;
      e->fire(e);
    }
    std::optional<Expiration> next = NextExpiration();
    if (!next || next->tick > now_tick) break;
    List taken = std::move(slots_[next->level][next->slot]);
    occupied_[next->level] &= ~(uint64_t{1} << next->slot);
    elapsed_ = next->tick;
    while (TimerEntry* e = taken.PopFront()) {
      Link(e);  // due ones go to expired_, the rest one level down or more
    }
  }
  if (now_tick > elapsed_) elapsed_ = now_tick;
  return fired;
}

}  // namespace polyio
