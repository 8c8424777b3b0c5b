// EpollBackend: the Linux readiness backend (the default on Linux).
//
// ReadinessBackend over EpollPoller: operations are tried at once and
// parked on EAGAIN; fds are registered edge-triggered, once. File operations
// are not sent here (NativeFileIo() is false): the runtime runs them on the
// blocking pool. See backends/backend.h for the contract and docs/backends.md
// for the design.
//
// Thread-hostile, except Wake().
#ifndef POLYIO_BACKENDS_EPOLL_EPOLL_BACKEND_H_
#define POLYIO_BACKENDS_EPOLL_EPOLL_BACKEND_H_

#include "backends/epoll/epoll_poller.h"
#include "backends/readiness/readiness_backend.h"

namespace polyio {

using EpollBackend = ReadinessBackend<EpollPoller>;

}  // namespace polyio

#endif  // POLYIO_BACKENDS_EPOLL_EPOLL_BACKEND_H_
