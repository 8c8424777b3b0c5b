// Waker: how a pending future says "poll me again".
//
// Two words, {data, vtable}, like Rust's RawWaker: whoever made the waker
// decides what clone, wake, wake-by-ref and drop mean (for a spawned task:
// take a reference, schedule the task, schedule it, release the reference).
// Copying clones, destroying drops, Wake() consumes the waker.
//
// Thread-safe: a Waker may be cloned, woken and dropped from any thread.
// Waking a finished task is a no-op; two wakes before the task runs
// schedule it once (the task's scheduler guarantees both).
#ifndef POLYIO_RUNTIME_WAKER_H_
#define POLYIO_RUNTIME_WAKER_H_

#include <utility>

namespace polyio {

struct WakerVTable {
  void* (*clone)(void* data);  // returns the data of the new waker
  void (*wake)(void* data);    // wake and release this reference
  void (*wake_by_ref)(void* data);
  void (*drop)(void* data);
};

class Waker {
 public:
  // A waker that does nothing (for futures polled outside any task).
  Waker() = default;
  Waker(void* data, const WakerVTable* vtable) : data_(data), vtable_(vtable) {}

  Waker(const Waker& other)
      : data_(other.vtable_ ? other.vtable_->clone(other.data_) : nullptr),
        vtable_(other.vtable_) {}
  Waker(Waker&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        vtable_(std::exchange(other.vtable_, nullptr)) {}
  Waker& operator=(const Waker& other) {
    if (this != &other) *this = Waker(other);
    return *this;
  }
  Waker& operator=(Waker&& other) noexcept {
    if (this != &other) {
      Reset();
      data_ = std::exchange(other.data_, nullptr);
      vtable_ = std::exchange(other.vtable_, nullptr);
    }
    return *this;
  }
  ~Waker() { Reset(); }

  // Wakes and consumes the waker; it is empty afterwards.
  void Wake() && {
    const WakerVTable* vt = std::exchange(vtable_, nullptr);
    if (vt) vt->wake(std::exchange(data_, nullptr));
  }
  void WakeByRef() const {
    if (vtable_) vtable_->wake_by_ref(data_);
  }

  // True when both wake the same thing: a future can then skip replacing
  // the waker it stored (one clone and one drop saved per poll).
  bool WillWake(const Waker& other) const {
    return data_ == other.data_ && vtable_ == other.vtable_;
  }
  bool empty() const { return vtable_ == nullptr; }

  void Reset() {
    const WakerVTable* vt = std::exchange(vtable_, nullptr);
    if (vt) vt->drop(std::exchange(data_, nullptr));
  }

 private:
  void* data_ = nullptr;
  const WakerVTable* vtable_ = nullptr;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_WAKER_H_
