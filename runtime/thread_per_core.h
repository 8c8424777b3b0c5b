// ThreadPerCore: share-nothing servers — N threads, each with its own
// current-thread Runtime, each running its own copy of the program.
//
//   absl::Status s = polyio::RunThreadPerCore(
//       {.threads = 0}, [addr](int index) -> polyio::Task<absl::Status> {
//         auto l = polyio::TcpListener::Bind(addr, {.reuse_port = true});
//         ...accept and serve on this thread only...
//       });
//
// Each thread binds its own listener with SO_REUSEPORT and the kernel
// spreads incoming connections over them, so nothing — no task, no socket,
// no queue — is ever shared between threads: the design of seastar, glommio
// and nginx's workers. Use it when connections are independent; use the
// multi-thread runtime when load is uneven and work must move.
//
// Thread i is pinned to core i modulo the core count where the OS allows
// (Linux); elsewhere pinning is skipped.
//
// Thread-safety: RunThreadPerCore is thread-safe; `make_task` is called once
// per thread, on that thread, concurrently.
#ifndef POLYIO_RUNTIME_THREAD_PER_CORE_H_
#define POLYIO_RUNTIME_THREAD_PER_CORE_H_

#include <functional>

#include "absl/status/status.h"
#include "runtime/runtime.h"
#include "runtime/task/task.h"

namespace polyio {

struct ThreadPerCoreOptions {
  int threads = 0;  // 0: one per core
  bool pin = true;
  BackendOptions backend;
};

// Runs make_task(i) on thread i, for every i, each on its own runtime, and
// returns when all have completed: OkStatus, or the first error (by thread
// index) — including a runtime that could not be created.
absl::Status RunThreadPerCore(
    const ThreadPerCoreOptions& options,
    const std::function<Task<absl::Status>(int index)>& make_task);

}  // namespace polyio

#endif  // POLYIO_RUNTIME_THREAD_PER_CORE_H_
