// UniqueFd: sole owner of a file descriptor, closed when the owner goes.
//
// Move-only. Thread-compatible. It closes with plain close(2): an fd that a
// backend knows about must be forgotten by the backend first (the net types
// do this; see backends/backend.h, Forget).
#ifndef POLYIO_PLATFORM_UNIQUE_FD_H_
#define POLYIO_PLATFORM_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace polyio {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Gives up ownership without closing.
  int Release() { return std::exchange(fd_, -1); }

  // Closes the current fd (if any) and takes `fd`. close(2)'s error is
  // ignored on purpose: the fd is gone either way on Linux and the BSDs, and
  // retrying could close a number another thread just got.
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace polyio

#endif  // POLYIO_PLATFORM_UNIQUE_FD_H_
