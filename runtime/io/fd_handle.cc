#include "runtime/io/fd_handle.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace polyio {

FdHandle::FdHandle(UniqueFd fd, Driver* home, const char* owner)
    : fd_(fd.Release()), home_(home), owner_(owner) {
  // The slots' operations read the fd number from fd_ when submitted.
  read_.io.set_fd_source(&fd_);
  write_.io.set_fd_source(&fd_);
}

FdHandle::~FdHandle() {
  // The owner closes before its last future goes, but a handle whose owner
  // was never told (a moved-from stream's) must not leak the fd.
  Close().IgnoreError();
}

absl::Status FdHandle::Close() {
  int fd = fd_.exchange(-1, std::memory_order_acq_rel);
  if (fd < 0) return absl::OkStatus();
  // From here a submission on the home driver finds -1; one that ran
  // before is in the backend, and Forget (on that thread) cancels it.
  home_.Forget(fd, owner_);
  if (::close(fd) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("close fd ", fd));
  }
  return absl::OkStatus();
}

void FdHandle::KeepBytes(absl::Span<const char> bytes) {
  if (kept_begin_ == kept_.size()) {
    kept_.clear();
    kept_begin_ = 0;
  }
  kept_.append(bytes.data(), bytes.size());
}

size_t FdHandle::TakeKeptBytes(absl::Span<char> buf) {
  size_t n = std::min(buf.size(), kept_.size() - kept_begin_);
  std::memcpy(buf.data(), kept_.data() + kept_begin_, n);
  kept_begin_ += n;
  if (kept_begin_ == kept_.size()) {
    kept_.clear();
    kept_begin_ = 0;
  }
  return n;
}

UniqueFd FdHandle::TakeKeptFd() {
  UniqueFd fd = std::move(kept_fds_.front());
  kept_fds_.erase(kept_fds_.begin());
  return fd;
}

}  // namespace polyio
