// EpollBackend: the Linux readiness backend (the default on Linux).
//
// ReadinessReactor over EpollPoller: operations are tried at once and
// parked on EAGAIN; fds are registered edge-triggered, once. File operations
// are not sent here (NativeFileIo() is false): the runtime runs them on the
// blocking pool. See backends/backend.h for the contract and docs/backends.md
// for the design.
//
// Thread-hostile, except Wake().
#ifndef POLYIO_BACKENDS_EPOLL_EPOLL_BACKEND_H_
#define POLYIO_BACKENDS_EPOLL_EPOLL_BACKEND_H_

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/epoll/epoll_poller.h"
#include "backends/readiness/reactor.h"

namespace polyio {

class EpollBackend : public ReadinessReactor<EpollPoller> {
 public:
  static absl::StatusOr<std::unique_ptr<EpollBackend>> Create(
      const BackendOptions& options) {
    absl::StatusOr<EpollPoller> poller =
        EpollPoller::Create(options.max_events);
    if (!poller.ok()) return poller.status();
    return std::unique_ptr<EpollBackend>(new EpollBackend(std::move(*poller)));
  }

  std::string_view Name() const { return "epoll"; }
  CompletionModel Model() const { return CompletionModel::kReadiness; }
  // Files go to the blocking pool (backends/backend.h).
  static constexpr bool NativeFileIo() { return false; }

 private:
  explicit EpollBackend(EpollPoller poller)
      : ReadinessReactor(std::move(poller)) {}
};

}  // namespace polyio

#endif  // POLYIO_BACKENDS_EPOLL_EPOLL_BACKEND_H_
