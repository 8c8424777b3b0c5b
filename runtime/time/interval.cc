#include "runtime/time/interval.h"

#include <cstdio>
#include <cstdlib>

namespace polyio {

Interval::Interval(Instant start, Duration period)
    : next_(start), period_(period) {
  if (period <= Duration::zero()) {
    std::fprintf(stderr,
                 "polyio: Interval: the period must be positive (got %lld "
                 "ns)\n",
                 static_cast<long long>(period.count()));
    std::abort();
  }
}

Interval IntervalEvery(Duration period) { return Interval(Now(), period); }

Interval IntervalAt(Instant start, Duration period) {
  return Interval(start, period);
}

void Interval::Advance(Instant now) {
  const Instant scheduled = next_;
  const Duration late = now - scheduled;
  if (late < period_) {
    next_ = scheduled + period_;
    return;
  }
  switch (missed_) {
    case MissedTick::kBurst:
      next_ = scheduled + period_;
      break;
    case MissedTick::kDelay:
      next_ = now + period_;
      break;
    case MissedTick::kSkip:
      // The first instant of the schedule after `now`.
      next_ = scheduled + (late / period_ + 1) * period_;
      break;
  }
}

polyio::Poll<absl::StatusOr<Instant>> TickFuture::Poll(Context& cx) {
  if (!sleep_.has_value()) {
    const Instant now = Now();
    if (interval_->next_ <= now) {
      // Due already (the first tick, or a burst): no timer at all.
      const Instant scheduled = interval_->next_;
      interval_->Advance(now);
      return absl::StatusOr<Instant>(scheduled);
    }
    sleep_.emplace(interval_->next_);
  }
  polyio::Poll<absl::Status> slept = sleep_->Poll(cx);
  if (slept.pending()) return kPending;
  if (!slept.value().ok()) return absl::StatusOr<Instant>(slept.value());
  const Instant scheduled = interval_->next_;
  interval_->Advance(Now());
  return absl::StatusOr<Instant>(scheduled);
}

}  // namespace polyio
