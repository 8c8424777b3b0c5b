// polyio::Backend: the backend this build was configured with.
//
// Chosen by the build setting //backends:backend (see .bazelrc's
// --config=epoll|poll|io_uring|kqueue|auto), which defines exactly one
// POLYIO_BACKEND_* macro. Code above backends/ names only polyio::Backend, so
// every call from a co_await down to the syscall is a direct (inlinable)
// call: there is no virtual dispatch.
#ifndef POLYIO_BACKENDS_SELECTED_H_
#define POLYIO_BACKENDS_SELECTED_H_

#include "backends/backend.h"

#if defined(POLYIO_BACKEND_EPOLL)
#include "backends/epoll/epoll_backend.h"
namespace polyio {
using Backend = EpollBackend;
}
#elif defined(POLYIO_BACKEND_POLL)
#include "backends/poll/poll_backend.h"
namespace polyio {
using Backend = PollBackend;
}
#elif defined(POLYIO_BACKEND_IO_URING)
#include "backends/io_uring/io_uring_backend.h"
namespace polyio {
using Backend = IoUringBackend;
}
#elif defined(POLYIO_BACKEND_KQUEUE)
#include "backends/kqueue/kqueue_backend.h"
namespace polyio {
using Backend = KqueueBackend;
}
#elif defined(POLYIO_BACKEND_AUTO)
#include "backends/auto/auto_backend.h"
namespace polyio {
using Backend = AutoBackend;
}
#else
#error "no backend selected: build through //backends:selected"
#endif

static_assert(polyio::BackendContract<polyio::Backend>,
              "the selected backend does not meet backends/backend.h");

#endif  // POLYIO_BACKENDS_SELECTED_H_
