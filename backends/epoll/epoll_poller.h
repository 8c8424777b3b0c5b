// EpollPoller: the readiness source of the epoll backend.
//
// Each fd is registered once, for both directions, edge-triggered
// (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET): after that, parking and
// unparking operations costs no epoll_ctl at all. ReadinessReactor's
// try-before-park rule is what makes edge triggering lossless. Wake() writes
// an eventfd that sits in the same epoll set.
//
// Thread-hostile, except Wake() (thread-safe, async-signal-safe).
#ifndef POLYIO_BACKENDS_EPOLL_EPOLL_POLLER_H_
#define POLYIO_BACKENDS_EPOLL_EPOLL_POLLER_H_

#include <sys/epoll.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/readiness/poller.h"
#include "backends/wake_latch.h"
#include "platform/unique_fd.h"

namespace polyio {

class EpollPoller {
 public:
  static constexpr std::string_view kName = "epoll";
  static constexpr bool kEdgeTriggered = true;

  // Reads options.max_events (events fetched per wait).
  static absl::StatusOr<EpollPoller> Create(const BackendOptions& options);

  int Arm(int fd, bool want_read, bool want_write);
  void Disarm(int fd);
  void Wake();

  template <PollerReportSink Sink>
  void Poll(int64_t timeout_ns, Sink&& sink) {
    int n = WaitForEvents(timeout_ns);
    for (int i = 0; i < n; ++i) {
      const epoll_event& ev = events_[i];
      if (ev.data.fd == wake_fd_.get()) {
        DrainWake();
        continue;
      }
      bool error = ev.events & (EPOLLERR | EPOLLHUP);
      sink.Ready(
          ev.data.fd, error || (ev.events & (EPOLLIN | EPOLLRDHUP | EPOLLPRI)),
          error || (ev.events & EPOLLOUT), error || (ev.events & EPOLLRDHUP));
    }
  }

 private:
  EpollPoller(UniqueFd epfd, UniqueFd wake_fd, uint32_t max_events);

  // epoll_pwait2 (nanosecond timeout) where the kernel has it, else
  // epoll_wait with the timeout rounded up to whole milliseconds, so that a
  // wait is never shorter than asked. Returns the number of events, 0 on
  // timeout or EINTR.
  int WaitForEvents(int64_t timeout_ns);
  void DrainWake();

  UniqueFd epfd_;
  UniqueFd wake_fd_;
  std::vector<epoll_event> events_;
  bool have_pwait2_ = true;
  // Later wakes skip the write(2) until the poller has seen the eventfd.
  WakeLatch wake_latch_;
};

static_assert(ReadinessPoller<EpollPoller>);

}  // namespace polyio

#endif  // POLYIO_BACKENDS_EPOLL_EPOLL_POLLER_H_
