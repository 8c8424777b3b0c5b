// OpenRing: creates the io_uring instance behind an IoUringBackend, or says
// precisely why this host cannot have one.
//
// Setup degrades gracefully: setup flags the kernel does not know
// (COOP_TASKRUN, SUBMIT_ALL) are dropped, and SQPOLL falls back to a normal
// ring when it is refused. What cannot be done without is refused with an
// absl::UnavailableError whose message starts "io_uring unavailable: " and
// ends with kIoUringAdvice: io_uring_setup failing (ENOSYS: no kernel
// support or seccomp; EPERM: seccomp or kernel.io_uring_disabled), no
// IORING_FEAT_NODROP (completions could be lost), or an opcode the backend
// needs missing from io_uring_get_probe (Linux < 5.6).
//
// POLYIO_IO_URING_FORCE_UNAVAILABLE=1 in the environment refuses at once,
// without a syscall: the test-only way to exercise the fallback paths.
//
// Thread-compatible (a function of its arguments and the kernel).
#ifndef POLYIO_BACKENDS_IO_URING_IO_URING_SETUP_H_
#define POLYIO_BACKENDS_IO_URING_IO_URING_SETUP_H_

#include <liburing.h>

#include <string>

#include "absl/status/status.h"
#include "backends/backend.h"
#include "backends/io_uring/io_uring_features.h"

namespace polyio {

// On success `ring` is initialized (the caller calls io_uring_queue_exit)
// and `features` says what was found and turned on.
absl::Status OpenRing(const BackendOptions& options, io_uring* ring,
                      IoUringFeatures* features);

// "io_uring unavailable: <reason>" + kIoUringAdvice, as an UnavailableError.
absl::Status IoUringUnavailable(const std::string& reason);

}  // namespace polyio

#endif  // POLYIO_BACKENDS_IO_URING_IO_URING_SETUP_H_
