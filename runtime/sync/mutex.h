// Mutex<T>: a value guarded by an asynchronous lock — tokio's sync::Mutex.
//
//   polyio::sync::Mutex<std::vector<int>> m;
//   absl::StatusOr<MutexGuard<std::vector<int>>> g = co_await m.Lock();
//   if (g.ok()) (*g)->push_back(1);   // unlocked when *g is destroyed
//
// Unlike polyio::Mutex (platform/mutex.h, which blocks a thread and must not
// be held across a co_await), this lock is awaited: a task waiting for it
// suspends, and a guard may be held across suspension points and moved to
// another thread with its task.
//
// Fair, FIFO: the lock is handed directly to the longest waiter when the
// guard is released, so a task that re-locks in a loop cannot take it back
// from tasks already queued; TryLock fails while anyone is queued. It is a
// one-permit Semaphore underneath and shares its cancellation rules: a Lock
// polled in a cancelled task fails with CancelledError (unless the lock was
// already handed to it, in which case it returns the guard), and a Lock
// future destroyed after the hand-off passes the lock on. The lock is never
// lost.
//
// Ownership: the Mutex must outlive its guards and Lock futures. A Lock
// future must not move once polled.
//
// Cancel-safe (docs/cancellation.md): a lock handed to a waiter as it was
// cancelled goes to the next waiter.
//
// Thread-safe. The guarded T is accessed only through a guard.
#ifndef POLYIO_RUNTIME_SYNC_MUTEX_H_
#define POLYIO_RUNTIME_SYNC_MUTEX_H_

#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "runtime/sync/semaphore.h"
#include "runtime/task/context.h"
#include "runtime/task/poll.h"

namespace polyio::sync {

template <class T>
class Mutex;

// Exclusive access to a Mutex's value; unlocks on destruction. Move-only;
// thread-compatible.
template <class T>
class [[nodiscard]] MutexGuard {
 public:
  MutexGuard(MutexGuard&&) noexcept = default;
  MutexGuard& operator=(MutexGuard&&) noexcept = default;

  T& operator*() const { return *value_; }
  T* operator->() const { return value_; }
  // Unlocks now; the guard is empty afterwards.
  void Unlock() {
    permit_.Release();
    value_ = nullptr;
  }

 private:
  friend class Mutex<T>;
  MutexGuard(T* value, SemaphorePermit permit)
      : value_(value), permit_(std::move(permit)) {}

  T* value_;
  SemaphorePermit permit_;
};

template <class T>
class Mutex {
 public:
  class LockFuture;

  template <class... Args>
  explicit Mutex(Args&&... args) : value_(std::forward<Args>(args)...) {}
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // Output: absl::StatusOr<MutexGuard<T>>; CancelledError when the task is
  // cancelled while waiting.
  LockFuture Lock() { return LockFuture(this); }

  // The lock, if it is free and nobody is queued for it.
  std::optional<MutexGuard<T>> TryLock() {
    absl::StatusOr<SemaphorePermit> p = sem_.TryAcquire(1);
    if (!p.ok()) return std::nullopt;
    return MutexGuard<T>(&value_, std::move(*p));
  }

 private:
  Semaphore sem_{1};
  T value_;  // guarded by holding sem_'s only permit
};

template <class T>
class [[nodiscard]] Mutex<T>::LockFuture {
 public:
  explicit LockFuture(Mutex* m)
      : mutex_(m), acquire_(&m->sem_, 1, "mutex lock") {}

  polyio::Poll<absl::StatusOr<MutexGuard<T>>> Poll(Context& cx) {
    polyio::Poll<absl::StatusOr<SemaphorePermit>> p = acquire_.Poll(cx);
    if (p.pending()) return kPending;
    absl::StatusOr<SemaphorePermit>& permit = p.value();
    if (!permit.ok()) return absl::StatusOr<MutexGuard<T>>(permit.status());
    return absl::StatusOr<MutexGuard<T>>(
        MutexGuard<T>(&mutex_->value_, std::move(*permit)));
  }

 private:
  Mutex* mutex_;
  Semaphore::AcquireFuture acquire_;
};

}  // namespace polyio::sync

#endif  // POLYIO_RUNTIME_SYNC_MUTEX_H_
