// UnixAddress: the name of a Unix-domain socket, as the kernel wants it.
//
//   absl::StatusOr<UnixAddress> a = UnixAddress::ForCall("bind", path);
//
// Three kinds, as unix(7) has them:
// - a path in the file system ("app.sock", "run/app.sock"): bind creates the
// socket
//   file, connect finds it there;
// - an abstract name (Linux only): a name in the network namespace, not in
//   the file system, written with a leading '\0' in a path, or given to
//   Abstract() without it; ToString shows it as "@name";
// - unnamed: an unbound socket, a socketpair's end, a datagram's sender that
//   never bound; ToString shows "(unnamed)".
//
// Bad input is InvalidArgument naming the call and the path ("bind /a/...:
// the path is 130 bytes; a Unix socket path holds at most 107"): an empty
// path, a path with a '\0' inside it, a name longer than sun_path holds, an
// abstract name on a system without them (Unimplemented there).
//
// Value type, thread-compatible.
#ifndef POLYIO_RUNTIME_NET_UNIX_ADDRESS_H_
#define POLYIO_RUNTIME_NET_UNIX_ADDRESS_H_

#include <sys/socket.h>
#include <sys/un.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace polyio {

class UnixAddress {
 public:
  // Unnamed.
  UnixAddress();

  // `path`: a file-system path, or an abstract name if it starts with '\0'.
  // `call` names the operation in an error ("bind", "connect").
  static absl::StatusOr<UnixAddress> ForCall(absl::string_view call,
                                             absl::string_view path);
  // An abstract name, without the leading '\0'.
  static absl::StatusOr<UnixAddress> AbstractForCall(absl::string_view call,
                                                     absl::string_view name);
  static absl::StatusOr<UnixAddress> Path(absl::string_view path) {
    return ForCall("unix address", path);
  }
  static absl::StatusOr<UnixAddress> Abstract(absl::string_view name) {
    return AbstractForCall("unix address", name);
  }
  // What the kernel filled in (accept, recvfrom, getsockname); `len` as it
  // returned it.
  static UnixAddress FromSockaddr(const sockaddr_un& addr, socklen_t len);

  bool is_unnamed() const { return name_len_ == 0; }
  bool is_abstract() const { return name_len_ > 0 && addr_.sun_path[0] == 0; }
  // The path, or the abstract name without its '\0'; empty when unnamed.
  std::string name() const;
  std::string ToString() const;

  const sockaddr* data() const {
    return reinterpret_cast<const sockaddr*>(&addr_);
  }
  socklen_t size() const;

  friend bool operator==(const UnixAddress& a, const UnixAddress& b) {
    return a.name_len_ == b.name_len_ && a.name() == b.name() &&
           a.is_abstract() == b.is_abstract();
  }

 private:
  sockaddr_un addr_;
  size_t name_len_ = 0;  // bytes of sun_path in use, the '\0' of abstract in
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_NET_UNIX_ADDRESS_H_
