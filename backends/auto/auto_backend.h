// AutoBackend: io_uring when this host allows it, else epoll — decided once,
// at creation, and said out loud.
//
// Create probes io_uring (IoUringBackend::Create). If that fails, it builds
// an EpollBackend instead. Either way it prints one line to stderr, e.g.
//   polyio: backend auto -> io_uring
//   polyio: backend auto -> epoll (io_uring unavailable: io_uring_setup: ...)
// and Name() returns "io_uring" or "epoll", so a run never changes
// mechanism silently.
//
// Dispatch is one predictable branch per call on which backend is set — no
// virtual calls (docs/design.md, "Choosing the backend").
//
// Thread-hostile, except Wake() (thread-safe, async-signal-safe).
#ifndef POLYIO_BACKENDS_AUTO_AUTO_BACKEND_H_
#define POLYIO_BACKENDS_AUTO_AUTO_BACKEND_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/epoll/epoll_backend.h"
#include "backends/io_uring/io_uring_backend.h"
#include "backends/operation.h"

namespace polyio {

class AutoBackend {
 public:
  static absl::StatusOr<std::unique_ptr<AutoBackend>> Create(
      const BackendOptions& options);

  bool Submit(Operation* op) {
    return uring_ ? uring_->Submit(op) : epoll_->Submit(op);
  }
  void Cancel(Operation* op) {
    if (uring_) {
      uring_->Cancel(op);
    } else {
      epoll_->Cancel(op);
    }
  }
  void Forget(int fd) {
    if (uring_) {
      uring_->Forget(fd);
    } else {
      epoll_->Forget(fd);
    }
  }
  int Wait(int64_t timeout_ns) {
    return uring_ ? uring_->Wait(timeout_ns) : epoll_->Wait(timeout_ns);
  }
  void Wake() {
    if (uring_) {
      uring_->Wake();
    } else {
      epoll_->Wake();
    }
  }
  void CancelAll() {
    if (uring_) {
      uring_->CancelAll();
    } else {
      epoll_->CancelAll();
    }
  }
  size_t InFlight() const {
    return uring_ ? uring_->InFlight() : epoll_->InFlight();
  }
  bool HasReady() const {
    return uring_ ? uring_->HasReady() : epoll_->HasReady();
  }
  std::string_view Name() const {
    return uring_ ? uring_->Name() : epoll_->Name();
  }
  CompletionModel Model() const {
    return uring_ ? uring_->Model() : epoll_->Model();
  }
  bool NativeFileIo() const { return uring_ != nullptr; }
  // kWaitId goes to io_uring like everything else; epoll refuses it inline
  // with -EOPNOTSUPP, and the runtime then polls the pidfd (backend.h).
  static constexpr bool kNativeWaitId = true;

  // The io_uring backend when it was chosen, else null.
  IoUringBackend* io_uring() { return uring_.get(); }
  // Why io_uring was not chosen (OK when it was).
  const absl::Status& io_uring_status() const { return io_uring_status_; }

 private:
  AutoBackend() = default;

  std::unique_ptr<IoUringBackend> uring_;
  std::unique_ptr<EpollBackend> epoll_;
  absl::Status io_uring_status_;
};

}  // namespace polyio

#endif  // POLYIO_BACKENDS_AUTO_AUTO_BACKEND_H_
