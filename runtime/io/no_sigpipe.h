// WithoutSigpipe: a system call that may raise SIGPIPE (write(2) to a pipe
// whose reader is gone, splice(2) into one or into a closed socket), made
// so that it fails with EPIPE instead. Pipes have no MSG_NOSIGNAL, and a
// polyio program must not die of a peer going away.
//
// SIGPIPE is generated for the calling thread, so it is blocked for the
// call, which keeps the signal pending instead of delivered; then it is
// taken back (sigtimedwait), unless one was pending already (somebody
// else's, which stays). EINTR is retried. The call's errno is preserved.
//
// Thread-safe: only the calling thread's signal mask is touched.
#ifndef POLYIO_RUNTIME_IO_NO_SIGPIPE_H_
#define POLYIO_RUNTIME_IO_NO_SIGPIPE_H_

#include <sys/types.h>

#include "absl/functional/function_ref.h"

namespace polyio::internal {

// Runs `call` (a system call returning -1 with errno on failure) with
// SIGPIPE blocked, as above; returns what it returned.
ssize_t WithoutSigpipe(absl::FunctionRef<ssize_t()> call);

}  // namespace polyio::internal

#endif  // POLYIO_RUNTIME_IO_NO_SIGPIPE_H_
