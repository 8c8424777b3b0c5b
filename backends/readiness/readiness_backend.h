// ReadinessBackend<Poller>: a whole Backend (backends/backend.h) from one
// readiness poller: ReadinessReactor's try-park-retry over `Poller`, plus
// what the contract asks a backend to say about itself. The epoll, poll and
// kqueue backends are this template and nothing else
// (backends/{epoll,poll,kqueue}/*_backend.h name them).
//
// What differs between them is a trait of the poller (poller.h):
// Poller::kName is Name(), and Poller::Create(options) builds the poller,
// reading the options that concern it. Every readiness backend answers
// NativeFileIo() with false: readiness cannot tell when a disk read would
// block, so the runtime runs file operations on the blocking pool. The
// optional capabilities (backend.h: kNativeSignals, kNativeProcExit) are
// the poller's.
//
// No virtual calls: the selected backend is one of these types, chosen at
// compile time (backends/selected.h).
//
// Thread-hostile, except Wake() (thread-safe).
#ifndef POLYIO_BACKENDS_READINESS_READINESS_BACKEND_H_
#define POLYIO_BACKENDS_READINESS_READINESS_BACKEND_H_

#include <memory>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/readiness/poller.h"
#include "backends/readiness/reactor.h"

namespace polyio {

template <ReadinessPoller Poller>
class ReadinessBackend final : public ReadinessReactor<Poller>,
                               public NativeSignalsOf<Poller>,
                               public NativeProcExitOf<Poller> {
 public:
  static absl::StatusOr<std::unique_ptr<ReadinessBackend>> Create(
      const BackendOptions& options) {
    absl::StatusOr<Poller> poller = Poller::Create(options);
    if (!poller.ok()) return poller.status();
    return std::unique_ptr<ReadinessBackend>(
        new ReadinessBackend(std::move(*poller)));
  }

  std::string_view Name() const { return Poller::kName; }
  CompletionModel Model() const { return CompletionModel::kReadiness; }
  static constexpr bool NativeFileIo() { return false; }

 private:
  explicit ReadinessBackend(Poller poller)
      : ReadinessReactor<Poller>(std::move(poller)) {}
};

}  // namespace polyio

#endif  // POLYIO_BACKENDS_READINESS_READINESS_BACKEND_H_
