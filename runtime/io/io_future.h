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
// Which driver: the one set with set_driver() (a stream's home driver),
// else the polling thread's. An operation always completes on the driver it
// was submitted to. On the multi-thread runtime the task may be polled on
// another worker than that driver's: the submission then goes through the
// driver's mailbox, and the completion wakes the task wherever it runs
// (the state is atomic and the waker an AtomicWaker for that reason).
//
// Each poll that completes an operation spends one unit of the task's
// cooperative budget (context.h).
//
// Thread-compatible: polled by one task at a time, which may move between
// threads; the completion may come from another thread.
#ifndef POLYIO_RUNTIME_IO_IO_FUTURE_H_
#define POLYIO_RUNTIME_IO_IO_FUTURE_H_

#include <atomic>
#include <cerrno>
#include <cstdint>

#include "backends/operation.h"
#include "runtime/driver/driver.h"
#include "runtime/metrics/worker_counters.h"
#include "runtime/task/atomic_waker.h"
#include "runtime/task/context.h"
#include "runtime/task/poll.h"
#include "runtime/task/runnable.h"
#include "runtime/task/task_header.h"

namespace polyio {

class IoFuture {
 public:
  IoFuture() { op_.on_complete = &OnComplete; }
  // Moving is allowed only before the first poll.
  IoFuture(IoFuture&& other) noexcept;
  IoFuture& operator=(IoFuture&&) = delete;
  IoFuture(const IoFuture&) = delete;
  ~IoFuture() {
    if (in_flight_.load(std::memory_order_acquire)) CancelAndWait();
  }

  // The operation to fill in before the first poll.
  Operation& op() { return op_; }
  const Operation& op() const { return op_; }
  // The driver to submit to (before the first poll); null: the current one.
  void set_driver(Driver* driver) { driver_ = driver; }
  // The driver it was submitted to (after the first poll).
  Driver* driver() const { return driver_; }
  // Where to read op().fd from, at the moment the operation is handed to
  // the backend on the driver's thread (before the first poll): a stream's
  // FdHandle, whose number turns -1 at Close (fd_handle.h). The backend then
  // completes the operation with -EBADF instead of touching whatever has
  // that number by now.
  void set_fd_source(const std::atomic<int>* source) { fd_source_ = source; }

  polyio::Poll<int32_t> PollResult(Context& cx) {
    if (!submitted_) return Submit(cx);
    if (!in_flight_.load(std::memory_order_acquire)) return op_.res;
    return PollInFlight(cx);
  }

  // Back to the state before the first poll (after a result), to submit the
  // same operation again.
  void Reset() { submitted_ = false; }

  // For a future that stops waiting without taking the result: cancels the
  // operation if it is in flight and waits for its completion. Returns its
  // result — the real one if it won the race with the cancel — or
  // -ECANCELED when it never reached the backend.
  int32_t Abandon() {
    if (!submitted_) return -ECANCELED;
    if (in_flight_.load(std::memory_order_acquire)) CancelAndWait();
    return op_.res;
  }

 private:
  static void OnComplete(Operation* op);
  static void SubmitOnDriverThread(Runnable* r);
  // Inline: the first poll of every operation, on the thread of its driver
  // in the common case (completions are then delivered on this thread, so
  // nothing races with the stores below).
  polyio::Poll<int32_t> Submit(Context& cx) {
    if (cx.cancelled()) return -ECANCELED;
    if (!cx.ConsumeBudget()) {
      cx.waker().WakeByRef();
      return kPending;
    }
    Driver* current = Driver::Current();
    if (driver_ == nullptr) driver_ = current;
    if (driver_ != current || current == nullptr) return SubmitElsewhere(cx);
    submitted_ = true;
    cancel_requested_ = false;
    TakeFd();
    metrics::WorkerCounters& counters = driver_->counters();
    counters.ops_submitted[static_cast<int>(op_.kind)].Add();
    if (driver_->backend().Submit(&op_)) return op_.res;
    in_flight_.store(true, std::memory_order_relaxed);
    waker_.Register(cx.waker());
    internal::TaskHeader::NoteWaitIo(cx, static_cast<uint8_t>(op_.kind),
                                     op_.fd);
    return kPending;
  }
  // Through another driver's mailbox, or no driver at all (a misuse).
  polyio::Poll<int32_t> SubmitElsewhere(Context& cx);
  polyio::Poll<int32_t> PollInFlight(Context& cx);
  void CancelAndWait();
  // Driver thread, just before Submit.
  void TakeFd() {
    if (fd_source_ != nullptr) {
      op_.fd = fd_source_->load(std::memory_order_acquire);
    }
  }

  Operation op_;
  // Set at submission, cleared (release) by the completion: the result in
  // op_.res is then visible. `submitted_` says whether there is a result.
  std::atomic<bool> in_flight_{false};
  bool submitted_ = false;
  bool cancel_requested_ = false;
  Driver* driver_ = nullptr;
  const std::atomic<int>* fd_source_ = nullptr;
  AtomicWaker waker_;
  Runnable remote_submit_{&SubmitOnDriverThread, &SubmitOnDriverThread};
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_IO_IO_FUTURE_H_
