// The runtime flags of the example servers (runtime_flags.h).
#include "examples/runtime_flags.h"

#include "absl/strings/str_cat.h"
#include "examples/flags.h"

namespace polyio::examples {

absl::StatusOr<RuntimeOptions> RuntimeOptionsFromFlags(
    const std::map<std::string, std::string>& flags) {
  RuntimeOptions options;
  auto runtime = flags.find("runtime");
  const std::string name =
      runtime == flags.end() ? "current_thread" : runtime->second;
  if (name == "multi_thread") {
    options.flavor = RuntimeFlavor::kMultiThread;
  } else if (name != "current_thread") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--runtime=", name, ": expected current_thread or multi_thread"));
  }
  if (auto workers = flags.find("workers"); workers != flags.end()) {
    if (options.flavor != RuntimeFlavor::kMultiThread) {
      return absl::InvalidArgumentError(
          "--workers needs --runtime multi_thread");
    }
    absl::StatusOr<int64_t> n = ParseInt("workers", workers->second, 0, 1024);
    if (!n.ok()) return n.status();
    options.worker_threads = static_cast<int>(*n);
  }
  return options;
}

std::string DescribeRuntime(Runtime& runtime) {
  // (Debian's Abseil has its own string_view, which StrCat takes.)
  const std::string backend(runtime.backend_name());
  if (runtime.flavor() == RuntimeFlavor::kCurrentThread) {
    return absl::StrCat(backend, ", current-thread runtime");
  }
  return absl::StrCat(backend, ", multi-thread runtime, ",
                      runtime.worker_threads(), " worker",
                      runtime.worker_threads() == 1 ? "" : "s");
}

}  // namespace polyio::examples
