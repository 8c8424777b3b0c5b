#include "runtime/driver/driver.h"

#include <algorithm>
#include <utility>

#include "runtime/driver/paused_time.h"
#include "runtime/task/task_header.h"

namespace polyio {
namespace {

void WakeBackend(void* backend) { static_cast<Backend*>(backend)->Wake(); }

// How long a thread waiting for another driver's answer sleeps in its own
// backend between looks. The answer comes within the other driver's next
// turn; this is the rare path (a task that moved threads cancelling what it
// started elsewhere), so latency matters less than not burning a core.
constexpr int64_t kRequestPollNs = 50'000;
}  // namespace

absl::StatusOr<std::unique_ptr<Driver>> Driver::Create(
    const BackendOptions& options) {
  absl::StatusOr<std::unique_ptr<Backend>> backend = Backend::Create(options);
  if (!backend.ok()) return backend.status();
  return std::unique_ptr<Driver>(new Driver(std::move(*backend)));
}

Driver::Driver(std::unique_ptr<Backend> backend)
    : backend_(std::move(backend)),
      timers_(Now()),
      local_scheduler_(new LocalScheduler(&WakeBackend, backend_.get())),
      counters_(&local_scheduler_->counters()),
      scheduler_(local_scheduler_),
      requests_(&WakeBackend, backend_.get()),
      anchor_(new DriverAnchor(this)) {
  internal::Join(this, backend_.get(), &owner_);
  counters_->created_ns = RealNow().time_since_epoch().count();
  counters_->created_ticks = metrics::Ticks();
}

Driver::~Driver() {
  Enter scope(this);
  // Frames may own buffers that operations write into: every operation must
  // have completed before any frame goes.
  DrainOperations();
  while (internal::TaskHeader* task = local_scheduler_->AnyLiveTask()) {
    task->Abandon();
  }
  // Destroyed frames may have forgotten fds (cancelling their operations).
  DrainOperations();
  local_scheduler_->Close();
  RunQueue late = requests_.Close();
  while (Runnable* r = late.Pop()) r->run(r);
  local_scheduler_->Unref();
  internal::Leave(this);
  // Last: sockets closed by the frames destroyed above still reach it.
  anchor_->Orphan();
  anchor_->Unref();
}

void Driver::DrainOperations() {
  ServeRequests();
  backend_->CancelAll();
  while (backend_->InFlight() > 0) {
    backend_->Wait(-1);
    ServeRequests();
  }
}

Driver::Enter::Enter(Driver* driver)
    : driver_(driver),
      previous_(current_),
      scheduler_scope_(&driver->local_scheduler()) {
  current_ = driver;
  std::thread::id none;
  owns_ = driver->owner_.compare_exchange_strong(
      none, std::this_thread::get_id(), std::memory_order_acq_rel);
  if (owns_) {
    MutexLock lock(&driver->thread_mu_);
    driver->has_thread_ = true;
    driver->thread_ = pthread_self();
  }
}

Driver::Enter::~Enter() {
  if (owns_) {
    driver_->ServeRequests();
    {
      // Waits for a stall detector that is signalling this thread.
      MutexLock lock(&driver_->thread_mu_);
      driver_->has_thread_ = false;
    }
    driver_->owner_.store(std::thread::id(), std::memory_order_release);
  }
  current_ = previous_;
}

bool Driver::OwnedByCallingThread() const {
  std::thread::id owner = owner_.load(std::memory_order_acquire);
  return owner == std::thread::id() || owner == std::this_thread::get_id();
}

void Driver::Request::Run(Runnable* r) {
  auto* request = static_cast<Request*>(r);
  request->call(request->fn);
  request->done.store(true, std::memory_order_release);  // may free it
}

void Driver::SendAndWait(Request* request) {
  if (!requests_.Push(request)) {  // shut down: nobody else runs it
    Request::Run(request);
    return;
  }
  Driver* me = Current();
  while (!request->done.load(std::memory_order_acquire)) {
    if (owner_.load(std::memory_order_acquire) == std::thread::id()) {
      ServeRequests();  // its owner left: nobody else will
    } else if (me != nullptr && me != this) {
      me->ServeRequests();
      me->backend_->Wait(kRequestPollNs);
    } else {
      std::this_thread::yield();
    }
  }
}

int Driver::ServeRequests() {
  int served = 0;
  while (Runnable* r = requests_.Pop()) {
    r->run(r);
    ++served;
  }
  return served;
}

void Driver::Dispatch(Runnable* r) {
  if (OwnedByCallingThread() || !requests_.Push(r)) r->run(r);
}

void Driver::Turn(bool may_block) {
  ServeRequests();
  // The clock is read only while a timer is linked: a busy server without
  // timers makes no clock_gettime call per turn. (An empty wheel's notion
  // of "now" may then lag; Insert and Advance are correct from any past
  // tick.)
  Instant now{};
  if (!timers_.empty()) {
    now = Now();
    timers_.Advance(now);
  }
  int64_t timeout_ns = 0;
  std::optional<Instant> next;
  // Timers that just fired, or requests just served, may have queued tasks
  // for this thread: then only look, do not sleep.
  if (may_block && !local_scheduler_->HasWork() && !scheduler_->HasWorkHere()) {
    // Set only when a timer is linked, and then `now` was read above.
    next = timers_.NextWake();
    timeout_ns = next ? std::max<int64_t>(0, (*next - now).count()) : -1;
  }
  counters_->timers_armed.Set(timers_.size());
  counters_->ops_in_flight.Set(static_cast<uint64_t>(backend_->InFlight()));
  if (timeout_ns == 0) {
    backend_->Wait(0);
  } else {
    // A blocking wait: timed (with the cheap clock, worker_counters.h),
    // unlike the non-blocking looks a busy driver makes.
    // In a local, so that it stays in a register across the wait instead
    // of being reloaded from the driver for each store below.
    metrics::WorkerCounters* const counters = counters_;
    const uint64_t parked_at = metrics::Ticks();
    // For the stall detector: idle, not stuck (two plain stores per
    // blocking wait, none per poll).
    counters->parked.store(true, std::memory_order_relaxed);
    if (TimePaused()) {
      WaitWhilePaused(next);
    } else {
      backend_->Wait(timeout_ns);
    }
    counters->parked.store(false, std::memory_order_relaxed);
    counters->parks.Add();
    counters->parked_ticks.Add(metrics::Ticks() - parked_at);
  }
  if (timeout_ns != 0 && !timers_.empty()) timers_.Advance(Now());
  // Last, so that a caller looping on a condition (BlockOn, Run) sees the
  // effect of the work before it decides to block again.
  local_scheduler_->RunReady(kMaxRunsPerTurn);
}

void Driver::WaitWhilePaused(std::optional<Instant> next) {
  // What is ready now runs before time may move.
  backend_->Wait(0);
  // A completion the backend still holds (backend.h, HasReady) is work as
  // much as a task is: idle now, the clock could jump past a timeout that
  // the completion was about to beat.
  if (local_scheduler_->HasWork() || scheduler_->HasWorkHere() ||
      requests_.pending() || backend_->HasReady()) {
    return;
  }
  if (internal::GoIdle(this, next)) return;
  backend_->Wait(-1);  // woken by I/O, a request, or time moving
  internal::Busy(this);
}

void Driver::CancelAndWait(Operation* op, const std::atomic<bool>* in_flight) {
  RunOnDriverThread([&] {
    backend_->Cancel(op);
    while (in_flight->load(std::memory_order_acquire)) {
      // A submission sent from another thread may have been in the mailbox:
      // once it has run, cancel again.
      if (ServeRequests() > 0) backend_->Cancel(op);
      if (in_flight->load(std::memory_order_acquire)) backend_->Wait(-1);
    }
  });
}

}  // namespace polyio
