// PollPoller: the readiness source of the portable poll(2) backend.
//
// Keeps one dense pollfd array of the fds the reactor arms, asking for
// exactly the directions it arms (poll is level-triggered: a ready fd nobody
// waits on must leave the array, or every wait returns at once; the reactor
// disarms such a direction at its first report). There is no
// FD_SETSIZE-style limit: the array grows with the fds. Wake() writes a
// self-pipe that sits at index 0. ppoll is used where it exists for a
// nanosecond timeout; elsewhere the timeout rounds up to milliseconds.
//
// Thread-hostile, except Wake() (thread-safe, async-signal-safe).
#ifndef POLYIO_BACKENDS_POLL_POLL_POLLER_H_
#define POLYIO_BACKENDS_POLL_POLL_POLLER_H_

#include <poll.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/readiness/poller.h"
#include "backends/wake_latch.h"
#include "platform/unique_fd.h"

namespace polyio {

class PollPoller {
 public:
  static constexpr std::string_view kName = "poll";
  static constexpr bool kEdgeTriggered = false;

  // No option concerns it: every wait reports all ready fds.
  static absl::StatusOr<PollPoller> Create(const BackendOptions& options);

  int Arm(int fd, bool want_read, bool want_write);
  void Disarm(int fd);
  void Wake();

  template <PollerReportSink Sink>
  void Poll(int64_t timeout_ns, Sink&& sink) {
    if (WaitForEvents(timeout_ns) <= 0) return;
    if (fds_[0].revents != 0) DrainWake();
    // Callbacks may Arm/Disarm and so reorder the array: walk a snapshot.
    ready_.clear();
    for (size_t i = 1; i < fds_.size(); ++i) {
      if (fds_[i].revents != 0) ready_.push_back(fds_[i]);
    }
    for (const pollfd& p : ready_) {
      bool error = p.revents & (POLLERR | POLLHUP | POLLNVAL);
      sink.Ready(p.fd, error || (p.revents & (POLLIN | POLLPRI)),
                 error || (p.revents & POLLOUT), error);
    }
  }

 private:
  PollPoller(UniqueFd wake_read, UniqueFd wake_write);
  int WaitForEvents(int64_t timeout_ns);
  void DrainWake();
  void Remove(int fd);

  UniqueFd wake_read_;
  UniqueFd wake_write_;
  std::vector<pollfd> fds_;       // [0] is the wake pipe
  std::vector<int32_t> slot_of_;  // fd -> index in fds_, or -1
  std::vector<pollfd> ready_;     // scratch for Poll
  // Later wakes skip the write(2) until the poller has seen the pipe.
  WakeLatch wake_latch_;
};

static_assert(ReadinessPoller<PollPoller>);

}  // namespace polyio

#endif  // POLYIO_BACKENDS_POLL_POLL_POLLER_H_
