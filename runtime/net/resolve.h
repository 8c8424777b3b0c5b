// Resolve(host, port): the socket addresses of a host name, for Connect.
//
//   absl::StatusOr<std::vector<SocketAddress>> addrs =
//       co_await Resolve("localhost", 8080);
//
// A numeric IPv4 or IPv6 address (brackets allowed: "[::1]") is converted
// at once, without a thread hop. A name is looked up with getaddrinfo(3) —
// which reads /etc/hosts, asks DNS and may block for seconds — on the
// blocking pool (BlockingPool::Current()), as tokio's lookup_host does.
// The addresses come in getaddrinfo's order (RFC 6724 preference), without
// duplicates, for stream sockets.
//
// Errors say what was resolved and getaddrinfo's own words:
//   NotFound     "resolve nosuch.invalid: Name or service not known"
//   Unavailable  a temporary failure (EAI_AGAIN): retrying may help
//   InvalidArgument  an empty host
// A task cancelled while the lookup runs gets CancelledError at once; the
// lookup finishes on its thread and is discarded (it cannot be interrupted).
//
// Cancel-safe (docs/cancellation.md): the lookup's result is dropped.
//
// Thread-safe (a free function over the thread-safe blocking pool).
#ifndef POLYIO_RUNTIME_NET_RESOLVE_H_
#define POLYIO_RUNTIME_NET_RESOLVE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/socket_address.h"
#include "runtime/task/task.h"

namespace polyio {

Task<absl::StatusOr<std::vector<SocketAddress>>> Resolve(std::string host,
                                                         uint16_t port);

}  // namespace polyio

#endif  // POLYIO_RUNTIME_NET_RESOLVE_H_
