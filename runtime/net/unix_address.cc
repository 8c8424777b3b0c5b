#include "runtime/net/unix_address.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace polyio {
namespace {

// Bytes of sun_path a name may use: a path keeps room for its terminating
// '\0' (what every system reads), an abstract name has the leading '\0'.
constexpr size_t kMaxName = sizeof(sockaddr_un::sun_path) - 1;

std::string Shown(absl::string_view path) {
  if (!path.empty() && path[0] == '\0') {
    return absl::StrCat("@", path.substr(1));
  }
  return std::string(path);
}

absl::Status Invalid(absl::string_view call, absl::string_view path,
                     absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat(call, " ", Shown(path), ": ", why));
}

}  // namespace

UnixAddress::UnixAddress() {
  std::memset(&addr_, 0, sizeof(addr_));
  addr_.sun_family = AF_UNIX;
}

absl::StatusOr<UnixAddress> UnixAddress::ForCall(absl::string_view call,
                                                 absl::string_view path) {
  if (path.empty()) return Invalid(call, path, "the path is empty");
  if (path[0] == '\0') return AbstractForCall(call, path.substr(1));
  if (path.find('\0') != absl::string_view::npos) {
    return Invalid(call, path, "the path has a '\\0' inside it");
  }
  if (path.size() > kMaxName) {
    return Invalid(
        call, path,
        absl::StrCat("the path is ", path.size(),
                     " bytes; a Unix socket path holds at most ", kMaxName));
  }
  UnixAddress a;
  std::memcpy(a.addr_.sun_path, path.data(), path.size());
  a.name_len_ = path.size();
  return a;
}

absl::StatusOr<UnixAddress> UnixAddress::AbstractForCall(
    absl::string_view call, absl::string_view name) {
  const std::string shown = absl::StrCat(absl::string_view("\0", 1), name);
#if defined(__linux__)
  if (name.size() > kMaxName) {
    return Invalid(
        call, shown,
        absl::StrCat("the abstract name is ", name.size(),
                     " bytes; a Unix socket name holds at most ", kMaxName));
  }
  UnixAddress a;
  // sun_path[0] stays '\0': that is what makes the name abstract.
  if (!name.empty()) {
    std::memcpy(a.addr_.sun_path + 1, name.data(), name.size());
  }
  a.name_len_ = name.size() + 1;
  return a;
#else
  return absl::UnimplementedError(absl::StrCat(
      call, " ", Shown(shown), ": abstract Unix socket names are Linux only"));
#endif
}

UnixAddress UnixAddress::FromSockaddr(const sockaddr_un& addr, socklen_t len) {
  UnixAddress a;
  const size_t base = offsetof(sockaddr_un, sun_path);
  if (len <= base || addr.sun_family != AF_UNIX) return a;
  size_t n = std::min<size_t>(len - base, sizeof(addr.sun_path));
  // A path may come back with its terminating '\0' counted; an abstract
  // name's bytes are all its own.
  if (addr.sun_path[0] != '\0') {
    n = strnlen(addr.sun_path, n);
  }
  std::memcpy(a.addr_.sun_path, addr.sun_path, n);
  a.name_len_ = n;
  return a;
}

std::string UnixAddress::name() const {
  if (is_unnamed()) return "";
  if (is_abstract()) return std::string(addr_.sun_path + 1, name_len_ - 1);
  return std::string(addr_.sun_path, name_len_);
}

std::string UnixAddress::ToString() const {
  if (is_unnamed()) return "(unnamed)";
  if (is_abstract()) return absl::StrCat("@", name());
  return name();
}

socklen_t UnixAddress::size() const {
  const size_t base = offsetof(sockaddr_un, sun_path);
  // A path is passed with its '\0'; an abstract name exactly as long as it
  // is (the kernel counts every byte of it).
  if (is_unnamed()) return static_cast<socklen_t>(base);
  if (is_abstract()) return static_cast<socklen_t>(base + name_len_);
  return static_cast<socklen_t>(base + name_len_ + 1);
}

}  // namespace polyio
