// Semaphore: a count of permits, acquired asynchronously — tokio's
// sync::Semaphore.
//
//   polyio::sync::Semaphore sem(4);
//   absl::StatusOr<SemaphorePermit> p = co_await sem.Acquire(2);
//   if (!p.ok()) ...   // CancelledError, or FailedPrecondition once closed
//   ...                // the permits go back when *p is destroyed
//
// Fair: waiters are served strictly in arrival order. A request for more
// permits than are free waits at the head of the queue and nobody behind it
// (nor TryAcquire) takes the permits it is waiting for, so a large request
// is never starved by small ones. Permits are handed to a waiter directly
// when they are released (no barging).
//
// Close(): every waiter, and every later Acquire/TryAcquire, fails with
// FailedPrecondition. Permits still held may be released afterwards.
//
// Cancellation (docs/cancellation.md): an Acquire polled in a cancelled task
// fails with CancelledError and leaves the queue; if its permits were handed
// over before that poll, it returns them as a real result instead (the result
// won the race, as with I/O). An AcquireFuture destroyed after being granted
// returns its permits, which go on to the next waiter. No permit is ever lost.
//
// Ownership: the Semaphore must outlive its futures and permits. An
// AcquireFuture must not move once polled.
//
// Cancel-safe (docs/cancellation.md): permits handed to a cancelled waiter
// go back to the queue.
//
// Thread-safe: acquire, release and close from any thread; wakers are called
// from whichever thread releases.
#ifndef POLYIO_RUNTIME_SYNC_SEMAPHORE_H_
#define POLYIO_RUNTIME_SYNC_SEMAPHORE_H_

#include <cstddef>
#include <limits>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "platform/mutex.h"
#include "runtime/sync/wait_list.h"
#include "runtime/task/context.h"
#include "runtime/task/poll.h"

namespace polyio::sync {

class Semaphore;

// Permits held; released to the semaphore on destruction. Move-only.
// Thread-compatible.
class [[nodiscard]] SemaphorePermit {
 public:
  SemaphorePermit() = default;
  SemaphorePermit(SemaphorePermit&& other) noexcept
      : sem_(std::exchange(other.sem_, nullptr)),
        count_(std::exchange(other.count_, 0)) {}
  SemaphorePermit& operator=(SemaphorePermit&& other) noexcept {
    if (this != &other) {
      Release();
      sem_ = std::exchange(other.sem_, nullptr);
      count_ = std::exchange(other.count_, 0);
    }
    return *this;
  }
  ~SemaphorePermit() { Release(); }

  size_t count() const { return count_; }
  // Keeps the permits out of the semaphore for good (tokio's forget).
  void Forget() { count_ = 0; }
  // Returns the permits now.
  void Release();

 private:
  friend class Semaphore;
  SemaphorePermit(Semaphore* sem, size_t count) : sem_(sem), count_(count) {}

  Semaphore* sem_ = nullptr;
  size_t count_ = 0;
};

class Semaphore {
 public:
  // More than this many permits cannot exist (tokio has the same kind of
  // limit); Acquire beyond it fails with InvalidArgument.
  static constexpr size_t kMaxPermits = std::numeric_limits<size_t>::max() >> 3;

  class AcquireFuture;

  // `permits` above kMaxPermits is taken as kMaxPermits.
  explicit Semaphore(size_t permits);
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // Waits for `n` permits. Output: absl::StatusOr<SemaphorePermit>.
  AcquireFuture Acquire(size_t n = 1);

  // `n` permits now, if they are free and nobody is queued ahead;
  // ResourceExhausted if not, FailedPrecondition if closed.
  absl::StatusOr<SemaphorePermit> TryAcquire(size_t n = 1);

  // Adds permits (waking waiters they satisfy). InvalidArgument, adding
  // nothing, if the count would pass kMaxPermits.
  absl::Status AddPermits(size_t n);

  void Close();
  bool IsClosed() const;
  size_t available_permits() const;

 private:
  friend class SemaphorePermit;

  enum class Outcome { kWaiting, kGranted, kClosed };
  struct Waiter : internal::WaitNode {
    size_t needed = 0;
    Outcome outcome = Outcome::kWaiting;
  };

  void Release(size_t n);
  // Hands free permits to the head of the queue while they satisfy it.
  void GrantLocked(internal::WakeBatch& wake)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable polyio::Mutex mu_;
  size_t permits_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  internal::WaitList<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
};

// The future of Semaphore::Acquire. `op` names the operation in error
// messages ("mutex lock" when a Mutex uses it). Moving is allowed only
// before the first poll.
class [[nodiscard]] Semaphore::AcquireFuture {
 public:
  AcquireFuture(Semaphore* sem, size_t n, const char* op) : sem_(sem), op_(op) {
    node_.needed = n;
  }
  AcquireFuture(AcquireFuture&& other) noexcept
      : sem_(other.sem_), op_(other.op_), state_(other.state_) {
    node_.needed = other.node_.needed;
  }
  AcquireFuture& operator=(AcquireFuture&&) = delete;
  ~AcquireFuture();

  polyio::Poll<absl::StatusOr<SemaphorePermit>> Poll(Context& cx);

 private:
  enum class State { kIdle, kWaiting, kDone };

  Semaphore* sem_;
  const char* op_;
  State state_ = State::kIdle;
  Waiter node_;
};

inline Semaphore::AcquireFuture Semaphore::Acquire(size_t n) {
  return AcquireFuture(this, n, "semaphore acquire");
}

}  // namespace polyio::sync

#endif  // POLYIO_RUNTIME_SYNC_SEMAPHORE_H_
