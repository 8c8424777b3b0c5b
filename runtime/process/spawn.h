// SpawnProcess: a CommandSpec turned into a running child (internal; users
// call Command::Spawn).
//
// posix_spawn with file actions for stdio and the working directory, an
// empty signal mask and SIGPIPE at its default in the child. glibc (2.24
// and later, so the 2.36 here) runs the child with clone(CLONE_VM |
// CLONE_VFORK) and reports a failed exec as posix_spawn's return value, not
// as an exit status of 127; the conformance tests check that it does. Then
// the exit watch: a pidfd (Linux), else a SIGCHLD stream made before the
// spawn so no exit can come before it.
//
// On any error nothing is left behind: every fd made for the child is
// closed, and a child that was started but cannot be watched is killed and
// reaped before the error is returned.
//
// Thread-safe (posix_spawn suspends only the calling thread).
#ifndef POLYIO_RUNTIME_PROCESS_SPAWN_H_
#define POLYIO_RUNTIME_PROCESS_SPAWN_H_

#include <memory>

#include "absl/status/statusor.h"
#include "platform/unique_fd.h"
#include "runtime/process/child_state.h"
#include "runtime/process/command.h"

namespace polyio::internal {

struct Spawned {
  std::shared_ptr<ChildState> state;
  // The parent's ends of the pipes made for Stdio::Piped() (invalid for the
  // other kinds): [0] writes to the child's stdin, [1] and [2] read its
  // stdout and stderr.
  UniqueFd pipes[3];
};

// `defaults`: the Stdio of a stream the spec leaves unset.
absl::StatusOr<Spawned> SpawnProcess(const CommandSpec& spec,
                                     const Stdio (&defaults)[3]);

}  // namespace polyio::internal

#endif  // POLYIO_RUNTIME_PROCESS_SPAWN_H_
