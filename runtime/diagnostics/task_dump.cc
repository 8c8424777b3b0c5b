#include "runtime/diagnostics/task_dump.h"

#include <fcntl.h>

#include <cstdio>
#include <string>

#include "runtime/metrics/metrics.h"

namespace polyio {

std::string TaskInfo::ToString() const {
  std::string line = "task spawned at " + std::string(spawned_at.file_name()) +
                     ":" + std::to_string(spawned_at.line()) + " (" +
                     spawned_at.function_name() + "): ";
  switch (state) {
    case State::kRunning:
      line += "running";
      if (worker >= 0) line += " on worker " + std::to_string(worker);
      return line;
    case State::kScheduled:
      return line + "scheduled (queued to run)";
    case State::kWaiting:
      break;
  }
  switch (waits_on) {
    case WaitsOn::kUnknown:
      return line + "waiting";
    case WaitsOn::kIo:
      line += "waiting on I/O: " + std::string(OpKindName(op));
      // A path operation relative to the working directory has no fd.
      if (!(IsPathKind(op) && fd == AT_FDCWD)) {
        line += " fd " + std::to_string(fd);
      }
      return line;
    case WaitsOn::kTimer: {
      char text[64];
      std::snprintf(text, sizeof text, "waiting on a timer, due in %.3f s",
                    std::chrono::duration<double>(deadline - Now()).count());
      return line + text;
    }
    case WaitsOn::kChannel:
      return line + "waiting on a channel: " + channel;
  }
  return line;
}

std::string TaskDump::ToString() const {
  std::string out = std::to_string(tasks.size() + not_yet_polled) +
                    " live tasks (" + std::to_string(not_yet_polled) +
                    " spawned and not yet polled)\n";
  for (const TaskInfo& t : tasks) out += t.ToString() + "\n";
  return out;
}

namespace diagnostics {

std::optional<TaskInfo> Describe(const internal::TaskHeader& task) {
  using DebugState = internal::TaskHeader::DebugState;
  TaskInfo info;
  info.spawned_at = task.spawned_at();
  switch (task.debug_state()) {
    case DebugState::kComplete:
      return std::nullopt;
    case DebugState::kRunning:
      info.state = TaskInfo::State::kRunning;
      return info;
    case DebugState::kScheduled:
      info.state = TaskInfo::State::kScheduled;
      return info;
    case DebugState::kWaiting:
      info.state = TaskInfo::State::kWaiting;
      break;
  }
  internal::WaitNote note = task.wait_note();
  switch (note.kind) {
    case internal::WaitKind::kUnknown:
      break;
    case internal::WaitKind::kIo:
      info.waits_on = TaskInfo::WaitsOn::kIo;
      info.op = static_cast<OpKind>(note.op_kind);
      info.fd = note.fd;
      break;
    case internal::WaitKind::kTimer:
      info.waits_on = TaskInfo::WaitsOn::kTimer;
      info.deadline = Instant(Duration(note.deadline_ns));
      break;
    case internal::WaitKind::kChannel:
      info.waits_on = TaskInfo::WaitsOn::kChannel;
      info.channel = note.what;
      break;
  }
  return info;
}

}  // namespace diagnostics
}  // namespace polyio
