// Task<T>: the coroutine type — polyio's `async fn`.
//
// - Lazy: calling a coroutine that returns Task<T> only allocates its frame
//   (from the frame pool); the body starts at the first poll or co_await.
// - A Task is itself a Future (Poll(Context&)), so it can be spawned, raced
//   or given a timeout like any other future.
// - Inside a task, `co_await` takes any Future, polled with the task's
//   Context, and any Task: awaiting a task neither polls through every level
//   nor grows the stack, so a chain of 100,000 nested co_awaits runs in
//   constant stack.
// - An exception escaping the body is stored and rethrown to whoever awaits
//   the task (or takes its result). The library itself never throws.
//
// How a chain of tasks is polled: the tasks awaiting one another share one
// `Chain`, owned by the outermost. When the innermost suspends on a leaf
// future, the chain remembers that coroutine and how to re-poll its future.
// Polling the outermost task again re-polls only that leaf future and, if it
// is ready, resumes the innermost coroutine directly.
//
// Control moves between parent and child (start, and return) through a
// trampoline in Step(): a suspending coroutine names the next one in
// `Chain::next` and returns. This is symmetric transfer done by hand. The
// language's own form (await_suspend returning a handle) relies on the
// compiler emitting a tail call, which g++ under ASan and clang at -O0 do
// not: a 100,000-deep chain overflowed the stack there.
//
// Cancellation reaches a task through its Context (context.h); a Task's
// own cancel-safety is that of the futures it awaits (docs/cancellation.md).
//
// Thread-compatible: a task runs on one thread at a time; a spawned task may
// be moved between threads by an executor between polls.
#ifndef POLYIO_RUNTIME_TASK_TASK_H_
#define POLYIO_RUNTIME_TASK_TASK_H_

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "runtime/task/context.h"
#include "runtime/task/frame_pool.h"
#include "runtime/task/future.h"
#include "runtime/task/poll.h"

namespace polyio {

template <class T = void>
class Task;

// What a Task<void> yields when polled as a future.
struct Unit {};

namespace internal {

template <class T>
using TaskOutput = std::conditional_t<std::is_void_v<T>, Unit, T>;

// State shared by a stack of tasks awaiting one another (see above).
struct Chain {
  Context* cx = nullptr;
  std::coroutine_handle<> next;                          // for the trampoline
  std::coroutine_handle<> leaf;                          // innermost, suspended
  bool (*repoll)(void* awaiter, Context& cx) = nullptr;  // true: resume leaf
  void* awaiter = nullptr;
};

// Awaits a leaf future from inside a task.
template <class F>
class FutureAwaiter {
 public:
  using Output = FutureOutput<F>;
  FutureAwaiter(F* future, Chain* chain) : future_(future), chain_(chain) {}

  bool await_ready() { return PollOnce(*chain_->cx); }
  void await_suspend(std::coroutine_handle<> h) {
    chain_->leaf = h;
    chain_->repoll = &Repoll;
    chain_->awaiter = this;
  }
  Output await_resume() {
    if (exception_) std::rethrow_exception(std::exchange(exception_, nullptr));
    return std::move(*output_);
  }

 private:
  bool PollOnce(Context& cx) {
    Poll<Output> p = future_->Poll(cx);
    if (p.pending()) return false;
    output_.emplace(std::move(p).value());
    return true;
  }
  // Re-polls from outside the coroutine (Task::Step): an exception from the
  // future (a JoinHandle rethrowing its task's) must surface inside the
  // coroutine, at the co_await, so it is carried there.
  static bool Repoll(void* self, Context& cx) {
    auto* awaiter = static_cast<FutureAwaiter*>(self);
    try {
      return awaiter->PollOnce(cx);
    } catch (...) {
      awaiter->exception_ = std::current_exception();
      return true;
    }
  }

  F* future_;
  Chain* chain_;
  std::optional<Output> output_;
  std::exception_ptr exception_;
};

template <class T>
class TaskPromise;

template <class T>
class TaskAwaiter;

class PromiseBase : public FramePoolAllocated {
 public:
  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) noexcept {
      PromiseBase& p = h.promise();
      p.chain_->next = p.continuation_;  // null for the outermost: done
    }
    void await_resume() noexcept {}
  };

  std::suspend_always initial_suspend() noexcept { return {}; }
  FinalAwaiter final_suspend() noexcept { return {}; }

  template <class U>
  TaskAwaiter<U> await_transform(Task<U>&& task) {
    return TaskAwaiter<U>(&task, chain_);
  }
  template <class U>
  TaskAwaiter<U> await_transform(Task<U>& task) {
    return TaskAwaiter<U>(&task, chain_);
  }
  template <class F>
  requires Future<std::remove_reference_t<F>>
      FutureAwaiter<std::remove_reference_t<F>> await_transform(F&& future) {
    return FutureAwaiter<std::remove_reference_t<F>>(&future, chain_);
  }

 protected:
  template <class U>
  friend class TaskAwaiter;
  template <class U>
  friend class polyio::Task;

  Chain* chain_ = nullptr;
  std::coroutine_handle<> continuation_;
  Chain own_chain_;  // used when this task is the outermost of its chain
  bool started_ = false;
  std::exception_ptr exception_;
};

template <class T>
class TaskPromise : public PromiseBase {
 public:
  Task<T> get_return_object();
  void unhandled_exception() { exception_ = std::current_exception(); }
  template <class V>
  void return_value(V&& value) {
    value_.emplace(std::forward<V>(value));
  }
  // Rethrows the task's exception, if it threw.
  T TakeResult() {
    if (exception_) std::rethrow_exception(std::exchange(exception_, nullptr));
    return std::move(*value_);
  }

 private:
  std::optional<T> value_;
};

template <>
class TaskPromise<void> : public PromiseBase {
 public:
  Task<void> get_return_object();
  void unhandled_exception() { exception_ = std::current_exception(); }
  void return_void() {}
  void TakeResult() {
    if (exception_) std::rethrow_exception(std::exchange(exception_, nullptr));
  }
};

// Awaits a task from inside a task: hands the chain down and has the
// trampoline run the child; the child's final_suspend has it run us again.
template <class T>
class TaskAwaiter {
 public:
  TaskAwaiter(Task<T>* task, Chain* chain) : task_(task), chain_(chain) {}
  bool await_ready() { return false; }
  void await_suspend(std::coroutine_handle<> parent) {
    auto& p = task_->handle_.promise();
    p.chain_ = chain_;
    p.continuation_ = parent;
    p.started_ = true;
    chain_->next = task_->handle_;
  }
  T await_resume() { return task_->handle_.promise().TakeResult(); }

 private:
  Task<T>* task_;
  Chain* chain_;
};

}  // namespace internal

template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = internal::TaskPromise<T>;
  using Output = internal::TaskOutput<T>;

  Task() = default;
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      Destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  // Destroying a task that is suspended inside an operation is a bug the
  // runtime prevents for spawned tasks (it drains operations first).
  ~Task() { Destroy(); }

  bool valid() const { return static_cast<bool>(handle_); }
  bool done() const { return handle_ && handle_.done(); }

  // Runs the task until it completes or waits on a leaf future. True when it
  // has completed; its result is then available through TakeResult().
  bool Step(Context& cx) {
    auto& p = handle_.promise();
    internal::Chain& chain = p.own_chain_;
    chain.cx = &cx;
    if (!p.started_) {
      p.started_ = true;
      p.chain_ = &chain;
      chain.next = handle_;
    } else if (!handle_.done()) {
      if (!chain.repoll(chain.awaiter, cx)) return false;
      chain.next = chain.leaf;
    }
    while (std::coroutine_handle<> h = std::exchange(chain.next, nullptr)) {
      h.resume();
    }
    return handle_.done();
  }

  // The value (or rethrown exception) of a completed task. Once.
  T TakeResult() { return handle_.promise().TakeResult(); }

  // The Future interface.
  polyio::Poll<Output> Poll(Context& cx) {
    if (!Step(cx)) return kPending;
    if constexpr (std::is_void_v<T>) {
      TakeResult();
      return Unit{};
    } else {
      return TakeResult();
    }
  }

 private:
  friend class internal::TaskPromise<T>;
  template <class U>
  friend class internal::TaskAwaiter;

  explicit Task(std::coroutine_handle<promise_type> h) : handle_(h) {}
  void Destroy() {
    if (handle_) std::exchange(handle_, {}).destroy();
  }

  std::coroutine_handle<promise_type> handle_;
};

namespace internal {

template <class T>
Task<T> TaskPromise<T>::get_return_object() {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}

inline Task<void> TaskPromise<void>::get_return_object() {
  return Task<void>(
      std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}

}  // namespace internal
}  // namespace polyio

#endif  // POLYIO_RUNTIME_TASK_TASK_H_
