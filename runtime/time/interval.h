// Interval: a future-producing clock that ticks at a fixed period.
//
//   Interval every = polyio::IntervalEvery(std::chrono::seconds(1));
//   for (;;) {
//     absl::StatusOr<Instant> tick = co_await every.Tick();
//     if (!tick.ok()) break;                // the task was cancelled
//     Flush();                              // runs about once a second
//   }
//
// Ticks are scheduled at start, start + period, start + 2 * period, ...
// (IntervalEvery starts now, so the first Tick completes at once, as
// tokio's interval does; IntervalAt chooses the start). Tick() completes
// once the next scheduled instant has passed — never early, with a Sleep's
// lateness (time/sleep.h) — and returns that scheduled instant, not the
// time it was observed, so a caller can tell how late it is.
//
// Missed ticks. When a tick is observed a whole period or more after it was
// scheduled (the task was busy, or the machine was), the ticks in between
// have been missed, and MissedTick says what happens next (tokio's
// MissedTickBehavior, the same three choices):
// - kBurst (default): the missed ticks complete one after another at once,
//   until the schedule is caught up; the schedule never shifts, so the
//   number of ticks over a long run is exact.
// - kDelay: the schedule restarts from the late tick: the next one is a
//   period after it was observed. Ticks are never closer than a period.
// - kSkip: the missed ticks are dropped: the next tick is the first
//   instant of the original schedule after the late one was observed.
// A tick observed less than a period late moves nothing, whatever the
// behaviour: the next one is still a period after its scheduled instant.
//
// Cancel-safe (docs/cancellation.md): a Tick cancelled or dropped before it
// completed takes no tick; the next Tick completes for the same instant.
// Reset() restarts the schedule a period from now.
//
// Thread-compatible: one task ticks an Interval at a time, and one Tick
// future is pending at a time (a second one would see the same instant);
// the task may move between threads. The Interval must outlive its Tick
// futures.
#ifndef POLYIO_RUNTIME_TIME_INTERVAL_H_
#define POLYIO_RUNTIME_TIME_INTERVAL_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "platform/clock.h"
#include "runtime/task/context.h"
#include "runtime/task/poll.h"
#include "runtime/time/sleep.h"

namespace polyio {

enum class MissedTick {
  kBurst,
  kDelay,
  kSkip,
};

class Interval;

// Future of Interval::Tick: the scheduled instant of the tick.
class TickFuture {
 public:
  explicit TickFuture(Interval* interval) : interval_(interval) {}
  // Moving is allowed only before the first poll (the sleep inside it
  // is in a timer wheel from then on).
  TickFuture(TickFuture&& other) noexcept : interval_(other.interval_) {}

  polyio::Poll<absl::StatusOr<Instant>> Poll(Context& cx);

 private:
  Interval* interval_;
  std::optional<SleepFuture> sleep_;  // made at the first poll, in place
};

class Interval {
 public:
  // `period` must be positive: IntervalEvery/IntervalAt stop the program
  // with a message naming the call otherwise.
  Interval(Instant start, Duration period);

  Interval(Interval&&) = default;  // not while a Tick is pending
  Interval& operator=(Interval&&) = default;

  TickFuture Tick() { return TickFuture(this); }

  // The next tick is scheduled a period from now.
  void Reset() { next_ = Now() + period_; }

  void SetMissedTick(MissedTick behaviour) { missed_ = behaviour; }
  MissedTick missed_tick() const { return missed_; }
  Duration period() const { return period_; }
  // The instant the next Tick completes for.
  Instant next_tick() const { return next_; }

 private:
  friend class TickFuture;

  // The tick scheduled at next_ was observed at `now`: schedule the next.
  void Advance(Instant now);

  Instant next_;
  Duration period_;
  MissedTick missed_ = MissedTick::kBurst;
};

// Ticks at now, now + period, ... (the first Tick completes at once).
Interval IntervalEvery(Duration period);
// Ticks at start, start + period, ...
Interval IntervalAt(Instant start, Duration period);

}  // namespace polyio

#endif  // POLYIO_RUNTIME_TIME_INTERVAL_H_
