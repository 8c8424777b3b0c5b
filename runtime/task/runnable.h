// Runnable: one unit of ready work — a task to poll, a posted callback.
//
// Intrusive (the link lives in the object), so queueing allocates nothing.
// `run` is called once per time the runnable is queued. `discard` is called
// instead when the queue is shut down with the runnable still in it, so that
// it can release what it holds.
#ifndef POLYIO_RUNTIME_RUNNABLE_H_
#define POLYIO_RUNTIME_RUNNABLE_H_

namespace polyio {

struct Runnable {
  using Fn = void (*)(Runnable*);
  Runnable(Fn run_fn, Fn discard_fn) : run(run_fn), discard(discard_fn) {}

  Runnable* next_runnable = nullptr;
  Fn run;
  Fn discard;
};

// A FIFO of Runnables. Thread-hostile.
class RunQueue {
 public:
  bool empty() const { return head_ == nullptr; }

  void Push(Runnable* r) {
    r->next_runnable = nullptr;
    if (tail_ != nullptr) {
      tail_->next_runnable = r;
    } else {
      head_ = r;
    }
    tail_ = r;
  }

  Runnable* Pop() {
    Runnable* r = head_;
    if (r != nullptr) {
      head_ = r->next_runnable;
      if (head_ == nullptr) tail_ = nullptr;
      r->next_runnable = nullptr;
    }
    return r;
  }

  void Append(RunQueue& other) {
    if (other.empty()) return;
    if (empty()) {
      head_ = other.head_;
    } else {
      tail_->next_runnable = other.head_;
    }
    tail_ = other.tail_;
    other.head_ = other.tail_ = nullptr;
  }

 private:
  Runnable* head_ = nullptr;
  Runnable* tail_ = nullptr;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_RUNNABLE_H_
