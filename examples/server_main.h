// The main() the example servers share (udp_echo, unix_echo, chat,
// http_hello): parse the flags, make the runtime --runtime and --workers ask
// for, serve until SIGTERM or SIGINT, drain, say how it ended. Each server
// then shows only what is its own: its flags and its serving task.
//
//   int main(int argc, char** argv) {
//     return polyio::examples::RunServer(
//         {.name = "udp_echo", .usage = kUsage, .flags = {"port", "buffer"}},
//         argc, argv,
//         [](const Flags& flags, Runtime& rt)
//             -> absl::StatusOr<Task<absl::Status>> {
//           absl::StatusOr<uint16_t> port = PortFlag(flags);
//           if (!port.ok()) return port.status();
//           return Serve(*port, DescribeRuntime(rt));
//         });
//   }
//
// What a user sees, in order:
// - a bad flag (ParseFlags, RuntimeOptionsFromFlags, or an InvalidArgument
//   from `make_serve`): "NAME: <why>" and the usage on stderr, exit 1;
// - a runtime that cannot be made here (a backend the kernel lacks), or
//   signals that cannot be listened for: "NAME: <why>" on stderr, exit 1;
// - serving ends by itself (a failed bind, a socket error): "NAME: <why>",
//   exit 1;
// - SIGTERM or SIGINT: the serving task is cancelled (no new clients), the
//   runtime gets `drain_time` to finish the rest (Runtime::Shutdown), and
//   stdout says how that went (stop_signal.h, ReportShutdown); exit 0.
//
// echo_server spells this sequence out in its own main(), as the smallest
// complete polyio program; the others call this.
//
// Thread-compatible: called once, from main.
#ifndef POLYIO_EXAMPLES_SERVER_MAIN_H_
#define POLYIO_EXAMPLES_SERVER_MAIN_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "polyio.h"

namespace polyio::examples {

using Flags = std::map<std::string, std::string>;

struct ServerSpec {
  const char* name;  // prefixes every message: "udp_echo: ..."
  const char* usage;
  // The server's own flags, without dashes; "runtime" and "workers" are
  // always accepted too (runtime_flags.h).
  std::vector<const char*> flags;
  // How long open work may go on after a stop signal.
  std::chrono::milliseconds drain_time = std::chrono::seconds(1);
};

// Checks the flags and returns the task that serves; an InvalidArgument is
// a usage error. Called once the runtime exists, outside it.
using MakeServe = absl::FunctionRef<absl::StatusOr<Task<absl::Status>>(
    const Flags& flags, Runtime& runtime)>;

// Runs the server as said above; returns main's exit status.
int RunServer(const ServerSpec& spec, int argc, char** argv,
              MakeServe make_serve);

// --port P, required, 0..65535 (0: the kernel picks a free port).
absl::StatusOr<uint16_t> PortFlag(const Flags& flags);

// --NAME N in [min, max] (powers of 1024 suffixes when `allow_suffix`),
// or `fallback` when the flag is absent.
absl::StatusOr<int64_t> IntFlag(const Flags& flags, const char* name,
                                int64_t fallback, int64_t min, int64_t max,
                                bool allow_suffix = false);

}  // namespace polyio::examples

#endif  // POLYIO_EXAMPLES_SERVER_MAIN_H_
