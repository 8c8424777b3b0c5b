#include "runtime/net/unix_listener.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/net/socket_errors.h"

namespace polyio {

UnixListener::UnixListener(UniqueFd fd, std::optional<SocketFile> file)
    : handle_(FdHandle::Make(std::move(fd), nullptr, "UnixListener")),
      file_(std::move(file)) {}

UnixListener::UnixListener(UnixListener&& other) noexcept
    : handle_(std::move(other.handle_)),
      file_(std::exchange(other.file_, {})) {}

UnixListener& UnixListener::operator=(UnixListener&& other) noexcept {
  if (this != &other) {
    Close();
    handle_ = std::move(other.handle_);
    file_ = std::exchange(other.file_, {});
  }
  return *this;
}

absl::StatusOr<UnixListener> UnixListener::Bind(absl::string_view path,
                                                int backlog) {
  absl::StatusOr<UnixAddress> addr = UnixAddress::ForCall("bind", path);
  if (!addr.ok()) return addr.status();
  return Bind(*addr, backlog);
}

absl::StatusOr<UnixListener> UnixListener::BindAbstract(absl::string_view name,
                                                        int backlog) {
  absl::StatusOr<UnixAddress> addr = UnixAddress::AbstractForCall("bind", name);
  if (!addr.ok()) return addr.status();
  return Bind(*addr, backlog);
}

absl::StatusOr<UnixListener> UnixListener::Bind(const UnixAddress& addr,
                                                int backlog) {
  const std::string shown = addr.ToString();
  if (addr.is_unnamed()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bind ", shown, ": a listener needs a path or a name"));
  }
  absl::StatusOr<UniqueFd> fd = NewUnixSocket(SOCK_STREAM);
  if (!fd.ok()) return fd.status();
  if (::bind(fd->get(), addr.data(), addr.size()) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("bind ", shown));
  }
  std::optional<SocketFile> file;
  if (!addr.is_abstract()) {
    // The file just made: Close removes it only while it is still this one.
    struct stat st;
    if (::lstat(addr.name().c_str(), &st) == 0) {
      file = SocketFile{addr.name(), st.st_dev, st.st_ino};
    }
  }
  UnixListener listener(std::move(*fd), std::move(file));
  if (::listen(listener.fd(), backlog) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("listen ", shown));
  }
  return listener;
}

absl::StatusOr<UnixAddress> UnixListener::LocalAddress() const {
  if (fd() < 0) return ClosedError("local address", "listener");
  return UnixSocketName(fd(), false);
}

void UnixListener::Close() {
  if (handle_) handle_->Close().IgnoreError();
  if (!file_) return;
  struct stat st;
  if (::lstat(file_->path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) &&
      st.st_dev == file_->dev && st.st_ino == file_->ino) {
    ::unlink(file_->path.c_str());
  }
  file_.reset();
}

}  // namespace polyio
