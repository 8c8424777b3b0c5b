// The echo service of this example monorepo, written against polyio's public
// API (`#include "polyio.h"` from @polyio//:polyio), as any service of a
// workspace that depends on polyio would be.
//
//   absl::StatusOr<polyio::TcpListener> l = polyio::TcpListener::Bind(addr);
//   co_await services::echo::Serve(&*l);          // until accepting fails
//   co_await services::echo::Exchange(addr, msg);  // msg, echoed back
#ifndef SERVICES_ECHO_ECHO_SERVICE_H_
#define SERVICES_ECHO_ECHO_SERVICE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "polyio.h"

namespace services::echo {

// Sends back every byte it reads, until the peer shuts down its side.
polyio::Task<absl::Status> EchoConnection(polyio::TcpStream stream);

// Accepts connections until accepting fails (or the listener is closed), one
// detached EchoConnection task each; returns the failure.
polyio::Task<absl::Status> Serve(polyio::TcpListener* listener);

// Connects to `addr`, sends `message` while reading the reply, shuts down its
// write side when all is sent, and returns everything read until the server
// closed the connection.
polyio::Task<absl::StatusOr<std::string>> Exchange(polyio::SocketAddress addr,
                                                   std::string message);

}  // namespace services::echo

#endif  // SERVICES_ECHO_ECHO_SERVICE_H_
