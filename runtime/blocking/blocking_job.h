// BlockingJob: one piece of work for the blocking pool, shared between the
// pool thread that runs it and the future that awaits it.
//
// Life of a job (its state only moves forward):
//   kQueued --(pool thread)--> kRunning --> kDone      the function ran
//   kQueued --(awaiter)------> kCancelled              it never will
//   kQueued --(pool)--> kRunning --> kNotRun            refused: the pool shut
//                                                       down, or had no thread
// Whoever takes it out of kQueued decides; the compare-and-swap makes the
// "dropped before it started: it never runs" promise exact.
//
// Ownership: reference-counted, born with two references — the pool's (the
// queue, then the thread running it) and the awaiter's — so either side may
// finish first. The function object is destroyed as soon as it has run, so
// what it captured (an fd reference, a buffer) is released with the job's
// result, not when the awaiter gets round to dropping its future.
//
// Thread-safe: the pool side and the awaiter side may act at the same time
// from different threads; the awaiter's Waker is handed over under a mutex.
#ifndef POLYIO_RUNTIME_BLOCKING_BLOCKING_JOB_H_
#define POLYIO_RUNTIME_BLOCKING_BLOCKING_JOB_H_

#include <atomic>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "platform/mutex.h"
#include "runtime/task/waker.h"

namespace polyio::internal {

class BlockingJob {
 public:
  enum class State : uint8_t { kQueued, kRunning, kDone, kCancelled, kNotRun };

  // Type-erased operations of the concrete job (BlockingJobOf<F>): no
  // virtual calls, as in the rest of the runtime.
  struct VTable {
    void (*run)(BlockingJob* job);  // calls the function, stores its result
    void (*destroy)(BlockingJob* job);
  };

  explicit BlockingJob(const VTable* vtable) : vtable_(vtable) {}
  BlockingJob(const BlockingJob&) = delete;
  BlockingJob& operator=(const BlockingJob&) = delete;

  // Pool side: runs the function unless the awaiter cancelled the job first,
  // then wakes the awaiter.
  void Run() {
    State expected = State::kQueued;
    if (!state_.compare_exchange_strong(expected, State::kRunning,
                                        std::memory_order_acq_rel)) {
      return;
    }
    vtable_->run(this);
    Finish(State::kDone);
  }

  // Pool side: the job will never run; the awaiter gets `why`.
  void Refuse(absl::Status why) {
    State expected = State::kQueued;
    if (!state_.compare_exchange_strong(expected, State::kRunning,
                                        std::memory_order_acq_rel)) {
      return;
    }
    not_run_ = std::move(why);  // published by Finish's release store
    Finish(State::kNotRun);
  }

  // Awaiter side: true when the job had not started, and now never will.
  bool TryCancel() {
    State expected = State::kQueued;
    return state_.compare_exchange_strong(expected, State::kCancelled,
                                          std::memory_order_acq_rel);
  }

  // Awaiter side: blocks while the function runs (for awaiters that lent
  // the job memory, such as a read's buffer).
  void WaitWhileRunning() {
    State s = state_.load(std::memory_order_acquire);
    while (s == State::kRunning) {
      state_.wait(s, std::memory_order_acquire);
      s = state_.load(std::memory_order_acquire);
    }
  }

  // Awaiter side: the waker to call when the job finishes. The caller checks
  // state() again afterwards: a job that finished before the waker was
  // stored does not call it.
  void SetWaker(const Waker& waker) {
    MutexLock lock(&mu_);
    if (!waker_.WillWake(waker)) waker_ = waker;
  }

  State state() const { return state_.load(std::memory_order_acquire); }

  // Why the job did not run; valid once state() is kNotRun.
  const absl::Status& not_run_status() const { return not_run_; }

  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      vtable_->destroy(this);
    }
  }

  // The pool's queue link, guarded by the pool's mutex.
  BlockingJob* next = nullptr;

 protected:
  ~BlockingJob() = default;

 private:
  void Finish(State final_state) {
    state_.store(final_state, std::memory_order_release);
    state_.notify_all();
    Waker waker;
    {
      MutexLock lock(&mu_);
      waker = std::move(waker_);
    }
    std::move(waker).Wake();
  }

  const VTable* vtable_;
  std::atomic<State> state_{State::kQueued};
  std::atomic<int> refs_{2};
  absl::Status not_run_;
  Mutex mu_;
  Waker waker_ ABSL_GUARDED_BY(mu_);
};

// What a job of result type R keeps: its value or its exception.
template <class R>
class BlockingResult : public BlockingJob {
 public:
  using BlockingJob::BlockingJob;

  // Rethrows the function's exception, if it threw. Once, after kDone.
  R TakeValue() {
    if (exception_) std::rethrow_exception(std::exchange(exception_, nullptr));
    if constexpr (!std::is_void_v<R>) return std::move(*value_);
  }

 protected:
  template <class F>
  void Store(F& fn) {
    try {
      if constexpr (std::is_void_v<R>) {
        std::move(fn)();
      } else {
        value_.emplace(std::move(fn)());
      }
    } catch (...) {
      exception_ = std::current_exception();
    }
  }

 private:
  struct Nothing {};
  std::optional<std::conditional_t<std::is_void_v<R>, Nothing, R>> value_;
  std::exception_ptr exception_;
};

// The job for one function object F.
template <class F>
class BlockingJobOf final : public BlockingResult<std::invoke_result_t<F&&>> {
 public:
  explicit BlockingJobOf(F fn)
      : BlockingResult<std::invoke_result_t<F&&>>(&kVTable),
        fn_(std::move(fn)) {}

 private:
  static void RunFn(BlockingJob* job) {
    auto* self = static_cast<BlockingJobOf*>(job);
    self->Store(*self->fn_);
    self->fn_.reset();
  }
  static void Destroy(BlockingJob* job) {
    delete static_cast<BlockingJobOf*>(job);
  }
  static constexpr BlockingJob::VTable kVTable = {&RunFn, &Destroy};

  std::optional<F> fn_;
};

}  // namespace polyio::internal

#endif  // POLYIO_RUNTIME_BLOCKING_BLOCKING_JOB_H_
