#include "runtime/event_loop.h"

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/task/frame_pool.h"
#include "runtime/task/runnable.h"
#include "runtime/time/timer_wheel.h"

namespace polyio {
namespace internal {

// A posted callback: queued once, run once (or discarded at shutdown). From
// the frame pool: a post is a thread-local pop, not a trip to malloc.
class PostedCallback : public Runnable, public FramePoolAllocated {
 public:
  PostedCallback(EventLoop::Callback fn, std::atomic<int64_t>* pending)
      : Runnable(&RunThunk, &DiscardThunk),
        fn_(std::move(fn)),
        pending_(pending) {}

 private:
  static void RunThunk(Runnable* r) {
    auto* self = static_cast<PostedCallback*>(r);
    std::move(self->fn_)();
    self->pending_->fetch_sub(1, std::memory_order_relaxed);
    delete self;
  }
  static void DiscardThunk(Runnable* r) {
    auto* self = static_cast<PostedCallback*>(r);
    self->pending_->fetch_sub(1, std::memory_order_relaxed);
    delete self;
  }

  EventLoop::Callback fn_;
  std::atomic<int64_t>* pending_;
};

// A CallAfter/CallAt callback, shared by the wheel and its handles.
class CallbackTimer {
 public:
  CallbackTimer(EventLoop* loop, EventLoop::Callback fn)
      : entry_(&FireThunk, &DiscardThunk), loop_(loop), fn_(std::move(fn)) {}

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  // The wheel belongs to the loop's thread: calls from elsewhere go there.
  void Arm(Instant deadline) {
    Ref();  // the wheel's reference
    loop_->driver().RunOnDriverThread(
        [&] { loop_->driver().timers().Insert(&entry_, deadline); });
  }
  void Cancel() {
    loop_->driver().RunOnDriverThread([&] {
      if (!TimerWheel::Linked(&entry_)) return;
      loop_->driver().timers().Remove(&entry_);
      Finish();
    });
  }
  bool pending() {
    bool linked = false;
    loop_->driver().RunOnDriverThread(
        [&] { linked = TimerWheel::Linked(&entry_); });
    return linked;
  }

 private:
  static CallbackTimer* Of(TimerEntry* e) {
    return reinterpret_cast<CallbackTimer*>(reinterpret_cast<char*>(e) -
                                            offsetof(CallbackTimer, entry_));
  }
  static void FireThunk(TimerEntry* e) {
    CallbackTimer* self = Of(e);
    EventLoop::Callback fn = std::move(self->fn_);
    self->Finish();
    std::move(fn)();
  }
  static void DiscardThunk(TimerEntry* e) { Of(e)->Finish(); }
  void Finish() {
    fn_ = nullptr;
    loop_->pending_.fetch_sub(1, std::memory_order_relaxed);
    Unref();  // the wheel's reference
  }

  TimerEntry entry_;
  EventLoop* loop_;
  EventLoop::Callback fn_;
  std::atomic<int> refs_{0};
};

// A level-triggered watch: a poll-for-readiness operation, resubmitted after
// each callback. The callback runs from the run queue, never from inside the
// backend's Wait, so it may do anything, including stopping the watch.
class FdWatch : public Runnable {
 public:
  FdWatch(EventLoop* loop, int fd, uint32_t interest,
          EventLoop::ReadyCallback fn)
      : Runnable(&RunThunk, &DiscardThunk), loop_(loop), fn_(std::move(fn)) {
    op_.watch = this;
    op_.kind = OpKind::kPollFd;
    op_.fd = fd;
    op_.poll_events = interest;
    op_.on_complete = &OnComplete;
  }

  // Returns the error of the first submission, if it failed at once.
  int32_t Start() {
    refs_ = 2;  // the handle's, and the watch's own until stopped
    int32_t err = 0;
    loop_->driver().RunOnDriverThread([&] { err = Submit(); });
    return err;
  }

  void Cancel() {
    loop_->driver().RunOnDriverThread([this] { CancelOnLoopThread(); });
  }

  void Unref(int count = 1) {
    if (refs_.fetch_sub(count, std::memory_order_acq_rel) == count) {
      delete this;
    }
  }

 private:
  void CancelOnLoopThread() {
    if (stopped_) return;
    stopped_ = true;
    if (in_flight_) {
      // Completes the parked operation with -ECANCELED; OnComplete ends it.
      loop_->driver().backend().Forget(op_.fd);
    } else if (!queued_ && !running_) {
      End();
    }  // else RunThunk ends it
  }

  int32_t Submit() {
    if (loop_->driver().backend().Submit(&op_)) {
      if (op_.res < 0) return op_.res;
      Queue();
    } else {
      in_flight_ = true;
    }
    return 0;
  }
  void Queue() {
    queued_ = true;
    loop_->driver().local_scheduler().Schedule(this);
  }
  void End() {
    loop_->pending_.fetch_sub(1, std::memory_order_relaxed);
    fn_ = nullptr;
    Unref();
  }
  static FdWatch* Of(Operation* op) { return static_cast<WatchOp*>(op)->watch; }
  static void OnComplete(Operation* op) {
    FdWatch* self = Of(op);
    self->in_flight_ = false;
    if (self->stopped_) {
      self->End();
    } else {
      self->Queue();
    }
  }
  static void RunThunk(Runnable* r) {
    auto* self = static_cast<FdWatch*>(r);
    self->queued_ = false;
    if (self->stopped_) {
      self->End();
      return;
    }
    int32_t res = self->op_.res;
    uint32_t revents = res < 0 ? kPollErr : static_cast<uint32_t>(res);
    self->running_ = true;
    self->fn_(revents);
    self->running_ = false;
    if (self->stopped_) {
      self->End();
      return;
    }
    if (res < 0) {  // the fd is unusable: report once, then stop
      self->stopped_ = true;
      self->End();
      return;
    }
    if (int32_t err = self->Submit(); err < 0) {
      self->op_.res = err;
      self->Queue();
    }
  }
  static void DiscardThunk(Runnable* r) {
    auto* self = static_cast<FdWatch*>(r);
    self->queued_ = false;
    self->stopped_ = true;
    self->End();
  }

  EventLoop* loop_;
  // The operation, and a way back from it to the watch.
  struct WatchOp : Operation {
    FdWatch* watch;
  };

  EventLoop::ReadyCallback fn_;
  WatchOp op_;
  std::atomic<int> refs_{0};
  bool stopped_ = false;
  bool in_flight_ = false;
  bool queued_ = false;
  bool running_ = false;
};

}  // namespace internal

TimerHandle::TimerHandle(internal::CallbackTimer* timer) : timer_(timer) {
  if (timer_) timer_->Ref();
}
TimerHandle::TimerHandle(const TimerHandle& other)
    : TimerHandle(other.timer_) {}
TimerHandle& TimerHandle::operator=(const TimerHandle& other) {
  if (this != &other) {
    TimerHandle copy(other);
    std::swap(timer_, copy.timer_);
  }
  return *this;
}
TimerHandle::~TimerHandle() {
  if (timer_) timer_->Unref();
}
void TimerHandle::Cancel() {
  if (timer_) timer_->Cancel();
}
bool TimerHandle::pending() const { return timer_ && timer_->pending(); }

WatchHandle::WatchHandle(WatchHandle&& other) noexcept
    : watch_(std::exchange(other.watch_, nullptr)) {}
WatchHandle& WatchHandle::operator=(WatchHandle&& other) noexcept {
  if (this != &other) {
    if (watch_) watch_->Unref();
    watch_ = std::exchange(other.watch_, nullptr);
  }
  return *this;
}
WatchHandle::~WatchHandle() {
  if (watch_) watch_->Unref();
}
void WatchHandle::Cancel() {
  if (watch_) watch_->Cancel();
}

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create(
    const BackendOptions& options) {
  absl::StatusOr<std::unique_ptr<Driver>> driver = Driver::Create(options);
  if (!driver.ok()) return driver.status();
  auto loop = std::make_unique<EventLoop>(driver->get());
  loop->owned_driver_ = std::move(*driver);
  return loop;
}

EventLoop::~EventLoop() = default;

void EventLoop::Post(Callback fn) {
  pending_.fetch_add(1, std::memory_order_relaxed);
  driver_->local_scheduler().Schedule(
      new internal::PostedCallback(std::move(fn), &pending_));
}

TimerHandle EventLoop::CallAfter(Duration delay, Callback fn) {
  return CallAt(Now() + delay, std::move(fn));
}

TimerHandle EventLoop::CallAt(Instant deadline, Callback fn) {
  pending_.fetch_add(1, std::memory_order_relaxed);
  auto* timer = new internal::CallbackTimer(this, std::move(fn));
  // The handle's reference first: from another thread, the loop may fire
  // and release the timer before Arm returns.
  TimerHandle handle(timer);
  timer->Arm(deadline);
  return handle;
}

absl::StatusOr<WatchHandle> EventLoop::Watch(int fd, uint32_t interest,
                                             ReadyCallback fn) {
  if ((interest & (kPollIn | kPollOut)) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "watch fd ", fd, ": interest must include kPollIn or kPollOut"));
  }
  // Counted before it starts: from another thread, the loop may end the
  // watch (and uncount it) before Start returns.
  pending_.fetch_add(1, std::memory_order_relaxed);
  auto* watch = new internal::FdWatch(this, fd, interest, std::move(fn));
  if (int32_t err = watch->Start(); err < 0) {
    pending_.fetch_sub(1, std::memory_order_relaxed);
    watch->Unref(/*count=*/2);  // the handle's and its own: it never ran
    return absl::ErrnoToStatus(-err, absl::StrCat("watch fd ", fd));
  }
  return WatchHandle(watch);
}

void EventLoop::Run() {
  Driver::Enter scope(driver_);
  while (!stop_.load(std::memory_order_acquire) &&
         pending_.load(std::memory_order_acquire) > 0) {
    driver_->Turn(/*may_block=*/true);
  }
  // Cleared on the way out, not on entry: a Stop() made before Run (or
  // racing its start from another thread) ends this Run, as uv_stop does,
  // instead of being forgotten. Each Stop is used up by one Run.
  stop_.store(false, std::memory_order_relaxed);
}

void EventLoop::Stop() {
  stop_.store(true, std::memory_order_release);
  driver_->backend().Wake();
}

}  // namespace polyio
