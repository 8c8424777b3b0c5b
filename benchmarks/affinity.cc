// Thread placement (affinity.h).
#include "benchmarks/affinity.h"

#include <sched.h>

#include <vector>

namespace polyio::bench {
namespace {

// The allowed cores, read once at start-up, before any thread was pinned.
const std::vector<int>& AllowedCores() {
  static const std::vector<int>* cores = [] {
    auto* v = new std::vector<int>;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
      for (int i = 0; i < CPU_SETSIZE; ++i) {
        if (CPU_ISSET(i, &set)) v->push_back(i);
      }
    }
    return v;
  }();
  return *cores;
}

}  // namespace

int CoreFor(Role role) {
  const std::vector<int>& cores = AllowedCores();
  if (cores.size() < 2) return -1;
  return role == Role::kServer ? cores[0] : cores[1];
}

bool PinCurrentThread(Role role) {
  int core = CoreFor(role);
  if (core < 0) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core, &set);
  return sched_setaffinity(0, sizeof(set), &set) == 0;
}

AllCoresScope::AllCoresScope() {
  if (sched_getaffinity(0, sizeof(saved_), &saved_) != 0) return;
  cpu_set_t all;
  CPU_ZERO(&all);
  for (int core : AllowedCores()) CPU_SET(core, &all);
  restore_ = sched_setaffinity(0, sizeof(all), &all) == 0;
}

AllCoresScope::~AllCoresScope() {
  if (restore_) {
    sched_setaffinity(0, sizeof(saved_), &saved_);
  }
}

}  // namespace polyio::bench
