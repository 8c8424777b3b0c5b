// The runtime flags of the example servers: which of polyio's two runtimes
// serves, so that the same program runs on either by a flag.
//
//   --runtime current_thread   (the default) one thread runs every task
//   --runtime multi_thread     a work-stealing pool of --workers N threads
//   --workers N                0 (the default): one per core
//
//   absl::StatusOr<polyio::RuntimeOptions> options =
//       RuntimeOptionsFromFlags(flags);               // flags: ParseFlags's
//   ... Runtime::Create(*options) ...
//   printf("... (%s)\n", DescribeRuntime(**rt).c_str());
//   // "epoll, current-thread runtime", "io_uring, multi-thread runtime,
//   // 2 workers"
//
// Programs that use these list "runtime" and "workers" among ParseFlags's
// known flags. Thread-compatible (plain functions of their arguments).
#ifndef POLYIO_EXAMPLES_RUNTIME_FLAGS_H_
#define POLYIO_EXAMPLES_RUNTIME_FLAGS_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "polyio.h"

namespace polyio::examples {

// The options --runtime and --workers ask for; InvalidArgument for an
// unknown runtime, or --workers without --runtime multi_thread.
absl::StatusOr<RuntimeOptions> RuntimeOptionsFromFlags(
    const std::map<std::string, std::string>& flags);

// The backend and the runtime, for the line a server prints at start-up.
std::string DescribeRuntime(Runtime& runtime);

}  // namespace polyio::examples

#endif  // POLYIO_EXAMPLES_RUNTIME_FLAGS_H_
