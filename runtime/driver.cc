#include "runtime/driver.h"

#include <algorithm>
#include <utility>

#include "runtime/task_header.h"

namespace polyio {
namespace {
thread_local Driver* current_driver = nullptr;

void WakeBackend(void* backend) { static_cast<Backend*>(backend)->Wake(); }
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
      executor_(new LocalExecutor(&WakeBackend, backend_.get())) {}

Driver::~Driver() {
  Enter scope(this);
  // Frames may own buffers that operations write into: every operation must
  // have completed before any frame goes.
  DrainOperations();
  while (internal::TaskHeader* task = live_tasks_) task->Abandon();
  // Destroyed frames may have forgotten fds (cancelling their operations).
  DrainOperations();
  executor_->Close();
  executor_->Unref();
}

void Driver::DrainOperations() {
  backend_->CancelAll();
  while (backend_->InFlight() > 0) backend_->Wait(-1);
}

Driver* Driver::Current() { return current_driver; }

Driver::Enter::Enter(Driver* driver)
    : previous_(current_driver), executor_scope_(&driver->executor()) {
  current_driver = driver;
}

Driver::Enter::~Enter() { current_driver = previous_; }

void Driver::Turn(bool may_block) {
  Instant now = Now();
  timers_.Advance(now);
  int64_t timeout_ns = 0;
  if (may_block && !executor_->HasWork()) {
    std::optional<Instant> next = timers_.NextWake();
    timeout_ns = next ? std::max<int64_t>(0, (*next - now).count()) : -1;
  }
  backend_->Wait(timeout_ns);
  if (timeout_ns != 0) timers_.Advance(Now());
  // Last, so that a caller looping on a condition (BlockOn, Run) sees the
  // effect of the work before it decides to block again.
  executor_->RunReady(kMaxRunsPerTurn);
}

void Driver::CancelAndWait(Operation* op, const bool* in_flight) {
  backend_->Cancel(op);
  while (*in_flight) backend_->Wait(-1);
}

void Driver::AddLiveTask(internal::TaskHeader* task) {
  task->live_prev = nullptr;
  task->live_next = live_tasks_;
  if (live_tasks_ != nullptr) live_tasks_->live_prev = task;
  live_tasks_ = task;
}

void Driver::RemoveLiveTask(internal::TaskHeader* task) {
  if (task->live_prev != nullptr) {
    task->live_prev->live_next = task->live_next;
  } else {
    live_tasks_ = task->live_next;
  }
  if (task->live_next != nullptr) task->live_next->live_prev = task->live_prev;
  task->live_prev = task->live_next = nullptr;
}

}  // namespace polyio
