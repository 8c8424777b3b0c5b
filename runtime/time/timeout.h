// Timeout(d, future): the future's result, or DeadlineExceeded after d.
//
// When the deadline passes first, the inner future is cancelled (through a
// cancellation scope in its Context) and Timeout waits for it to finish
// before it completes — an operation in flight is never abandoned with its
// buffer. If the inner future still completes with a real result (it won
// the race with its cancellation), that result is returned; if it ends with
// CancelledError, Timeout reports DeadlineExceeded.
//
// The inner future's output must be absl::Status or absl::StatusOr<T>, so
// that a timeout can be expressed in it.
//
// Cancel-safety (docs/cancellation.md): that of the inner future.
//
// Thread-compatible; must not move once polled.
#ifndef POLYIO_RUNTIME_TIME_TIMEOUT_H_
#define POLYIO_RUNTIME_TIME_TIMEOUT_H_

#include <chrono>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "platform/clock.h"
#include "runtime/task/context.h"
#include "runtime/task/future.h"
#include "runtime/task/poll.h"
#include "runtime/time/sleep.h"

namespace polyio {

template <Future F>
class TimeoutFuture {
 public:
  using Output = FutureOutput<F>;

  TimeoutFuture(F inner, Duration limit)
      : inner_(std::move(inner)), sleep_(Now() + limit), limit_(limit) {}

  polyio::Poll<Output> Poll(Context& cx) {
    Context scope(cx, cx.waker(), &timed_out_);
    polyio::Poll<Output> result = inner_.Poll(scope);
    if (result.ready()) return Finish(std::move(result).value());
    if (timed_out_) return kPending;  // waiting for the cancelled inner
    polyio::Poll<absl::Status> slept = sleep_.Poll(cx);
    if (slept.pending() || !slept.value().ok()) return kPending;
    timed_out_ = true;
    result = inner_.Poll(scope);  // it sees the cancellation now
    if (result.ready()) return Finish(std::move(result).value());
    return kPending;
  }

 private:
  Output Finish(Output out) {
    if (timed_out_ && absl::IsCancelled(StatusOf(out))) {
      return Output(absl::DeadlineExceededError(absl::StrCat(
          "timed out after ",
          std::chrono::duration_cast<std::chrono::microseconds>(limit_).count(),
          " us")));
    }
    return out;
  }
  static const absl::Status& StatusOf(const absl::Status& s) { return s; }
  template <class T>
  static absl::Status StatusOf(const absl::StatusOr<T>& s) {
    return s.status();
  }

  F inner_;
  SleepFuture sleep_;
  Duration limit_;
  bool timed_out_ = false;
};

template <Future F>
TimeoutFuture<std::decay_t<F>> Timeout(Duration limit, F&& future) {
  return TimeoutFuture<std::decay_t<F>>(std::forward<F>(future), limit);
}

}  // namespace polyio

#endif  // POLYIO_RUNTIME_TIME_TIMEOUT_H_
