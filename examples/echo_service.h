// The echo service: what examples/echo_server runs, and the polyio server the
// echo benchmarks measure (so that the benchmark measures the example).
//
//   absl::StatusOr<TcpListener> l = TcpListener::Bind(addr);
//   absl::Status s = co_await polyio::examples::ServeEcho(&*l);
//
// ServeEcho accepts connections until the listener fails or is closed (it
// then returns that status) and spawns one detached EchoConnection task per
// connection; each echoes every byte back until the peer closes its side.
// Connection errors (a peer that resets) end that connection only.
//
// Runs on the calling thread's driver; thread-compatible like TcpListener.
#ifndef POLYIO_EXAMPLES_ECHO_SERVICE_H_
#define POLYIO_EXAMPLES_ECHO_SERVICE_H_

#include "absl/status/status.h"
#include "polyio.h"

namespace polyio::examples {

// Echoes everything it reads until the peer closes; returns the first error.
Task<absl::Status> EchoConnection(TcpStream stream);

// Accepts and serves connections until accepting fails.
Task<absl::Status> ServeEcho(TcpListener* listener);

}  // namespace polyio::examples

#endif  // POLYIO_EXAMPLES_ECHO_SERVICE_H_
