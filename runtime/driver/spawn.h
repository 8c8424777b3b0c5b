// Spawn and SpawnLocal: start a task on the calling thread's runtime.
//
//   JoinHandle<size_t> h = Spawn(CountBytes(std::move(stream)));
//   absl::StatusOr<size_t> n = co_await h;
//
// Spawn(task) hands the task to the scheduler of the driver the calling
// thread runs — its own LocalScheduler on the current-thread runtime, the
// work-stealing pool on the multi-thread runtime — and returns its
// JoinHandle (runtime/task/join_handle.h says what awaiting, dropping and
// aborting it do).
//
// SpawnLocal(task) keeps the task on the calling thread: on the
// multi-thread runtime it never moves to another worker (for tasks that hold
// thread-affine state). On the current-thread runtime it is Spawn.
//
// Both record the caller's source location, which reports about the task
// name (a detached task's exception, task_header.h).
//
// Thread-safety: call them on a thread that runs a driver (inside a task,
// Runtime::BlockOn, or EventLoop::Run); anywhere else the program stops with
// a message naming the call, as tokio panics.
#ifndef POLYIO_RUNTIME_DRIVER_SPAWN_H_
#define POLYIO_RUNTIME_DRIVER_SPAWN_H_

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "platform/source_location.h"
#include "runtime/driver/driver.h"
#include "runtime/task/join_handle.h"
#include "runtime/task/task.h"

namespace polyio {

namespace internal {

[[noreturn]] inline void DieOutsideRuntime(const char* what) {
  std::fprintf(stderr,
               "polyio: %s called on a thread that runs no driver; call it "
               "inside a task, Runtime::BlockOn or EventLoop::Run\n",
               what);
  std::abort();
}

}  // namespace internal

template <class T>
JoinHandle<T> Spawn(Task<T> task,
                    SourceLocation spawned_at = SourceLocation::Current()) {
  Driver* driver = Driver::Current();
  if (driver == nullptr) internal::DieOutsideRuntime("Spawn");
  return SpawnOn(driver->scheduler(), std::move(task), spawned_at);
}

template <class T>
JoinHandle<T> SpawnLocal(
    Task<T> task, SourceLocation spawned_at = SourceLocation::Current()) {
  Driver* driver = Driver::Current();
  if (driver == nullptr) internal::DieOutsideRuntime("SpawnLocal");
  return SpawnOn(driver->local_scheduler(), std::move(task), spawned_at);
}

}  // namespace polyio

#endif  // POLYIO_RUNTIME_DRIVER_SPAWN_H_
