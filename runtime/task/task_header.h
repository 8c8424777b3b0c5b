// TaskHeader: the scheduler's view of a spawned task.
//
// It carries what is independent of the task's type: the scheduling state,
// the reference count, the cancellation flag, the join waker, the link in
// its scheduler's list of live tasks, where it was spawned, and the
// exception it ended with. SpawnedTask<T> (join_handle.h) adds the Task<T>
// itself and the slot its result moves to.
//
// A task that finishes frees its coroutine frame at once — its parameters
// and locals, the sockets and channel ends it owned — and keeps only its
// result (or exception) for the JoinHandle, as tokio stores a task's output
// apart from its future: a finished task must not keep a peer waiting for
// EOF, or a channel open, until somebody joins it.
//
// An exception nobody will see — the task was detached, or its handle was
// dropped without taking the result — goes to the detached-task hook
// (SetDetachedTaskExceptionHook), which by default prints one line naming
// the task's spawn site. Exactly one of "the task finished" and "the handle
// let go" reports it, whichever happens second.
//
// Scheduling state, in one atomic word (a small version of tokio's):
//   SCHEDULED  in a run queue. A wake sets it and queues the task, unless it
//              is already set: two wakes before a run schedule it once.
//   RUNNING    being polled. A wake while running sets NOTIFIED instead, and
//              the task is queued again when the poll ends.
//   COMPLETE   finished (or abandoned at shutdown). Wakes are no-ops.
//
// References: one for the JoinHandle, one while the task is live (until
// COMPLETE), one per queue entry, one per Waker clone. The last one frees the
// header and the coroutine frame.
//
// Thread-safety: Wake, Ref/Unref, Abort and PollJoin are thread-safe. Run
// is called by one thread at a time (the scheduler's state bits guarantee
// it), which may differ from call to call on the multi-thread runtime.
// Abandon runs at shutdown, when nothing runs the task.
#ifndef POLYIO_RUNTIME_TASK_TASK_HEADER_H_
#define POLYIO_RUNTIME_TASK_TASK_HEADER_H_

#include <atomic>
#include <cstdint>
#include <exception>

#include "platform/intrusive_list.h"
#include "platform/source_location.h"
#include "runtime/metrics/worker_counters.h"
#include "runtime/task/atomic_waker.h"
#include "runtime/task/context.h"
#include "runtime/task/frame_pool.h"
#include "runtime/task/runnable.h"
#include "runtime/task/task_scheduler.h"
#include "runtime/task/waker.h"

namespace polyio {

// Receives the exception that ended a task nobody awaits, and the place the
// task was spawned. Called on the thread where the task finished or where
// its handle was dropped. Must not throw.
using DetachedTaskExceptionHook = void (*)(std::exception_ptr error,
                                           SourceLocation where);
// Installs `hook` (null: the default, a line on stderr) and returns the
// previous one. Thread-safe.
DetachedTaskExceptionHook SetDetachedTaskExceptionHook(
    DetachedTaskExceptionHook hook);

namespace internal {

// What a waiting task waits on, as the leaf future it is parked in said
// (NoteWait* below), for Runtime::DumpTasks.
enum class WaitKind : uint8_t {
  kUnknown,  // not recorded: a future that does not say (JoinHandle, ...)
  kIo,       // an I/O operation: op kind and fd
  kTimer,    // a Sleep, Timeout or Interval: its deadline
  kChannel,  // a channel receive: which channel type
};

struct WaitNote {
  WaitKind kind = WaitKind::kUnknown;
  uint8_t op_kind = 0;      // kIo: backends/operation.h's OpKind
  int32_t fd = -1;          // kIo
  int64_t deadline_ns = 0;  // kTimer: the clock's time_since_epoch
  const char* what = "";    // kChannel: a string literal
};

class TaskHeader : public Runnable, public FramePoolAllocated {
 public:
  struct VTable {
    // Polls the task; true when it completed, its result (or exception)
    // moved out of the frame and the frame freed.
    bool (*step)(TaskHeader*, Context&);
    void (*destroy_frame)(TaskHeader*);  // runs the frame's destructors
    void (*deallocate)(TaskHeader*);     // deletes the SpawnedTask<T>
  };

  // Starts with two references: the JoinHandle's and the live one.
  TaskHeader(const VTable* vtable, TaskScheduler* scheduler,
             SourceLocation spawned_at);
  ~TaskHeader();
  TaskHeader(const TaskHeader&) = delete;
  TaskHeader& operator=(const TaskHeader&) = delete;

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      vtable_->deallocate(this);
    }
  }

  // Queues the task to run unless it is queued, running or complete.
  void Wake();
  // Requests cooperative cancellation and wakes the task.
  void Abort();

  bool complete() const {
    return state_.load(std::memory_order_acquire) & kComplete;
  }
  // True when the runtime shut down before the task finished.
  bool abandoned() const { return abandoned_.load(std::memory_order_acquire); }

  // For JoinHandle::Poll: true when complete; otherwise stores `waker` to be
  // woken at completion.
  // One joiner polls at a time (the JoinHandle's owner).
  bool PollJoin(const Waker& waker);
  // The joiner stops waiting (it was cancelled): drops its stored waker.
  void StopJoinWait() { join_waker_.Take(); }

  // The exception the task ended with (set by step before completion);
  // taking it means somebody saw it.
  void set_exception(std::exception_ptr e) { exception_ = std::move(e); }
  std::exception_ptr TakeException() { return std::move(exception_); }
  // The JoinHandle lets go of the task (dropped or detached): reports the
  // task's exception if it already ended with one nobody took.
  void Detach();

  SourceLocation spawned_at() const { return spawned_at_; }

  // Queues the task for its first poll.
  void Schedule();

  // Shutdown: destroys the frame of a task that never finished, marks it
  // complete and abandoned, and wakes its joiner.
  void Abandon();

  // The scheduler's list of live tasks (LiveTaskList).
  ListLink<TaskHeader> live_link;

  // For Runtime::DumpTasks, from any thread (approximate while the task
  // runs).
  enum class DebugState { kRunning, kScheduled, kWaiting, kComplete };
  DebugState debug_state() const {
    uint32_t s = state_.load(std::memory_order_relaxed);
    if (s & kComplete) return DebugState::kComplete;
    if (s & kRunning) return DebugState::kRunning;
    if (s & kScheduled) return DebugState::kScheduled;
    return DebugState::kWaiting;
  }
  WaitNote wait_note() const {
    WaitNote n;
    const uint64_t word = wait_word_.load(std::memory_order_relaxed);
    n.kind = static_cast<WaitKind>(word & 0xff);
    n.op_kind = static_cast<uint8_t>(word >> 8);
    n.fd = static_cast<int32_t>(static_cast<uint32_t>(word >> 32));
    n.deadline_ns = wait_deadline_ns_.load(std::memory_order_relaxed);
    n.what = wait_what_.load(std::memory_order_relaxed);
    return n;
  }

  // Called by a leaf future that returns Pending, with its poll's context:
  // what the task polled now waits on. One or two relaxed stores (the I/O
  // case, on the per-message path, is one word); nothing outside a task.
  static void NoteWaitIo(const Context& cx, uint8_t op_kind, int32_t fd) {
    if (auto* t = static_cast<TaskHeader*>(cx.task())) {
      t->wait_word_.store(
          static_cast<uint64_t>(WaitKind::kIo) |
              (static_cast<uint64_t>(op_kind) << 8) |
              (static_cast<uint64_t>(static_cast<uint32_t>(fd)) << 32),
          std::memory_order_relaxed);
    }
  }
  static void NoteWaitTimer(const Context& cx, int64_t deadline_ns) {
    if (auto* t = static_cast<TaskHeader*>(cx.task())) {
      t->wait_deadline_ns_.store(deadline_ns, std::memory_order_relaxed);
      t->wait_word_.store(static_cast<uint64_t>(WaitKind::kTimer),
                          std::memory_order_relaxed);
    }
  }
  static void NoteWaitChannel(const Context& cx, const char* what) {
    if (auto* t = static_cast<TaskHeader*>(cx.task())) {
      t->wait_what_.store(what, std::memory_order_relaxed);
      t->wait_word_.store(static_cast<uint64_t>(WaitKind::kChannel),
                          std::memory_order_relaxed);
    }
  }

 private:
  static constexpr uint32_t kScheduled = 1;
  static constexpr uint32_t kRunning = 2;
  static constexpr uint32_t kNotified = 4;
  static constexpr uint32_t kComplete = 8;

  // Detach and completion, each set once; whoever sets the second reports.
  static constexpr uint8_t kHandleGone = 1;
  static constexpr uint8_t kEnded = 2;

  static void RunThunk(Runnable* r);
  static void DiscardThunk(Runnable* r);
  void Run();
  void Complete();
  void MarkEndOf(uint8_t event);

  static const WakerVTable kWakerVTable;

  const VTable* vtable_;
  TaskScheduler* scheduler_;  // holds a reference until the header dies
  std::atomic<uint32_t> state_{0};
  std::atomic<uint32_t> refs_{2};
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> abandoned_{false};
  bool registered_ = false;  // in the live list (whoever runs the task)
  bool frame_alive_ = true;
  std::atomic<uint8_t> ends_{0};  // kHandleGone | kEnded
  SourceLocation spawned_at_;
  // What the task waits on (NoteWait*); cleared at each poll.
  // WaitKind | op kind << 8 | fd << 32.
  std::atomic<uint64_t> wait_word_{0};
  std::atomic<int64_t> wait_deadline_ns_{0};
  std::atomic<const char*> wait_what_{""};
  std::exception_ptr exception_;
  // Lock-free: the joiner registers, completion wakes, possibly on two
  // threads at once (atomic_waker.h); no mutex on the spawn/join path.
  AtomicWaker join_waker_;
};

// The tasks a scheduler has polled and not seen complete, so that shutdown
// can free them. Thread-compatible: its owner locks if it needs to.
using LiveTaskList = IntrusiveList<TaskHeader, &TaskHeader::live_link>;

}  // namespace internal
}  // namespace polyio

#endif  // POLYIO_RUNTIME_TASK_TASK_HEADER_H_
