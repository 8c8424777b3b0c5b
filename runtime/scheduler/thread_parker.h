// ThreadParker: blocks a thread that is not a worker until a Waker fires.
//
// Runtime::BlockOn on the multi-thread runtime runs its task on the workers
// and parks the calling thread here; the task's JoinHandle wakes it. The
// state is reference-counted because the Waker can outlive the wait: the
// worker that completes the task wakes it a moment after the caller may
// have seen the task complete and returned.
//
// Thread-safety: thread-safe; Park from one thread.
#ifndef POLYIO_RUNTIME_SCHEDULER_THREAD_PARKER_H_
#define POLYIO_RUNTIME_SCHEDULER_THREAD_PARKER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "runtime/task/waker.h"

namespace polyio {

class ThreadParker {
 public:
  ThreadParker() : state_(new State) {}
  ~ThreadParker() { Unref(state_); }
  ThreadParker(const ThreadParker&) = delete;
  ThreadParker& operator=(const ThreadParker&) = delete;

  // A waker that unparks this parker.
  Waker waker() const {
    Ref(state_);
    return Waker(state_, &kVTable);
  }

  // Returns once woken (at once if a wake came since the last Park).
  void Park() {
    std::unique_lock<std::mutex> lock(state_->mu);
    state_->cv.wait(lock, [this] { return state_->notified; });
    state_->notified = false;
  }

 private:
  struct State {
    std::atomic<uint32_t> refs{1};
    std::mutex mu;
    std::condition_variable cv;
    bool notified = false;  // guarded by mu
  };

  static void Ref(State* s) { s->refs.fetch_add(1, std::memory_order_relaxed); }
  static void Unref(State* s) {
    if (s->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete s;
  }
  static void Unpark(State* s) {
    {
      std::lock_guard<std::mutex> lock(s->mu);
      s->notified = true;
    }
    s->cv.notify_one();
  }

  static constexpr WakerVTable kVTable = {
      /*clone=*/[](void* d) -> void* {
        Ref(static_cast<State*>(d));
        return d;
      },
      /*wake=*/
      [](void* d) {
        Unpark(static_cast<State*>(d));
        Unref(static_cast<State*>(d));
      },
      /*wake_by_ref=*/[](void* d) { Unpark(static_cast<State*>(d)); },
      /*drop=*/[](void* d) { Unref(static_cast<State*>(d)); },
  };

  State* state_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_SCHEDULER_THREAD_PARKER_H_
