// SpawnBlocking(fn): runs fn on the blocking pool; a future of its result.
//
//   absl::StatusOr<std::string> text = co_await SpawnBlocking([path] {
//     return ReadWholeFileTheBlockingWay(path);   // returns std::string
//   });
//
// The job is queued at once (like Spawn, unlike a lazy future), on
// BlockingPool::Current() — or on a given pool with SpawnBlockingOn. The
// future's output flattens fn's result as JoinHandle does (join_handle.h):
//   void -> absl::Status, absl::Status -> absl::Status,
//   absl::StatusOr<U> -> absl::StatusOr<U>, any other T -> absl::StatusOr<T>.
// An exception thrown by fn is rethrown to whoever awaits the future. The
// output is CancelledError only when the job did not run: the pool shut down
// first, or the awaiting task was cancelled before a thread took it.
//
// Dropping the future before a thread took the job cancels it: it never
// runs. After it started it cannot be interrupted (tokio's rule too): it
// runs to the end on its thread and its result is discarded. Likewise a
// task cancelled while the job runs stops waiting at once (CancelledError),
// so that Timeout(d, SpawnBlocking(...)) returns after d even if fn does
// not. fn must therefore own what it uses (capture by value).
//
// Cancel-safety (docs/cancellation.md): a job that never started never
// runs; one that ran has its result destroyed (an fd in it is closed).
//
// Thread-safety: SpawnBlocking may be called from any thread; the future is
// thread-compatible (awaited once, from one task) and may be moved freely,
// also after it was polled. The pool thread wakes the awaiting task's Waker,
// which is thread-safe.
#ifndef POLYIO_RUNTIME_BLOCKING_SPAWN_BLOCKING_H_
#define POLYIO_RUNTIME_BLOCKING_SPAWN_BLOCKING_H_

#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/blocking/blocking_job.h"
#include "runtime/blocking/blocking_pool.h"
#include "runtime/task/context.h"
#include "runtime/task/join_handle.h"
#include "runtime/task/poll.h"

namespace polyio {

namespace internal {

// What dropping (or cancelling) a future whose job already runs does.
enum class WhileRunning : uint8_t {
  // Stop waiting; the job finishes on its own (SpawnBlocking).
  kDetach,
  // Wait for the job to finish, blocking in the destructor if need be: for
  // jobs that write into memory the awaiter owns (runtime/fs reads into the
  // caller's buffer). Bounded by one syscall, as an io_uring read's
  // cancellation is (IoFuture waits for the kernel the same way).
  kWait,
};

}  // namespace internal

template <class R>
class [[nodiscard]] BlockingFuture {
 public:
  using Output = JoinResult<R>;

  BlockingFuture() = default;
  explicit BlockingFuture(
      internal::BlockingResult<R>* job,
      internal::WhileRunning while_running = internal::WhileRunning::kDetach)
      : job_(job), while_running_(while_running) {}
  BlockingFuture(BlockingFuture&& other) noexcept
      : job_(std::exchange(other.job_, nullptr)),
        while_running_(other.while_running_) {}
  BlockingFuture& operator=(BlockingFuture&& other) noexcept {
    if (this != &other) {
      Drop();
      job_ = std::exchange(other.job_, nullptr);
      while_running_ = other.while_running_;
    }
    return *this;
  }
  BlockingFuture(const BlockingFuture&) = delete;
  BlockingFuture& operator=(const BlockingFuture&) = delete;
  ~BlockingFuture() { Drop(); }

  polyio::Poll<Output> Poll(Context& cx) {
    if (job_ == nullptr) {
      return Output(absl::FailedPreconditionError(
          "SpawnBlocking: empty future (moved from, or already awaited)"));
    }
    if (IsFinished(job_->state())) return Take();
    if (cx.cancelled()) {
      if (job_->TryCancel()) {
        Release();
        return Output(absl::CancelledError(
            "SpawnBlocking: cancelled before the job started"));
      }
      if (while_running_ == internal::WhileRunning::kDetach &&
          !IsFinished(job_->state())) {
        Release();
        return Output(absl::CancelledError(
            "SpawnBlocking: cancelled while the job runs; its result will be "
            "discarded"));
      }
    }
    job_->SetWaker(cx.waker());
    if (IsFinished(job_->state())) return Take();
    return kPending;
  }

 private:
  using State = internal::BlockingJob::State;

  static bool IsFinished(State s) {
    return s == State::kDone || s == State::kNotRun;
  }

  Output Take() {
    internal::BlockingResult<R>* job = std::exchange(job_, nullptr);
    struct Unref {
      internal::BlockingResult<R>* job;
      ~Unref() { job->Unref(); }
    } unref{job};
    if (job->state() == State::kNotRun) return Output(job->not_run_status());
    if constexpr (std::is_void_v<R>) {
      job->TakeValue();  // rethrows fn's exception
      return absl::OkStatus();
    } else {
      return Output(job->TakeValue());
    }
  }

  void Release() { std::exchange(job_, nullptr)->Unref(); }

  void Drop() {
    if (job_ == nullptr) return;
    if (!job_->TryCancel() && while_running_ == internal::WhileRunning::kWait) {
      job_->WaitWhileRunning();
    }
    Release();
  }

  internal::BlockingResult<R>* job_ = nullptr;
  internal::WhileRunning while_running_ = internal::WhileRunning::kDetach;
};

namespace internal {

template <class F>
using BlockingOutputOf = std::invoke_result_t<std::decay_t<F>&&>;

// SpawnBlockingOn with a choice of what happens to a running job when its
// future goes away (see WhileRunning).
template <class F>
BlockingFuture<BlockingOutputOf<F>> SpawnBlockingWith(
    BlockingPool& pool, F&& fn, WhileRunning while_running) {
  auto* job = new BlockingJobOf<std::decay_t<F>>(std::forward<F>(fn));
  pool.Submit(job);
  return BlockingFuture<BlockingOutputOf<F>>(job, while_running);
}

}  // namespace internal

// Runs `fn` on `pool`.
template <class F>
BlockingFuture<internal::BlockingOutputOf<F>> SpawnBlockingOn(
    BlockingPool& pool, F&& fn) {
  return internal::SpawnBlockingWith(pool, std::forward<F>(fn),
                                     internal::WhileRunning::kDetach);
}

// Runs `fn` on BlockingPool::Current().
template <class F>
BlockingFuture<internal::BlockingOutputOf<F>> SpawnBlocking(F&& fn) {
  return SpawnBlockingOn(BlockingPool::Current(), std::forward<F>(fn));
}

}  // namespace polyio

#endif  // POLYIO_RUNTIME_BLOCKING_SPAWN_BLOCKING_H_
