// WhenAny / Select: the first of several futures to complete, after the
// others have been cancelled and have finished.
//
//   std::variant<absl::StatusOr<size_t>, absl::Status> r =
//       co_await WhenAny(stream.Read(buf), Sleep(1s));
//   if (r.index() == 1) { /* the sleep won: the read was cancelled */ }
//
//   WhenAnyResult<int> r = co_await WhenAny(std::move(tasks));  // a vector
//   // r.index: which one won, r.value: its output
//
// - WhenAny(f1, f2, ...) over any Futures completes with a
//   std::variant<Output1, Output2, ...> holding the winner's output at the
//   winner's index (variant::index(); several children may have the same
//   output type, so read it with std::get<I>, not std::get<T>).
//   WhenAny(std::vector<F>) completes with WhenAnyResult<Output>{index,
//   value}.
// - The winner is the first child whose poll returns Ready, in the order the
//   children are polled (argument order on the first poll).
// - The losers are cancelled — polled under a cancelled scope (context.h),
//   so that their current and later suspension points report
//   CancelledError, and an operation in flight is cancelled in the backend —
//   and WhenAny waits for every loser to finish before it completes: their
//   frames and buffers are gone by then (docs/cancellation.md). A loser
//   that completes anyway (it won the race with its cancellation) has its
//   output destroyed, as with tokio::select!. For the cancel-safe futures
//   that loses nothing: a TcpStream Read that lost keeps its bytes in the
//   stream for the next Read, an Accept keeps its connection, a channel
//   Recv takes nothing, a JoinHandle stops waiting and its task runs on.
//   Race others (a Write) only where a lost result is acceptable, or use
//   WhenAll.
// - An exception thrown by any child — winner or loser — cancels the rest,
//   and is rethrown once all have finished (it is never dropped in favour
//   of a value).
// - The awaiting task's cancellation reaches every child; the first to
//   finish (usually with CancelledError) is the winner.
// - WhenAny over an empty vector has no winner: with Status or StatusOr
//   outputs it completes at once with index kNoWinner and
//   InvalidArgumentError; with other outputs it is a programming error and
//   aborts the process with a message.
//
// Select(...) is WhenAny under tokio's name, with the same shape: C++ has no
// select! macro to attach a handler to each branch, so the branches are
// told apart by the variant's index (std::visit or a switch) — which is
// also what Select returns.
//
// Thread-compatible; the children's wakers are thread-safe. Must not move
// once polled.
#ifndef POLYIO_RUNTIME_COMPOSE_WHEN_ANY_H_
#define POLYIO_RUNTIME_COMPOSE_WHEN_ANY_H_

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "runtime/compose/child_poller.h"
#include "runtime/compose/slot.h"
#include "runtime/task/context.h"
#include "runtime/task/future.h"
#include "runtime/task/poll.h"

namespace polyio {

template <class T>
struct WhenAnyResult {
  static constexpr size_t kNoWinner = std::numeric_limits<size_t>::max();
  size_t index;
  T value;
};

template <Future... Fs>
class WhenAnyFuture {
 public:
  using Output = std::variant<FutureOutput<Fs>...>;
  static_assert(sizeof...(Fs) > 0, "WhenAny needs at least one future");

  explicit WhenAnyFuture(Fs... futures)
      : slots_(std::move(futures)...), poller_(sizeof...(Fs)) {}

  polyio::Poll<Output> Poll(Context& cx) {
    poller_.PollDue(cx, [this](size_t i, Context& child_cx) {
      return PollChild(i, child_cx, std::index_sequence_for<Fs...>());
    });
    if (poller_.remaining() > 0) return kPending;
    if (std::exception_ptr e = poller_.TakeException()) {
      std::rethrow_exception(e);
    }
    return std::move(*winner_);
  }

 private:
  template <size_t... Is>
  bool PollChild(size_t i, Context& cx, std::index_sequence<Is...>) {
    bool finished = false;
    ((i == Is ? (finished = PollOne<Is>(cx), 0) : 0), ...);
    return finished;
  }

  template <size_t I>
  bool PollOne(Context& cx) {
    auto& slot = std::get<I>(slots_);
    if (!slot.Poll(cx)) return false;
    if (winner_.has_value() || poller_.cancelling()) {
      slot.DiscardOutput();
    } else {
      winner_.emplace(std::in_place_index<I>, std::move(slot).output());
      poller_.CancelRemaining();
    }
    return true;
  }

  std::tuple<internal::Slot<Fs>...> slots_;
  internal::ChildPoller poller_;
  std::optional<Output> winner_;
};

template <Future F>
class WhenAnyVectorFuture {
 public:
  using Value = FutureOutput<F>;
  using Output = WhenAnyResult<Value>;

  explicit WhenAnyVectorFuture(std::vector<F> futures)
      : slots_(MakeSlots(std::move(futures))), poller_(slots_.size()) {
    if (slots_.empty() && !std::is_constructible_v<Value, absl::Status>) {
      std::fprintf(stderr, "polyio: WhenAny over an empty vector\n");
      std::abort();
    }
  }

  polyio::Poll<Output> Poll(Context& cx) {
    if constexpr (std::is_constructible_v<Value, absl::Status>) {
      if (slots_.empty()) {
        return Output{Output::kNoWinner,
                      Value(absl::InvalidArgumentError(
                          "WhenAny: no futures to wait for"))};
      }
    }
    poller_.PollDue(cx, [this](size_t i, Context& child_cx) {
      internal::Slot<F>& slot = slots_[i];
      if (!slot.Poll(child_cx)) return false;
      if (winner_.has_value() || poller_.cancelling()) {
        slot.DiscardOutput();
      } else {
        winner_.emplace(Output{i, std::move(slot).output()});
        poller_.CancelRemaining();
      }
      return true;
    });
    if (poller_.remaining() > 0) return kPending;
    if (std::exception_ptr e = poller_.TakeException()) {
      std::rethrow_exception(e);
    }
    return std::move(*winner_);
  }

 private:
  static std::vector<internal::Slot<F>> MakeSlots(std::vector<F> futures) {
    std::vector<internal::Slot<F>> slots;
    slots.reserve(futures.size());
    for (F& f : futures) slots.emplace_back(std::move(f));
    return slots;
  }

  std::vector<internal::Slot<F>> slots_;  // never resized once polled
  internal::ChildPoller poller_;
  std::optional<Output> winner_;
};

template <class... Fs>
requires(sizeof...(Fs) > 0 && (Future<std::decay_t<Fs>> && ...))
    WhenAnyFuture<std::decay_t<Fs>...> WhenAny(Fs&&... futures) {
  return WhenAnyFuture<std::decay_t<Fs>...>(std::forward<Fs>(futures)...);
}

template <Future F>
WhenAnyVectorFuture<F> WhenAny(std::vector<F> futures) {
  return WhenAnyVectorFuture<F>(std::move(futures));
}

// tokio's name for the same thing (see above).
template <class... Fs>
requires(sizeof...(Fs) > 0 && (Future<std::decay_t<Fs>> && ...))
    WhenAnyFuture<std::decay_t<Fs>...> Select(Fs&&... futures) {
  return WhenAny(std::forward<Fs>(futures)...);
}

template <Future F>
WhenAnyVectorFuture<F> Select(std::vector<F> futures) {
  return WhenAny(std::move(futures));
}

}  // namespace polyio

#endif  // POLYIO_RUNTIME_COMPOSE_WHEN_ANY_H_
