// WhenAll: await several futures at once, inside the awaiting task.
//
//   auto [a, b] = co_await WhenAll(ReadHeader(s), Sleep(10ms));
//   std::vector<int> v = co_await WhenAll(std::move(tasks));
//
// - WhenAll(f1, f2, ...) takes any Futures (Tasks, JoinHandles, Sleep, I/O
//   futures, other combinators), heterogeneous, and completes with a
//   std::tuple of their outputs in argument order. WhenAll(std::vector<F>)
//   completes with a std::vector of outputs in the vector's order. A
//   Task<void> polled as a future yields polyio::Unit (task.h), so a void
//   child's slot in the tuple is a Unit: nothing to read, but the position
//   is kept.
// - No spawning: the children are polled by the task that awaits WhenAll,
//   concurrently in the sense of interleaved, never in parallel. Each child
//   has its own waker and only woken children are re-polled (child_poller.h).
// - Every child runs to completion and reports its own result: an error
//   status is a value like any other and cancels nobody (tokio::join!,
//   C#'s Task.WhenAll). For fail-fast structured concurrency, use TaskGroup.
// - An exception thrown by a child cancels the other children, waits for
//   them to finish, and is then rethrown to the awaiter; if several children
//   throw, the first is rethrown (as C#'s `await Task.WhenAll` does).
// - Cancellation: the children see the awaiting task's cancellation (their
//   Context is a scope inside the task's), and WhenAll completes only when
//   every child has finished — with the CancelledError results they report.
// - A child is destroyed as soon as it completes (a Task's frame, with its
//   buffers and parameters, is gone before WhenAll returns).
//
// Cancel-safety (docs/cancellation.md): that of the children; all of them
// finish before WhenAll does.
//
// Thread-compatible; the children's wakers are thread-safe. Must not move
// once polled (the children must not move either).
#ifndef POLYIO_RUNTIME_COMPOSE_WHEN_ALL_H_
#define POLYIO_RUNTIME_COMPOSE_WHEN_ALL_H_

#include <cstddef>
#include <exception>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/compose/child_poller.h"
#include "runtime/compose/slot.h"
#include "runtime/task/context.h"
#include "runtime/task/future.h"
#include "runtime/task/poll.h"

namespace polyio {

template <Future... Fs>
class WhenAllFuture {
 public:
  using Output = std::tuple<FutureOutput<Fs>...>;

  explicit WhenAllFuture(Fs... futures)
      : slots_(std::move(futures)...), poller_(sizeof...(Fs)) {}

  polyio::Poll<Output> Poll(Context& cx) {
    poller_.PollDue(cx, [this](size_t i, Context& child_cx) {
      return PollChild(i, child_cx, std::index_sequence_for<Fs...>());
    });
    if (poller_.remaining() > 0) return kPending;
    if (std::exception_ptr e = poller_.TakeException()) {
      std::rethrow_exception(e);
    }
    return std::apply(
        [](auto&... slot) { return Output(std::move(slot).output()...); },
        slots_);
  }

 private:
  template <size_t... Is>
  bool PollChild(size_t i, Context& cx, std::index_sequence<Is...>) {
    bool finished = false;
    ((i == Is ? (finished = std::get<Is>(slots_).Poll(cx), 0) : 0), ...);
    return finished;
  }

  std::tuple<internal::Slot<Fs>...> slots_;
  internal::ChildPoller poller_;
};

template <Future F>
class WhenAllVectorFuture {
 public:
  using Output = std::vector<FutureOutput<F>>;

  explicit WhenAllVectorFuture(std::vector<F> futures)
      : slots_(MakeSlots(std::move(futures))), poller_(slots_.size()) {}

  polyio::Poll<Output> Poll(Context& cx) {
    poller_.PollDue(cx, [this](size_t i, Context& child_cx) {
      return slots_[i].Poll(child_cx);
    });
    if (poller_.remaining() > 0) return kPending;
    if (std::exception_ptr e = poller_.TakeException()) {
      std::rethrow_exception(e);
    }
    Output out;
    out.reserve(slots_.size());
    for (internal::Slot<F>& slot : slots_) {
      out.push_back(std::move(slot).output());
    }
    return out;
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
};

template <class... Fs>
requires(Future<std::decay_t<Fs>>&&...)
    WhenAllFuture<std::decay_t<Fs>...> WhenAll(Fs&&... futures) {
  return WhenAllFuture<std::decay_t<Fs>...>(std::forward<Fs>(futures)...);
}

template <Future F>
WhenAllVectorFuture<F> WhenAll(std::vector<F> futures) {
  return WhenAllVectorFuture<F>(std::move(futures));
}

}  // namespace polyio

#endif  // POLYIO_RUNTIME_COMPOSE_WHEN_ALL_H_
