#include "backends/epoll/epoll_poller.h"

#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "absl/status/status.h"
#include "backends/readiness/timeout.h"

namespace polyio {

absl::StatusOr<EpollPoller> EpollPoller::Create(const BackendOptions& options) {
  UniqueFd epfd(epoll_create1(EPOLL_CLOEXEC));
  if (!epfd) return absl::ErrnoToStatus(errno, "epoll_create1");
  UniqueFd wake(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake) return absl::ErrnoToStatus(errno, "eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.fd = wake.get();
  if (epoll_ctl(epfd.get(), EPOLL_CTL_ADD, wake.get(), &ev) < 0) {
    return absl::ErrnoToStatus(errno, "epoll_ctl ADD eventfd");
  }
  return EpollPoller(std::move(epfd), std::move(wake),
                     options.max_events == 0 ? 1 : options.max_events);
}

EpollPoller::EpollPoller(UniqueFd epfd, UniqueFd wake_fd, uint32_t max_events)
    : epfd_(std::move(epfd)),
      wake_fd_(std::move(wake_fd)),
      events_(max_events) {}

// Both directions whatever is asked: the reactor arms an edge-triggered
// poller once per fd, for both.
int EpollPoller::Arm(int fd, bool, bool) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.fd = fd;
  if (epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd, &ev) == 0) return 0;
  if (errno != EEXIST) return -errno;
  // Registered by an earlier user of this fd number that closed it through
  // a dup'd fd: take the registration over.
  return epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : -errno;
}

void EpollPoller::Disarm(int fd) {
  // ENOENT/EBADF mean the kernel already dropped it; nothing to undo.
  epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void EpollPoller::Wake() {
  wake_latch_.Wake([this] {
    uint64_t one = 1;
    // EAGAIN means the counter is saturated: a wake is pending anyway.
    [[maybe_unused]] ssize_t n = write(wake_fd_.get(), &one, sizeof(one));
  });
}

void EpollPoller::DrainWake() {
  wake_latch_.Clear([this] {
    uint64_t count;
    [[maybe_unused]] ssize_t n = read(wake_fd_.get(), &count, sizeof(count));
  });
}

int EpollPoller::WaitForEvents(int64_t timeout_ns) {
  int n;
#if defined(SYS_epoll_pwait2)
  if (have_pwait2_) {
    timespec ts{timeout_ns / 1000000000, timeout_ns % 1000000000};
    n = static_cast<int>(syscall(SYS_epoll_pwait2, epfd_.get(), events_.data(),
                                 static_cast<int>(events_.size()),
                                 timeout_ns < 0 ? nullptr : &ts, nullptr, 0));
    if (n >= 0) return n;
    if (errno != ENOSYS) return 0;  // EINTR: the caller's loop goes on.
    have_pwait2_ = false;
  }
#endif
  n = epoll_wait(epfd_.get(), events_.data(), static_cast<int>(events_.size()),
                 MillisecondTimeout(timeout_ns));
  return n < 0 ? 0 : n;
}

}  // namespace polyio
