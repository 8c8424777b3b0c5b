#include "backends/auto/auto_backend.h"

#include <cstdio>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace polyio {

absl::StatusOr<std::unique_ptr<AutoBackend>> AutoBackend::Create(
    const BackendOptions& options) {
  std::unique_ptr<AutoBackend> b(new AutoBackend());
  absl::StatusOr<std::unique_ptr<IoUringBackend>> uring =
      IoUringBackend::Create(options);
  if (uring.ok()) {
    b->uring_ = std::move(*uring);
    std::fprintf(stderr, "polyio: backend auto -> io_uring\n");
    return b;
  }
  b->io_uring_status_ = uring.status();
  absl::StatusOr<std::unique_ptr<EpollBackend>> epoll =
      EpollBackend::Create(options);
  if (!epoll.ok()) {
    return absl::Status(
        epoll.status().code(),
        absl::StrCat("backend auto: neither io_uring (",
                     uring.status().message(), ") nor epoll (",
                     epoll.status().message(), ") is available"));
  }
  b->epoll_ = std::move(*epoll);
  // The advice to pick another build config is for io_uring builds; here
  // the fallback already happened.
  std::string reason(uring.status().message());
  if (size_t at = reason.rfind(kIoUringAdvice); at != std::string::npos) {
    reason.erase(at);
  }
  std::fprintf(stderr, "polyio: backend auto -> epoll (%s)\n", reason.c_str());
  return b;
}

}  // namespace polyio
