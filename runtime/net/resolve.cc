#include "runtime/net/resolve.h"

#include <netdb.h>
#include <sys/socket.h>

#include <cerrno>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "runtime/blocking/spawn_blocking.h"

namespace polyio {
namespace {

absl::Status GaiError(int code, const std::string& host) {
  const std::string what = absl::StrCat("resolve ", host);
  switch (code) {
    case EAI_SYSTEM:
      return absl::ErrnoToStatus(errno, what);
    case EAI_AGAIN:
      return absl::UnavailableError(
          absl::StrCat(what, ": ", gai_strerror(code)));
    case EAI_MEMORY:
      return absl::ResourceExhaustedError(
          absl::StrCat(what, ": ", gai_strerror(code)));
    case EAI_NONAME:
#if defined(EAI_NODATA) && EAI_NODATA != EAI_NONAME
    case EAI_NODATA:
#endif
#if defined(EAI_ADDRFAMILY)
    case EAI_ADDRFAMILY:
#endif
      return absl::NotFoundError(absl::StrCat(what, ": ", gai_strerror(code)));
    case EAI_FAIL:
      return absl::UnavailableError(
          absl::StrCat(what, ": ", gai_strerror(code)));
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": ", gai_strerror(code)));
  }
}

// The blocking part, on a pool thread.
absl::StatusOr<std::vector<SocketAddress>> LookUp(const std::string& host,
                                                  uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  int code;
  do {
    errno = 0;
    code = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  } while (code == EAI_SYSTEM && errno == EINTR);
  if (code != 0) return GaiError(code, host);
  std::vector<SocketAddress> out;
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    absl::StatusOr<SocketAddress> addr =
        SocketAddress::FromSockaddr(ai->ai_addr, ai->ai_addrlen);
    if (!addr.ok()) continue;  // a family this library does not speak
    bool seen = false;
    for (const SocketAddress& a : out) seen = seen || a == *addr;
    if (!seen) out.push_back(*addr);
  }
  ::freeaddrinfo(list);
  if (out.empty()) {
    return absl::NotFoundError(
        absl::StrCat("resolve ", host, ": no IPv4 or IPv6 address"));
  }
  return out;
}

}  // namespace

Task<absl::StatusOr<std::vector<SocketAddress>>> Resolve(std::string host,
                                                         uint16_t port) {
  using Result = absl::StatusOr<std::vector<SocketAddress>>;
  if (host.empty()) {
    co_return Result(absl::InvalidArgumentError("resolve: empty host name"));
  }
  absl::string_view literal = host;
  if (literal.size() > 2 && literal.front() == '[' && literal.back() == ']') {
    literal = literal.substr(1, literal.size() - 2);
  }
  if (absl::StatusOr<SocketAddress> numeric =
          SocketAddress::FromIpPort(literal, port);
      numeric.ok()) {
    co_return Result(std::vector<SocketAddress>{*numeric});
  }
  // Named, not a temporary inside the co_await: g++ 12 mishandles the
  // lifetime of temporaries with destructors in co_await expressions.
  BlockingFuture<absl::StatusOr<std::vector<SocketAddress>>> lookup =
      SpawnBlocking(
          [host = std::move(host), port] { return LookUp(host, port); });
  co_return co_await lookup;
}

}  // namespace polyio
