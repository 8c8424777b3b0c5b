// Fuzz target: the timer wheel (runtime/timer_wheel.h) against a model, a
// multimap of deadlines, under a fuzzed sequence of inserts, removes,
// re-inserts and advances, with fire callbacks that remove other entries or
// insert new ones (the wheel allows both from inside `fire`).
//
// Checked after every step:
// - the same firing order: the entries one Advance(now) fires are exactly
//   the model's entries due by `now` — deadline rounded up to a whole tick
//   at or before `now` rounded down — in (deadline, insertion) order;
// - none early: every entry fires at an Advance whose `now` is at or past
//   its deadline;
// - cancel exact: a removed entry never fires, even when a callback removes
//   it from the batch being fired; an entry fires once per insertion;
// - size() and empty() agree with the model, and NextWake() is never later
//   than the tick of the earliest deadline, or than now if that has passed
//   (a driver that sleeps until NextWake cannot oversleep a timer);
// - destroying the wheel discards each entry still linked exactly once.
//
// Horizon: deadlines reach up to 2^(kMaxShift+1) ticks past the wheel's
// time, beyond its reach of 63 * 64^5 ticks (about 2.1 years at 1 ms):
// farther deadlines wait in the top level and are placed again
// (tests/fuzz/regressions/timer_wheel_horizon_test.cc).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <vector>

#include "runtime/time/timer_wheel.h"
#include "tests/fuzz/byte_reader.h"
#include "tests/fuzz/check.h"

namespace polyio::fuzz {
namespace {

constexpr size_t kMaxTimers = 64;
// Offsets (from now) and Advance steps stay below 2^kMaxShift ticks, so a
// deadline is never more than 2^(kMaxShift+1) ticks past the wheel's time
// (a callback inserts relative to `now` while the wheel's time may still
// trail it by one step) — 2^38, past the wheel's reach of ~2^36.
constexpr int kMaxShift = 37;

class Harness;

// POLYIO_FUZZ_TRACE=1 prints every step (to read a crash's input).
bool Tracing() {
  static const bool on = std::getenv("POLYIO_FUZZ_TRACE") != nullptr;
  return on;
}
#define TRACE(...)                                    \
  do {                                                \
    if (Tracing()) std::fprintf(stderr, __VA_ARGS__); \
  } while (0)

// One entry with what the model knows of it. The TimerEntry comes first so
// that the fire callback finds its Timer.
struct Timer {
  explicit Timer(Harness* h, size_t i)
      : entry(&Fire, &Discard), harness(h), id(i) {}
  static void Fire(TimerEntry* e);
  static void Discard(TimerEntry* e);

  TimerEntry entry;
  Harness* harness;
  size_t id;
  Instant deadline{};
  uint64_t seq = 0;  // insertion number: the tie-break among equal deadlines
  bool pending = false;  // per the model
  int discards = 0;
  // What the fire callback does (set by the input): nothing, remove the
  // timer `target`, or insert the timer `target` at now + `delay`.
  enum class Action { kNone, kRemove, kInsert } action = Action::kNone;
  size_t target = 0;
  Duration delay{};
};

class Harness {
 public:
  Harness(Duration tick, Instant start)
      : tick_(tick), start_(start), now_(start) {
    wheel_.emplace(start, tick);
    for (size_t i = 0; i < kMaxTimers; ++i) {
      timers_.push_back(std::make_unique<Timer>(this, i));
    }
  }

  void Run(ByteReader& in) {
    while (!in.empty()) {
      switch (in.Byte() % 8) {
        case 0:
        case 1:
          Insert(in.Below(kMaxTimers), Offset(in, /*may_be_past=*/true));
          break;
        case 2:
          Remove(in.Below(kMaxTimers));
          break;
        case 3: {  // set a fire action
          Timer& t = *timers_[in.Below(kMaxTimers)];
          t.action = static_cast<Timer::Action>(in.Byte() % 3);
          t.target = in.Below(kMaxTimers);
          t.delay = Offset(in, /*may_be_past=*/false);
          break;
        }
        case 4:
        case 5:
          Advance(now_ + Offset(in, /*may_be_past=*/false));
          break;
        case 6: {  // to the wheel's own next wake, or just before it
          std::optional<Instant> next = wheel_->NextWake();
          if (!next.has_value()) break;
          bool before = in.Bool() && *next > now_;
          Advance(before ? *next - Duration(1) : std::max(*next, now_));
          if (before) FUZZ_CHECK(fired_.empty(), "fired before NextWake");
          break;
        }
        case 7:
          Advance(now_);  // a driver turn with no time passing
          break;
      }
      CheckCounts();
    }
    Destroy();
  }

  // Model side of a fire: called from Timer::Fire, inside Advance.
  void Fired(Timer& t) {
    FUZZ_CHECK(t.pending,
               "timer %zu fired but is not pending (removed, or "
               "fired twice)",
               t.id);
    FUZZ_CHECK(!TimerWheel::Linked(&t.entry), "timer %zu linked while firing",
               t.id);
    FUZZ_CHECK(now_ >= t.deadline, "timer %zu fired %lld ns early", t.id,
               static_cast<long long>((t.deadline - now_).count()));
    t.pending = false;
    model_.erase(KeyOf(t));
    fired_.push_back(t.id);
    switch (t.action) {
      case Timer::Action::kNone:
        break;
      case Timer::Action::kRemove:
        Remove(t.target);
        break;
      case Timer::Action::kInsert:
        // Strictly after now: not due in this Advance, so the model stays
        // exact. (Due ones are allowed too, but may wait for the next turn.)
        Insert(t.target, t.delay + Duration(1));
        break;
    }
  }

  void Discarded(Timer& t) {
    FUZZ_CHECK(destroying_, "timer %zu discarded by a live wheel", t.id);
    ++t.discards;
  }

 private:
  using Key = std::tuple<Instant, uint64_t, size_t>;
  static Key KeyOf(const Timer& t) { return {t.deadline, t.seq, t.id}; }

  // A duration at one of the scales that matter to a wheel of 64-slot
  // levels: below a tick, a few ticks, and around each level's span.
  Duration Offset(ByteReader& in, bool may_be_past) {
    int shift = in.Byte() % (kMaxShift + 1);  // spans of 2^0 .. 2^37 ticks
    int64_t span = int64_t{1} << shift;
    int64_t ticks = static_cast<int64_t>(in.Bits(5) % span);
    int64_t sub = static_cast<int64_t>(in.Bits(2)) % tick_.count();
    Duration d = tick_ * ticks + Duration(sub);
    if (may_be_past && in.Byte() % 8 == 0) return -d;  // already passed
    return d;
  }

  void Insert(size_t id, Duration from_now) {
    Timer& t = *timers_[id];
    if (t.pending) return;  // the wheel requires an unlinked entry
    FUZZ_CHECK(!TimerWheel::Linked(&t.entry), "timer %zu linked, not pending",
               id);
    t.deadline = now_ + from_now;
    TRACE("insert %zu at tick %lld (+%lld ns)\n", id,
          static_cast<long long>(CeilTicks(t.deadline)),
          static_cast<long long>(from_now.count()));
    t.seq = next_seq_++;
    t.pending = true;
    model_.emplace(KeyOf(t), id);
    wheel_->Insert(&t.entry, t.deadline);
  }

  void Remove(size_t id) {
    Timer& t = *timers_[id];
    TRACE("remove %zu (pending %d)\n", id, t.pending);
    wheel_->Remove(&t.entry);  // a no-op when not linked, by contract
    FUZZ_CHECK(!TimerWheel::Linked(&t.entry), "timer %zu linked after Remove",
               id);
    if (t.pending) {
      t.pending = false;
      model_.erase(KeyOf(t));
    }
  }

  int64_t FloorTicks(Instant t) const {
    return t <= start_ ? 0 : (t - start_).count() / tick_.count();
  }
  int64_t CeilTicks(Instant t) const {
    return t <= start_
               ? 0
               : ((t - start_).count() + tick_.count() - 1) / tick_.count();
  }

  void Advance(Instant now) {
    fired_.clear();              // also when this Advance is skipped just below
    if (now < now_) now = now_;  // a monotonic clock
    // Keep Instant (int64 ns) far from overflowing over a long input.
    if (now - start_ > Duration(int64_t{1} << 61)) return;
    // The model: walk the due entries in order; each still pending fires,
    // and its action (remove one, or insert one not due yet) applies first.
    // The actions only remove entries or add ones not due by `now`, so the
    // expected sequence can be computed before the wheel runs — on a copy.
    std::vector<size_t> expected = ExpectedFirings(now);
    TRACE("advance to tick %lld: %zu due\n",
          static_cast<long long>(FloorTicks(now)), expected.size());
    now_ = now;
    int n = wheel_->Advance(now);
    FUZZ_CHECK(n == static_cast<int>(fired_.size()),
               "Advance returned %d but fired %zu", n, fired_.size());
    FUZZ_CHECK(fired_ == expected,
               "firing order differs from the model "
               "(fired %zu, expected %zu)",
               fired_.size(), expected.size());
    for (const auto& [key, id] : model_) {
      FUZZ_CHECK(CeilTicks(std::get<0>(key)) > FloorTicks(now),
                 "timer %zu is due but did not fire", id);
    }
  }

  std::vector<size_t> ExpectedFirings(Instant now) const {
    const int64_t due_tick = FloorTicks(now);
    std::map<Key, size_t> model = model_;
    std::vector<bool> pending(kMaxTimers);
    for (const auto& [key, id] : model) pending[id] = true;
    std::vector<size_t> out;
    for (auto it = model.begin(); it != model.end();) {
      if (CeilTicks(std::get<0>(it->first)) > due_tick) break;
      size_t id = it->second;
      it = model.erase(it);
      if (!pending[id]) continue;  // removed by an earlier callback
      pending[id] = false;
      out.push_back(id);
      const Timer& t = *timers_[id];
      if (t.action == Timer::Action::kRemove) pending[t.target] = false;
      // kInsert adds an entry due after `now`: nothing more fires for it,
      // and a removed entry it re-inserts does not fire either.
    }
    return out;
  }

  void CheckCounts() {
    FUZZ_CHECK(wheel_->size() == model_.size(), "size %zu, model %zu",
               wheel_->size(), model_.size());
    FUZZ_CHECK(wheel_->empty() == model_.empty(), "empty() disagrees");
    std::optional<Instant> next = wheel_->NextWake();
    FUZZ_CHECK(next.has_value() == !model_.empty(),
               "NextWake %s but the model has %zu entries",
               next ? "set" : "empty", model_.size());
    if (next.has_value()) {
      Instant earliest = std::get<0>(model_.begin()->first);
      // Due at its tick, or now when that has passed already.
      Instant due =
          start_ + tick_ * std::max(CeilTicks(earliest), FloorTicks(now_));
      FUZZ_CHECK(*next <= due,
                 "NextWake is %lld ns after the earliest due "
                 "tick",
                 static_cast<long long>((*next - due).count()));
    }
  }

  void Destroy() {
    destroying_ = true;
    wheel_.reset();
    for (const auto& t : timers_) {
      FUZZ_CHECK(t->discards == (t->pending ? 1 : 0),
                 "timer %zu discarded %d times, pending %d", t->id, t->discards,
                 t->pending);
    }
  }

  const Duration tick_;
  const Instant start_;
  Instant now_;
  std::optional<TimerWheel> wheel_;
  std::vector<std::unique_ptr<Timer>> timers_;
  std::map<Key, size_t> model_;  // deadline, insertion number -> timer
  uint64_t next_seq_ = 0;
  std::vector<size_t> fired_;  // by the current Advance, in order
  bool destroying_ = false;
};

void Timer::Fire(TimerEntry* e) {
  Timer* t = reinterpret_cast<Timer*>(e);
  t->harness->Fired(*t);
}

void Timer::Discard(TimerEntry* e) {
  Timer* t = reinterpret_cast<Timer*>(e);
  t->harness->Discarded(*t);
}

}  // namespace
}  // namespace polyio::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using std::chrono::microseconds;
  using std::chrono::milliseconds;
  using std::chrono::nanoseconds;
  polyio::fuzz::ByteReader in(data, size);
  // The tick: the runtime's 1 ms, and others so that rounding is exercised.
  static const polyio::Duration kTicks[] = {milliseconds(1), nanoseconds(1),
                                            microseconds(1), milliseconds(7)};
  polyio::Duration tick = kTicks[in.Byte() % 4];
  // The wheel starts somewhere on the monotonic clock, not at its epoch.
  polyio::Instant start{nanoseconds(in.Bits(4) * 1000)};
  polyio::fuzz::Harness harness(tick, start);
  harness.Run(in);
  return 0;
}
