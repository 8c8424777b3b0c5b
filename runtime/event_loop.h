// EventLoop: the callback layer — nginx's and libuv's model, no coroutines.
//
//   auto loop = polyio::EventLoop::Create();
//   (*loop)->CallAfter(10ms, [] { puts("tick"); });
//   (*loop)->Run();
//
// - Post(fn): runs fn on the loop thread, in FIFO order with other posts.
//   Thread-safe: this is how other threads hand work to the loop.
// - CallAfter(d, fn) / CallAt(t, fn): runs fn once the deadline has passed
//   (never earlier). The returned handle cancels it; cancelling after it ran
//   is harmless.
// - Watch(fd, interest, fn): calls fn(revents) whenever fd is ready for
//   kPollIn and/or kPollOut, level-triggered (again and again while it stays
//   ready, as uv_poll does). The handle stops the watch and releases the fd
//   from the backend: stop it before closing the fd. One watch per fd.
// - Run(): runs until Stop() or until nothing is left to do (no posts,
//   timers or watches of this loop pending), as uv_run does.
// - Stop(): makes the current Run return after its turn — or, called
//   before Run (or racing its start from another thread), makes the next
//   Run return at once, without blocking (uv_stop alike). Each Stop ends
//   one Run.
//
// The loop shares its driver with a Runtime (Runtime::loop()), so callbacks
// and tasks interleave on one thread. Callbacks must not block.
//
// Thread-safety: thread-safe. Callbacks always run on the loop's thread.
// Post and Stop never wait; CallAfter/CallAt, Watch and the handles' calls
// made from another thread while the loop runs are carried out on the
// loop's thread (Driver::RunOnDriverThread) and wait for it — cheap on the
// loop's own thread, a round trip from elsewhere.
#ifndef POLYIO_RUNTIME_EVENT_LOOP_H_
#define POLYIO_RUNTIME_EVENT_LOOP_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "platform/clock.h"
#include "runtime/driver/driver.h"

namespace polyio {

namespace internal {
class CallbackTimer;
class FdWatch;
}  // namespace internal

// Cancels a CallAfter/CallAt callback. Copyable; a handle (one object) is
// thread-compatible, its copies may be used on different threads.
class TimerHandle {
 public:
  TimerHandle() = default;
  explicit TimerHandle(internal::CallbackTimer* timer);
  TimerHandle(const TimerHandle& other);
  TimerHandle& operator=(const TimerHandle& other);
  ~TimerHandle();

  // The callback will not run (no-op if it ran or was cancelled already).
  void Cancel();
  // True while the callback is still due.
  bool pending() const;

 private:
  internal::CallbackTimer* timer_ = nullptr;
};

// Stops a Watch. Move-only; thread-compatible. Dropping it does not stop
// the watch (call Cancel).
class WatchHandle {
 public:
  WatchHandle() = default;
  explicit WatchHandle(internal::FdWatch* watch) : watch_(watch) {}
  WatchHandle(WatchHandle&& other) noexcept;
  WatchHandle& operator=(WatchHandle&& other) noexcept;
  ~WatchHandle();

  void Cancel();

 private:
  internal::FdWatch* watch_ = nullptr;
};

class EventLoop {
 public:
  using Callback = absl::AnyInvocable<void() &&>;
  using ReadyCallback = absl::AnyInvocable<void(uint32_t revents)>;

  // A loop with its own driver.
  static absl::StatusOr<std::unique_ptr<EventLoop>> Create(
      const BackendOptions& options = {});
  // A view on an existing driver (Runtime::loop()); does not own it.
  explicit EventLoop(Driver* driver) : driver_(driver) {}
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  ~EventLoop();

  void Post(Callback fn);
  TimerHandle CallAfter(Duration delay, Callback fn);
  TimerHandle CallAt(Instant deadline, Callback fn);
  // `interest`: kPollIn and/or kPollOut (backends/operation.h).
  absl::StatusOr<WatchHandle> Watch(int fd, uint32_t interest,
                                    ReadyCallback fn);

  void Run();
  void Stop();

  Driver& driver() { return *driver_; }

 private:
  friend class internal::CallbackTimer;
  friend class internal::FdWatch;

  // Declared before the driver: destroying the driver discards pending
  // callbacks, which count themselves out of pending_.
  std::atomic<int64_t> pending_{0};  // posts, timers and watches not done
  std::atomic<bool> stop_{false};
  std::unique_ptr<Driver> owned_driver_;
  Driver* driver_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_EVENT_LOOP_H_
