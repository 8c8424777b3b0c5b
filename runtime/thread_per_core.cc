#include "runtime/thread_per_core.h"

#if defined(__linux__)
#include <sched.h>
#endif

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

namespace polyio {
namespace {

void PinToCore(int index) {
#if defined(__linux__)
  unsigned cores = std::thread::hardware_concurrency();
  if (cores == 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(index % cores, &set);
  // Best effort: a cgroup may forbid the core; the thread then runs as is.
  sched_setaffinity(0, sizeof(set), &set);
#else
  (void)index;
#endif
}

}  // namespace

absl::Status RunThreadPerCore(
    const ThreadPerCoreOptions& options,
    const std::function<Task<absl::Status>(int index)>& make_task) {
  int n = options.threads;
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  std::vector<absl::Status> results(n);
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      if (options.pin) PinToCore(i);
      RuntimeOptions rt_options;
      rt_options.backend = options.backend;
      absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create(rt_options);
      if (!rt.ok()) {
        results[i] = absl::Status(
            rt.status().code(),
            absl::StrCat("thread ", i, ": ", rt.status().message()));
        return;
      }
      results[i] = (*rt)->BlockOn(make_task(i));
    });
  }
  for (auto& t : threads) t.join();
  for (const absl::Status& s : results) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace polyio
