// Future: anything with `Poll<T> Poll(Context&)`.
//
// Futures are lazy: nothing happens before the first poll. Once a future has
// returned Ready it must not be polled again. A future that returns Pending
// has stored (a clone of) cx.waker() where the event it waits for will find
// it. Futures are usually awaited from a Task (`co_await future`), which
// polls them with the task's Context.
#ifndef POLYIO_RUNTIME_TASK_FUTURE_H_
#define POLYIO_RUNTIME_TASK_FUTURE_H_

#include <concepts>
#include <type_traits>
#include <utility>

#include "runtime/task/context.h"
#include "runtime/task/poll.h"

namespace polyio {

template <class T>
struct IsPoll : std::false_type {};
template <class T>
struct IsPoll<Poll<T>> : std::true_type {};

template <class F>
concept Future = requires(F& f, Context& cx) {
  {f.Poll(cx)};
  requires IsPoll<decltype(f.Poll(cx))>::value;
};

template <Future F>
using FutureOutput = typename decltype(std::declval<F&>().Poll(
    std::declval<Context&>()))::value_type;

}  // namespace polyio

#endif  // POLYIO_RUNTIME_TASK_FUTURE_H_
