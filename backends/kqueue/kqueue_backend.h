// KqueueBackend: the readiness backend of macOS and the BSDs (their
// default), also built on Linux over libkqueue.
//
// ReadinessReactor over KqueuePoller: operations are tried at once and
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

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/kqueue/kqueue_poller.h"
#include "backends/readiness/reactor.h"

namespace polyio {

class KqueueBackend : public ReadinessReactor<KqueuePoller> {
 public:
  static absl::StatusOr<std::unique_ptr<KqueueBackend>> Create(
      const BackendOptions& options) {
    absl::StatusOr<KqueuePoller> poller =
        KqueuePoller::Create(options.max_events);
    if (!poller.ok()) return poller.status();
    return std::unique_ptr<KqueueBackend>(
        new KqueueBackend(std::move(*poller)));
  }

  // "kqueue" also over libkqueue: the name says which contract runs, and
  // callers compare it with the build setting's value.
  std::string_view Name() const { return "kqueue"; }
  CompletionModel Model() const { return CompletionModel::kReadiness; }
  // Files go to the blocking pool (backends/backend.h).
  static constexpr bool NativeFileIo() { return false; }

 private:
  explicit KqueueBackend(KqueuePoller poller)
      : ReadinessReactor(std::move(poller)) {}
};

}  // namespace polyio

#endif  // POLYIO_BACKENDS_KQUEUE_KQUEUE_BACKEND_H_
