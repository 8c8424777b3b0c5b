// IoFuture: one backend Operation as a future of its raw result.
//
// The first poll submits the operation to the current driver's backend; if
// the backend finishes it inline (a readiness backend whose first try
// succeeded) the result is ready at once, without suspending. Otherwise the
// future stores the task's waker, and the completion wakes it.
//
// Cancellation: a poll that finds the task cancelled before submitting
// returns -ECANCELED without touching the kernel; one that finds it cancelled
// while in flight asks the backend to cancel, and the result is whatever the
// operation completes with (-ECANCELED, or its real result if that won the
// race — data is never dropped).
//
// Ownership: the Operation and the buffer it names must stay put while in
// flight, so an IoFuture must not move once polled (it lives in a coroutine
// frame). Destroying one in flight cancels the operation and waits for its
// completion before returning.
//
// Each poll that completes an operation spends one unit of the task's
// cooperative budget (context.h).
//
// Thread-compatible; polled on one driver's thread.
#ifndef POLYIO_RUNTIME_IO_IO_FUTURE_H_
#define POLYIO_RUNTIME_IO_IO_FUTURE_H_

#include <cstdint>

#include "backends/operation.h"
#include "runtime/context.h"
#include "runtime/driver.h"
#include "runtime/poll.h"
#include "runtime/waker.h"

namespace polyio {

class IoFuture {
 public:
  IoFuture() { op_.on_complete = &OnComplete; }
  // Moving is allowed only before the first poll.
  IoFuture(IoFuture&& other) noexcept;
  IoFuture& operator=(IoFuture&&) = delete;
  IoFuture(const IoFuture&) = delete;
  ~IoFuture();

  // The operation to fill in before the first poll.
  Operation& op() { return op_; }

  polyio::Poll<int32_t> PollResult(Context& cx);

  // Back to the state before the first poll (after a result), to submit the
  // same operation again.
  void Reset() { state_ = State::kIdle; }

 private:
  enum class State : uint8_t { kIdle, kInFlight, kDone };
  static void OnComplete(Operation* op);

  Operation op_;
  State state_ = State::kIdle;
  bool in_flight_ = false;
  bool cancel_requested_ = false;
  Driver* driver_ = nullptr;
  Waker waker_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_IO_IO_FUTURE_H_
