// The example servers' shared main() (server_main.h).
#include "examples/server_main.h"

#include <cstdio>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "examples/flags.h"
#include "examples/runtime_flags.h"
#include "examples/stop_signal.h"

namespace polyio::examples {
namespace {

int Fail(const ServerSpec& spec, const absl::Status& status) {
  std::fprintf(stderr, "%s: %s\n", spec.name,
               std::string(status.message()).c_str());
  return 1;
}

// A bad command line: the reason, then how to call the program.
int FailUsage(const ServerSpec& spec, const absl::Status& status) {
  Fail(spec, status);
  std::fprintf(stderr, "%s\n", spec.usage);
  return 1;
}

}  // namespace

int RunServer(const ServerSpec& spec, int argc, char** argv,
              MakeServe make_serve) {
  std::vector<const char*> known = spec.flags;
  known.push_back("runtime");
  known.push_back("workers");
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv, known);
  if (!flags.ok()) return FailUsage(spec, flags.status());
  absl::StatusOr<RuntimeOptions> options = RuntimeOptionsFromFlags(*flags);
  if (!options.ok()) return FailUsage(spec, options.status());
  // Before the runtime's threads exist (stop_signal.h).
  absl::Status blocked = StopSignals::BlockInEveryThread();
  if (!blocked.ok()) return Fail(spec, blocked);
  absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create(*options);
  if (!rt.ok()) return Fail(spec, rt.status());
  absl::StatusOr<Task<absl::Status>> serve = make_serve(*flags, **rt);
  if (absl::IsInvalidArgument(serve.status())) {
    return FailUsage(spec, serve.status());
  }
  if (!serve.ok()) return Fail(spec, serve.status());
  // Listened for before the server says it listens (stop_signal.h).
  absl::StatusOr<StopSignals> stop = StopSignals::Listen();
  if (!stop.ok()) return Fail(spec, stop.status());
  absl::StatusOr<int> signo =
      (*rt)->BlockOn(ServeUntilStopped(std::move(*serve), &*stop));
  if (!signo.ok()) return Fail(spec, signo.status());
  ReportShutdown(spec.name, *signo, (*rt)->Shutdown(spec.drain_time));
  return 0;
}

absl::StatusOr<uint16_t> PortFlag(const Flags& flags) {
  auto it = flags.find("port");
  if (it == flags.end())
    return absl::InvalidArgumentError("--port is required");
  absl::StatusOr<int64_t> port = ParseInt("port", it->second, 0, 65535);
  if (!port.ok()) return port.status();
  return static_cast<uint16_t>(*port);
}

absl::StatusOr<int64_t> IntFlag(const Flags& flags, const char* name,
                                int64_t fallback, int64_t min, int64_t max,
                                bool allow_suffix) {
  auto it = flags.find(name);
  if (it == flags.end()) return fallback;
  return ParseInt(name, it->second, min, max, allow_suffix);
}

}  // namespace polyio::examples
