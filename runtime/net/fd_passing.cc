#include "runtime/net/fd_passing.h"

#include <fcntl.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace polyio {

absl::Status BuildRightsControl(absl::string_view op, absl::Span<const int> fds,
                                std::vector<char>* control) {
  control->clear();
  if (fds.empty()) return absl::OkStatus();
  if (fds.size() > kMaxFdsPerMessage) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": ", fds.size(), " fds; one message carries at most ",
                     kMaxFdsPerMessage));
  }
  for (int fd : fds) {
    if (fd < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": fd ", fd, " is not a file descriptor"));
    }
  }
  const size_t bytes = fds.size() * sizeof(int);
  // Zeroed: CMSG_NXTHDR and the kernel may look at the padding.
  control->assign(CMSG_SPACE(bytes), 0);
  cmsghdr header{};
  header.cmsg_level = SOL_SOCKET;
  header.cmsg_type = SCM_RIGHTS;
  header.cmsg_len = CMSG_LEN(bytes);
  std::memcpy(control->data(), &header, sizeof(header));
  // CMSG_DATA of a header at the start of the buffer, by offset: the
  // buffer is a char array, so no cmsghdr object is formed in it here.
  const size_t data_offset = static_cast<size_t>(
      CMSG_DATA(reinterpret_cast<cmsghdr*>(control->data())) -
      reinterpret_cast<unsigned char*>(control->data()));
  std::memcpy(control->data() + data_offset, fds.data(), bytes);
  return absl::OkStatus();
}

size_t RightsControlSpace(size_t max_fds) {
  return max_fds == 0 ? 0 : CMSG_SPACE(max_fds * sizeof(int));
}

int CloexecRecvFlags() {
#if defined(MSG_CMSG_CLOEXEC)
  return MSG_CMSG_CLOEXEC;
#else
  return 0;
#endif
}

bool TakeRights(const msghdr& msg, size_t max_fds, std::vector<UniqueFd>* out) {
  bool dropped = (msg.msg_flags & MSG_CTRUNC) != 0;
  if (msg.msg_control == nullptr || msg.msg_controllen == 0) return dropped;
  // First own every fd the kernel installed, then decide which to keep.
  std::vector<UniqueFd> all;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t bytes = c->cmsg_len - CMSG_LEN(0);
    const size_t n = bytes / sizeof(int);
    const unsigned char* data = CMSG_DATA(c);
    for (size_t i = 0; i < n; ++i) {
      int fd;
      std::memcpy(&fd, data + i * sizeof(int), sizeof(int));
      all.emplace_back(fd);
#if !defined(MSG_CMSG_CLOEXEC)
      fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
#endif
    }
  }
  return TakeUpTo(std::move(all), max_fds, out) || dropped;
}

bool TakeUpTo(std::vector<UniqueFd> kept, size_t max_fds,
              std::vector<UniqueFd>* out) {
  bool closed = false;
  for (UniqueFd& fd : kept) {
    if (out->size() < max_fds) {
      out->push_back(std::move(fd));
    } else {
      fd.Reset();
      closed = true;
    }
  }
  return closed;
}

}  // namespace polyio
