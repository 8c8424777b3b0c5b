// KqueueBackend: the readiness backend of macOS and the BSDs (their
// default), also built on Linux over libkqueue.
//
// ReadinessBackend over KqueuePoller: operations are tried at once and
// parked on EAGAIN; fds are registered level-triggered for exactly the
// directions that have waiters, and those registrations (EV_ADD / EV_DELETE)
// ride on the next turn's kevent() call. File operations are not sent here
// (NativeFileIo() is false): the runtime runs them on the blocking pool. See
// backends/backend.h for the contract and docs/backends.md (kqueue) for the
// design and the platform differences.
//
// Thread-hostile, except Wake().
#ifndef POLYIO_BACKENDS_KQUEUE_KQUEUE_BACKEND_H_
#define POLYIO_BACKENDS_KQUEUE_KQUEUE_BACKEND_H_

#include "backends/kqueue/kqueue_poller.h"
#include "backends/readiness/readiness_backend.h"

namespace polyio {

using KqueueBackend = ReadinessBackend<KqueuePoller>;

}  // namespace polyio

#endif  // POLYIO_BACKENDS_KQUEUE_KQUEUE_BACKEND_H_
