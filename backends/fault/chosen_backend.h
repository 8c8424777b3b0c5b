// ChosenBackend<Preferred>: epoll, poll or io_uring, chosen when it is
// created from POLYIO_FAULT_INNER (default: Preferred, the backend the build
// selected, when it is one of the three; else epoll). What the fault layer
// wraps on Linux (backends/selected.h): one fault build of a test binary
// then serves all three backends, told apart by the environment, instead of
// one build per backend (each build of the conformance suite is minutes of
// compiling; docs/decisions.md, "Fault injection").
//
// Like AutoBackend: one pointer per backend, a predictable branch per call.
// Only fault builds have it.
//
// Thread-hostile, except Wake() (thread-safe), like every backend.
#ifndef POLYIO_BACKENDS_FAULT_CHOSEN_BACKEND_H_
#define POLYIO_BACKENDS_FAULT_CHOSEN_BACKEND_H_

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/epoll/epoll_backend.h"
#include "backends/io_uring/io_uring_backend.h"
#include "backends/operation.h"
#include "backends/poll/poll_backend.h"

namespace polyio {

template <class Preferred>
class ChosenBackend {
 public:
  static constexpr std::string_view kDefault =
      std::is_same_v<Preferred, PollBackend>      ? "poll"
      : std::is_same_v<Preferred, IoUringBackend> ? "io_uring"
                                                  : "epoll";

  static absl::StatusOr<std::unique_ptr<ChosenBackend>> Create(
      const BackendOptions& options) {
    const char* env = std::getenv("POLYIO_FAULT_INNER");
    std::string_view name =
        env != nullptr && *env != '\0' ? std::string_view(env) : kDefault;
    std::unique_ptr<ChosenBackend> b(new ChosenBackend());
    ChosenBackend* self = b.get();
    if (name == "epoll") {
      return Made(std::move(b), &self->epoll_, EpollBackend::Create(options));
    }
    if (name == "poll") {
      return Made(std::move(b), &self->poll_, PollBackend::Create(options));
    }
    if (name == "io_uring") {
      return Made(std::move(b), &self->uring_, IoUringBackend::Create(options));
    }
    return absl::InvalidArgumentError(
        "POLYIO_FAULT_INNER=" + std::string(name) +
        ": the fault layer runs over epoll, poll or io_uring");
  }

  bool Submit(Operation* op) {
    return uring_   ? uring_->Submit(op)
           : epoll_ ? epoll_->Submit(op)
                    : poll_->Submit(op);
  }
  void Cancel(Operation* op) {
    Each([op](auto& b) { b.Cancel(op); });
  }
  void Forget(int fd) {
    Each([fd](auto& b) { b.Forget(fd); });
  }
  int Wait(int64_t timeout_ns) {
    return uring_   ? uring_->Wait(timeout_ns)
           : epoll_ ? epoll_->Wait(timeout_ns)
                    : poll_->Wait(timeout_ns);
  }
  void Wake() {
    Each([](auto& b) { b.Wake(); });
  }
  void CancelAll() {
    Each([](auto& b) { b.CancelAll(); });
  }
  size_t InFlight() const {
    return uring_   ? uring_->InFlight()
           : epoll_ ? epoll_->InFlight()
                    : poll_->InFlight();
  }
  bool HasReady() const {
    return uring_   ? uring_->HasReady()
           : epoll_ ? epoll_->HasReady()
                    : poll_->HasReady();
  }
  std::string_view Name() const {
    return uring_ ? uring_->Name() : epoll_ ? epoll_->Name() : poll_->Name();
  }
  CompletionModel Model() const {
    return uring_ ? CompletionModel::kCompletion : CompletionModel::kReadiness;
  }
  bool NativeFileIo() const { return uring_ != nullptr; }
  // kWaitId goes to io_uring like everything else; epoll refuses it inline
  // with -EOPNOTSUPP, and the runtime then polls the pidfd (backend.h).
  static constexpr bool kNativeWaitId = true;

 private:
  ChosenBackend() = default;

  template <class B>
  static absl::StatusOr<std::unique_ptr<ChosenBackend>> Made(
      std::unique_ptr<ChosenBackend> self, std::unique_ptr<B>* slot,
      absl::StatusOr<std::unique_ptr<B>> made) {
    if (!made.ok()) return made.status();
    *slot = std::move(*made);
    return self;
  }

  template <class Fn>
  void Each(Fn&& fn) {
    if (uring_) {
      fn(*uring_);
    } else if (epoll_) {
      fn(*epoll_);
    } else {
      fn(*poll_);
    }
  }

  std::unique_ptr<IoUringBackend> uring_;
  std::unique_ptr<EpollBackend> epoll_;
  std::unique_ptr<PollBackend> poll_;
};

}  // namespace polyio

#endif  // POLYIO_BACKENDS_FAULT_CHOSEN_BACKEND_H_
