#include "backends/poll/poll_poller.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "absl/status/status.h"
#include "backends/readiness/timeout.h"
#include "platform/socket.h"

namespace polyio {

absl::StatusOr<PollPoller> PollPoller::Create(const BackendOptions&) {
  int p[2];
  if (pipe(p) < 0) return absl::ErrnoToStatus(errno, "pipe");
  UniqueFd r(p[0]);
  UniqueFd w(p[1]);
  if (absl::Status s = MakeNonBlocking(r.get()); !s.ok()) return s;
  if (absl::Status s = MakeNonBlocking(w.get()); !s.ok()) return s;
  return PollPoller(std::move(r), std::move(w));
}

PollPoller::PollPoller(UniqueFd wake_read, UniqueFd wake_write)
    : wake_read_(std::move(wake_read)), wake_write_(std::move(wake_write)) {
  fds_.push_back(pollfd{wake_read_.get(), POLLIN, 0});
}

int PollPoller::Arm(int fd, bool want_read, bool want_write) {
  short events =
      static_cast<short>((want_read ? POLLIN : 0) | (want_write ? POLLOUT : 0));
  if (events == 0) {
    Remove(fd);
    return 0;
  }
  if (static_cast<size_t>(fd) >= slot_of_.size()) slot_of_.resize(fd + 1, -1);
  if (slot_of_[fd] < 0) {
    slot_of_[fd] = static_cast<int32_t>(fds_.size());
    fds_.push_back(pollfd{fd, events, 0});
  } else {
    fds_[slot_of_[fd]].events = events;
  }
  return 0;
}

void PollPoller::Disarm(int fd) { Remove(fd); }

void PollPoller::Remove(int fd) {
  if (fd < 0 || static_cast<size_t>(fd) >= slot_of_.size() ||
      slot_of_[fd] < 0) {
    return;
  }
  int32_t slot = slot_of_[fd];
  fds_[slot] = fds_.back();
  slot_of_[fds_[slot].fd] = slot;
  fds_.pop_back();
  slot_of_[fd] = -1;
}

void PollPoller::Wake() {
  wake_latch_.Wake([this] {
    char one = 1;
    [[maybe_unused]] ssize_t n = write(wake_write_.get(), &one, 1);
  });
}

void PollPoller::DrainWake() {
  wake_latch_.Clear([this] {
    char buf[64];
    while (read(wake_read_.get(), buf, sizeof(buf)) > 0) {
    }
  });
}

int PollPoller::WaitForEvents(int64_t timeout_ns) {
#if defined(__linux__) || defined(__FreeBSD__) || defined(__OpenBSD__) || \
    defined(__NetBSD__)
  timespec ts{timeout_ns / 1000000000, timeout_ns % 1000000000};
  int n =
      ppoll(fds_.data(), fds_.size(), timeout_ns < 0 ? nullptr : &ts, nullptr);
#else
  int n = ::poll(fds_.data(), fds_.size(), MillisecondTimeout(timeout_ns));
#endif
  return n < 0 ? 0 : n;
}

}  // namespace polyio
