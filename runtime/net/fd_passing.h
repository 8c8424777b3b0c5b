// fd passing (SCM_RIGHTS): the control data that carries file descriptors
// in a Unix socket message, built for sendmsg and taken apart after
// recvmsg. The futures that use it are in unix_message.h.
//
// Sending copies the numbers into the message: the caller's fds stay open
// and theirs; the receiver gets new numbers for the same open files.
//
// Receiving: every fd the kernel installed in this process is owned by a
// UniqueFd from the moment the control data is read, so none can leak. At
// most `max_fds` are handed to the caller; any beyond that are closed, and
// so are the ones the kernel itself dropped because the control buffer was
// too small (MSG_CTRUNC). Either way the result says `fds_truncated`.
// Received fds are close-on-exec: recvmsg runs with MSG_CMSG_CLOEXEC where
// it exists (Linux, the BSDs); elsewhere FD_CLOEXEC is set right after.
//
// Thread-safe (pure functions over the caller's buffers).
#ifndef POLYIO_RUNTIME_NET_FD_PASSING_H_
#define POLYIO_RUNTIME_NET_FD_PASSING_H_

#include <sys/socket.h>

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "platform/unique_fd.h"

namespace polyio {

// Linux's limit on fds in one message (SCM_MAX_FD); the BSDs take more, but
// one number for every system keeps programs portable.
inline constexpr size_t kMaxFdsPerMessage = 253;

// The control bytes that carry `fds`, laid out with CMSG_*; empty when
// `fds` is. InvalidArgument naming `op` when there are more than
// kMaxFdsPerMessage or one is negative.
absl::Status BuildRightsControl(absl::string_view op, absl::Span<const int> fds,
                                std::vector<char>* control);

// Room for the control data of `max_fds` fds (0 when max_fds is 0).
size_t RightsControlSpace(size_t max_fds);

// recvmsg flags that make received fds close-on-exec.
int CloexecRecvFlags();

// What recvmsg put in `msg` (its msg_control and msg_flags): up to
// `max_fds` fds go to `out`, the rest are closed. Returns true when fds
// were dropped (closed here, or by the kernel: MSG_CTRUNC).
bool TakeRights(const msghdr& msg, size_t max_fds, std::vector<UniqueFd>* out);

// Moves `kept` into `out` up to `max_fds` total, closing the rest; true
// when some were closed.
bool TakeUpTo(std::vector<UniqueFd> kept, size_t max_fds,
              std::vector<UniqueFd>* out);

}  // namespace polyio

#endif  // POLYIO_RUNTIME_NET_FD_PASSING_H_
