// The orphan reaper (internal): reaps children whose Child was destroyed
// before they exited, so that none stays a zombie.
//
// One thread per process, started with the first orphan and kept (idle in
// poll(2)) from then on; every signal is blocked in it. It waits on the
// orphans' pidfds (Linux) and a wake pipe; for an orphan without a pidfd
// (SIGCHLD mode) on the signal registry's fds too, as a SIGCHLD listener
// (with a 1 s timeout as well should that listener fail). Each time it
// tries waitid(WNOHANG) on each orphan — its own pid, never "any child".
// It needs no Runtime: an orphan is reaped even after every runtime is gone.
// Its state is never destroyed (it may run during static destruction).
//
// Thread-safe.
#ifndef POLYIO_RUNTIME_PROCESS_REAPER_H_
#define POLYIO_RUNTIME_PROCESS_REAPER_H_

#include <sys/types.h>

#include <cstddef>

#include "platform/unique_fd.h"

namespace polyio::internal {

// Takes the child `pid` (not yet reaped) and its pidfd (may be invalid).
void AdoptOrphan(pid_t pid, UniqueFd pidfd);

// Orphans not reaped yet (for tests).
size_t OrphansPending();

}  // namespace polyio::internal

#endif  // POLYIO_RUNTIME_PROCESS_REAPER_H_
