// PollBackend: the portable readiness backend, poll(2).
//
// ReadinessBackend over PollPoller. Slower than epoll or kqueue with many
// fds (each wait passes the whole array to the kernel) but runs on any
// POSIX system and has no limit on fd numbers. Thread-hostile, except
// Wake().
#ifndef POLYIO_BACKENDS_POLL_POLL_BACKEND_H_
#define POLYIO_BACKENDS_POLL_POLL_BACKEND_H_

#include "backends/poll/poll_poller.h"
#include "backends/readiness/readiness_backend.h"

namespace polyio {

using PollBackend = ReadinessBackend<PollPoller>;

}  // namespace polyio

#endif  // POLYIO_BACKENDS_POLL_POLL_BACKEND_H_
