// Thread placement for the benchmarks: the server and the load generator
// run on different cores, so that each row measures the server's cost and
// not the scheduler's choice of sharing one core between them.
//
// Cores are picked from the process's allowed set (sched_getaffinity):
// kServerCore is the first allowed core, kClientCore the second (the same
// core if only one is allowed; then pinning is skipped). Thread-safe.
#ifndef POLYIO_BENCHMARKS_AFFINITY_H_
#define POLYIO_BENCHMARKS_AFFINITY_H_

#include <sched.h>

namespace polyio::bench {

enum class Role { kServer, kClient };

// Pins the calling thread to the core for `role`; false if it could not
// (one core, or sched_setaffinity refused), which the benchmark tolerates.
bool PinCurrentThread(Role role);

// The core `role` is pinned to, or -1 when pinning is skipped.
int CoreFor(Role role);

// For its lifetime, lets the calling thread run on every allowed core, then
// restores its mask. Threads inherit their creator's mask: a multi-thread
// runtime created inside this scope spreads its workers over the cores
// instead of stacking them on the benchmark thread's one.
class AllCoresScope {
 public:
  AllCoresScope();
  ~AllCoresScope();
  AllCoresScope(const AllCoresScope&) = delete;
  AllCoresScope& operator=(const AllCoresScope&) = delete;

 private:
  bool restore_ = false;
  cpu_set_t saved_;
};

}  // namespace polyio::bench

#endif  // POLYIO_BENCHMARKS_AFFINITY_H_
