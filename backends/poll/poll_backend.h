// PollBackend: the portable readiness backend, poll(2).
//
// ReadinessReactor over PollPoller. Slower than epoll or kqueue with many
// fds (each wait passes the whole array to the kernel) but runs on any
// POSIX system and has no limit on fd numbers. Thread-hostile, except
// Wake().
#ifndef POLYIO_BACKENDS_POLL_POLL_BACKEND_H_
#define POLYIO_BACKENDS_POLL_POLL_BACKEND_H_

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/poll/poll_poller.h"
#include "backends/readiness/reactor.h"

namespace polyio {

class PollBackend : public ReadinessReactor<PollPoller> {
 public:
  static absl::StatusOr<std::unique_ptr<PollBackend>> Create(
      const BackendOptions&) {
    absl::StatusOr<PollPoller> poller = PollPoller::Create();
    if (!poller.ok()) return poller.status();
    return std::unique_ptr<PollBackend>(new PollBackend(std::move(*poller)));
  }

  std::string_view Name() const { return "poll"; }
  CompletionModel Model() const { return CompletionModel::kReadiness; }
  // Files go to the blocking pool (backends/backend.h).
  static constexpr bool NativeFileIo() { return false; }

 private:
  explicit PollBackend(PollPoller poller)
      : ReadinessReactor(std::move(poller)) {}
};

}  // namespace polyio

#endif  // POLYIO_BACKENDS_POLL_POLL_BACKEND_H_
