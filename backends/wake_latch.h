// WakeLatch: makes Backend::Wake() cost one signal (an eventfd or pipe
// write, a kevent trigger) until the waiting thread has seen it, without ever
// losing a Wake() that races with the waiter consuming that signal.
//
//   Wake():            latch_.Wake([&] { write(wake_fd, ...); });
//   wait saw the fd:   latch_.Clear([&] { read(wake_fd, ...); });
//
// Clear runs `drain` first and opens the latch after, never the other way:
// a Wake() that lands in between finds the latch still closed and skips its
// signal, which is harmless, because the wait that is draining is returning
// anyway, and Clear's exchange reads that Wake's store, so whatever the
// waker queued before waking is visible to the waiter. Opened first, such a
// Wake's signal would be drained with the old one and the latch left closed
// with no signal behind it: every later Wake() would be lost.
//
// Movable, so that the pollers that hold one can be returned by value; the
// flag lives on the heap so that it does not move. A move must not race with
// Wake() (pollers are moved only before anyone can wake them).
//
// Thread-safety: Wake() from any thread, and async-signal-safe when `signal`
// is (the flag is lock-free). Clear() only from the waiting thread.
#ifndef POLYIO_BACKENDS_WAKE_LATCH_H_
#define POLYIO_BACKENDS_WAKE_LATCH_H_

#include <atomic>
#include <memory>

namespace polyio {

class WakeLatch {
 public:
  WakeLatch() : closed_(std::make_unique<std::atomic<bool>>(false)) {}

  // Calls `signal` unless a wake is already on its way to the waiter.
  template <class Signal>
  void Wake(Signal&& signal) {
    if (closed_->exchange(true, std::memory_order_acq_rel)) return;
    signal();
  }

  // The waiter saw the signal: `drain` consumes it, then the next Wake()
  // signals again.
  template <class Drain>
  void Clear(Drain&& drain) {
    drain();
    closed_->exchange(false, std::memory_order_acq_rel);
  }

 private:
  static_assert(std::atomic<bool>::is_always_lock_free,
                "Wake() must stay async-signal-safe");

  // True from the Wake() that signalled until Clear(): later wakes skip.
  std::unique_ptr<std::atomic<bool>> closed_;
};

}  // namespace polyio

#endif  // POLYIO_BACKENDS_WAKE_LATCH_H_
