// AtomicWaker: a waker slot that one side fills while another side wakes it,
// from different threads.
//
// A leaf future (an I/O operation, a timer) stores the waker of the task
// that polls it, and the event (a completion, a timer firing) wakes it. On
// the multi-thread runtime the two happen on different threads: the task may
// be polled on one worker while the operation completes on another worker's
// driver. This is the lock-free protocol of futures-rs's AtomicWaker:
//
//   Register(w)  only the future's owner (the task polling it) calls it:
//                stores w; if a Wake() raced with the store, wakes w itself,
//                so the wake is never lost.
//   Wake()       any thread: takes the stored waker and wakes it. A wake with
//                nothing stored is remembered only in the sense that the
//                owner re-checks its own state after Register (the caller's
//                protocol: publish the event, then Wake).
//
// Thread-safety: Register from one thread at a time; Wake from any thread.
#ifndef POLYIO_RUNTIME_TASK_ATOMIC_WAKER_H_
#define POLYIO_RUNTIME_TASK_ATOMIC_WAKER_H_

#include <atomic>
#include <cstdint>
#include <utility>

#include "runtime/task/waker.h"

namespace polyio {

class AtomicWaker {
 public:
  AtomicWaker() = default;
  AtomicWaker(const AtomicWaker&) = delete;
  AtomicWaker& operator=(const AtomicWaker&) = delete;

  void Register(const Waker& waker) {
    uint32_t expected = kWaiting;
    if (!state_.compare_exchange_strong(expected, kRegistering,
                                        std::memory_order_acquire)) {
      // A Wake() is taking the slot right now: the caller must be polled
      // again, so wake the new waker directly.
      if (expected & kWaking) waker.WakeByRef();
      return;
    }
    if (!waker_.WillWake(waker)) waker_ = waker;
    expected = kRegistering;
    if (state_.compare_exchange_strong(expected, kWaiting,
                                       std::memory_order_acq_rel)) {
      return;
    }
    // A Wake() came while we stored: it left the waker to us.
    Waker taken = std::move(waker_);
    state_.store(kWaiting, std::memory_order_release);
    std::move(taken).Wake();
  }

  void Wake() {
    Waker taken = Take();
    std::move(taken).Wake();
  }

  // Takes the stored waker (empty if a Register is in progress: that
  // Register then wakes).
  Waker Take() {
    if (state_.fetch_or(kWaking, std::memory_order_acq_rel) != kWaiting) {
      return Waker();
    }
    Waker taken = std::move(waker_);
    state_.fetch_and(~kWaking, std::memory_order_release);
    return taken;
  }

 private:
  static constexpr uint32_t kWaiting = 0;
  static constexpr uint32_t kRegistering = 1;
  static constexpr uint32_t kWaking = 2;

  std::atomic<uint32_t> state_{kWaiting};
  Waker waker_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_TASK_ATOMIC_WAKER_H_
