#include "runtime/process/command.h"

#include <utility>

#include "runtime/process/spawn.h"

namespace polyio {

Child Command::MakeChild(internal::Spawned&& spawned) {
  std::optional<ChildStdin> in;
  std::optional<ChildStdout> out;
  std::optional<ChildStderr> err;
  if (spawned.pipes[0]) {
    in = PipeWriter::AdoptPipeEnd(std::move(spawned.pipes[0]), "child stdin");
  }
  if (spawned.pipes[1]) {
    out = PipeReader::AdoptPipeEnd(std::move(spawned.pipes[1]), "child stdout");
  }
  if (spawned.pipes[2]) {
    err = PipeReader::AdoptPipeEnd(std::move(spawned.pipes[2]), "child stderr");
  }
  return Child(std::move(spawned.state), std::move(in), std::move(out),
               std::move(err));
}

absl::StatusOr<Child> Command::Spawn() const {
  const Stdio defaults[3] = {Stdio::Inherit(), Stdio::Inherit(),
                             Stdio::Inherit()};
  absl::StatusOr<internal::Spawned> spawned =
      internal::SpawnProcess(spec_, defaults);
  if (!spawned.ok()) return spawned.status();
  return MakeChild(std::move(*spawned));
}

Task<absl::StatusOr<ProcessOutput>> Command::RunToOutput(
    internal::CommandSpec spec) {
  const Stdio defaults[3] = {Stdio::Null(), Stdio::Piped(), Stdio::Piped()};
  absl::StatusOr<internal::Spawned> spawned =
      internal::SpawnProcess(spec, defaults);
  if (!spawned.ok()) co_return spawned.status();
  Child child = MakeChild(std::move(*spawned));
  co_return co_await child.WaitWithOutput();
}

Task<absl::StatusOr<ProcessOutput>> Command::Output() const {
  return RunToOutput(spec_);
}

}  // namespace polyio
