// TaskDump: every live task of a runtime, what it is doing and where it was
// spawned (Runtime::DumpTasks) — what a person needs when a server hangs.
//
//   std::fputs(rt->DumpTasks().ToString().c_str(), stderr);
//
//   3 live tasks (1 spawned and not yet polled)
//   task spawned at server.cc:42 (Serve): waiting on I/O: accept fd 7
//   task spawned at server.cc:57 (Serve): running on worker 1
//   task spawned at server.cc:88 (Reaper): waiting on a timer, due in 2.500 s
//
// A waiting task shows what its leaf future said when it parked: an I/O
// operation (kind and fd), a timer (its deadline), a channel receive.
// Futures that do not say (a JoinHandle, a Mutex, ...) show "waiting".
// The dump is taken without stopping the workers: a task may change state
// while it is being read.
//
// Value types.
#ifndef POLYIO_RUNTIME_DIAGNOSTICS_TASK_DUMP_H_
#define POLYIO_RUNTIME_DIAGNOSTICS_TASK_DUMP_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backends/operation.h"
#include "platform/clock.h"
#include "platform/source_location.h"
#include "runtime/task/task_header.h"

namespace polyio {

struct TaskInfo {
  enum class State { kRunning, kScheduled, kWaiting };
  enum class WaitsOn { kUnknown, kIo, kTimer, kChannel };

  SourceLocation spawned_at;
  State state = State::kWaiting;
  int worker = -1;  // kRunning: the worker polling it, when known
  // kWaiting only:
  WaitsOn waits_on = WaitsOn::kUnknown;
  OpKind op = OpKind::kRead;  // kIo
  int fd = -1;                // kIo
  Instant deadline{};         // kTimer
  std::string channel;        // kChannel: "mpsc receive", "oneshot receive"

  // One line, as in the example above (no newline).
  std::string ToString() const;
};

struct TaskDump {
  std::vector<TaskInfo> tasks;  // polled at least once and not finished
  // Spawned and not yet polled: queued for their first poll (not listed:
  // a task enters the registry at its first poll).
  uint64_t not_yet_polled = 0;

  std::string ToString() const;
};

namespace diagnostics {
// For Runtime: `task`'s entry (its state read now). Null when it completed.
std::optional<TaskInfo> Describe(const internal::TaskHeader& task);
}  // namespace diagnostics

}  // namespace polyio

#endif  // POLYIO_RUNTIME_DIAGNOSTICS_TASK_DUMP_H_
