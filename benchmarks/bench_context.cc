// Benchmark context and process limits (bench_context.h).
#include "benchmarks/bench_context.h"

#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>

#include "benchmark/benchmark.h"
#include "benchmarks/affinity.h"

namespace polyio::bench {

void AddBenchContext(const std::string& backend) {
  char date[64];
  std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S%z",
                std::localtime(&now));
  benchmark::AddCustomContext("polyio_date", date);
  char host[256] = "unknown";
  gethostname(host, sizeof(host) - 1);
  benchmark::AddCustomContext("polyio_host", host);
  utsname u;
  if (uname(&u) == 0) {
    benchmark::AddCustomContext("polyio_kernel",
                                std::string(u.sysname) + " " + u.release);
  }
  benchmark::AddCustomContext("polyio_backend", backend);
  benchmark::AddCustomContext(
      "polyio_cores", "server=" + std::to_string(CoreFor(Role::kServer)) +
                          " client=" + std::to_string(CoreFor(Role::kClient)));
}

void RaiseFdLimit() {
  rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return;
  r.rlim_cur = r.rlim_max;
  setrlimit(RLIMIT_NOFILE, &r);
}

}  // namespace polyio::bench
