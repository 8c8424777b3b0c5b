// Slot<F>: one child of a combinator — the future until it completes, then
// its output. Internal to WhenAll and WhenAny.
//
// The future is destroyed the moment it completes, so that a finished
// child's coroutine frame (its buffers, its parameters) is gone before the
// combinator itself completes, and a large WhenAll does not hold finished
// frames. Thread-compatible; must not move once polled.
#ifndef POLYIO_RUNTIME_COMPOSE_SLOT_H_
#define POLYIO_RUNTIME_COMPOSE_SLOT_H_

#include <optional>
#include <type_traits>
#include <utility>

#include "runtime/task/context.h"
#include "runtime/task/future.h"
#include "runtime/task/poll.h"

namespace polyio::internal {

template <Future F>
class Slot {
 public:
  using Output = FutureOutput<F>;

  explicit Slot(F future) : future_(std::move(future)) {}
  // Only before the first poll (vectors of slots are built by moving).
  Slot(Slot&& other) noexcept(std::is_nothrow_move_constructible_v<F>) =
      default;

  // True when the child has completed; its output is then kept. An
  // exception from the child's poll propagates, and the child is destroyed.
  bool Poll(Context& cx) {
    polyio::Poll<Output> p = PollOrDestroy(cx);
    if (p.pending()) return false;
    output_.emplace(std::move(p).value());
    return true;
  }

  // The output of a completed child, moved out. Once.
  Output output() && { return std::move(*output_); }
  // Destroys the output of a completed child now (a loser's, in WhenAny).
  void DiscardOutput() { output_.reset(); }

 private:
  polyio::Poll<Output> PollOrDestroy(Context& cx) {
    try {
      polyio::Poll<Output> p = future_->Poll(cx);
      if (p.ready()) future_.reset();
      return p;
    } catch (...) {
      future_.reset();
      throw;
    }
  }

  std::optional<F> future_;
  std::optional<Output> output_;
};

}  // namespace polyio::internal

#endif  // POLYIO_RUNTIME_COMPOSE_SLOT_H_
