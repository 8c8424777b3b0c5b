// polyio::Backend: the backend this build was configured with.
//
// Chosen by the build setting //backends:backend (see .bazelrc's
// --config=epoll|poll|io_uring|kqueue|auto), which defines exactly one
// POLYIO_BACKEND_* macro. Code above backends/ names only polyio::Backend, so
// every call from a co_await down to the syscall is a direct (inlinable)
// call: there is no virtual dispatch.
//
// The build setting //backends:fault=on (--config=fault) also defines
// POLYIO_FAULT_INJECTION: polyio::Backend is then FaultBackend<that
// backend> (backends/fault/fault_backend.h), which injects faults; on
// Linux, for epoll, poll and io_uring, FaultBackend<ChosenBackend<...>>,
// whose inner backend POLYIO_FAULT_INNER names at run time. Off (the
// default), the alias is the backend itself and no fault code is compiled.
#ifndef POLYIO_BACKENDS_SELECTED_H_
#define POLYIO_BACKENDS_SELECTED_H_

#include "backends/backend.h"

#if defined(POLYIO_BACKEND_EPOLL)
#include "backends/epoll/epoll_backend.h"
namespace polyio {
using SelectedBackend = EpollBackend;
}
#elif defined(POLYIO_BACKEND_POLL)
#include "backends/poll/poll_backend.h"
namespace polyio {
using SelectedBackend = PollBackend;
}
#elif defined(POLYIO_BACKEND_IO_URING)
#include "backends/io_uring/io_uring_backend.h"
namespace polyio {
using SelectedBackend = IoUringBackend;
}
#elif defined(POLYIO_BACKEND_KQUEUE)
#include "backends/kqueue/kqueue_backend.h"
namespace polyio {
using SelectedBackend = KqueueBackend;
}
#elif defined(POLYIO_BACKEND_AUTO)
#include "backends/auto/auto_backend.h"
namespace polyio {
using SelectedBackend = AutoBackend;
}
#else
#error "no backend selected: build through //backends:selected"
#endif

#if defined(POLYIO_FAULT_INJECTION) && defined(__linux__) &&          \
    (defined(POLYIO_BACKEND_EPOLL) || defined(POLYIO_BACKEND_POLL) || \
     defined(POLYIO_BACKEND_IO_URING))
// On Linux the layer wraps epoll, poll or io_uring as POLYIO_FAULT_INNER
// says at run time (default: the selected one), so that one fault build
// serves all three (backends/fault/chosen_backend.h).
#include "backends/fault/chosen_backend.h"
#include "backends/fault/fault_backend.h"
namespace polyio {
using Backend = FaultBackend<ChosenBackend<SelectedBackend>>;
inline constexpr bool kFaultInjection = true;
}  // namespace polyio
#elif defined(POLYIO_FAULT_INJECTION)
#include "backends/fault/fault_backend.h"
namespace polyio {
using Backend = FaultBackend<SelectedBackend>;
inline constexpr bool kFaultInjection = true;
}  // namespace polyio
#else
namespace polyio {
using Backend = SelectedBackend;
inline constexpr bool kFaultInjection = false;
}  // namespace polyio
#endif

static_assert(polyio::BackendContract<polyio::Backend>,
              "the selected backend does not meet backends/backend.h");

#endif  // POLYIO_BACKENDS_SELECTED_H_
