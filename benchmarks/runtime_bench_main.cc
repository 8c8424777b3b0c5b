// main() of //benchmarks:runtime_bench: records where the numbers come from
// (bench_context.h) and pins the benchmark thread to the server core, so
// that the cross-thread benchmarks' helper gets the other core.
#include <cstdio>

#include "benchmark/benchmark.h"
#include "benchmarks/affinity.h"
#include "benchmarks/bench_context.h"
#include "polyio.h"

int main(int argc, char** argv) {
  using namespace polyio::bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  absl::StatusOr<std::unique_ptr<polyio::Runtime>> rt =
      polyio::Runtime::Create();
  if (!rt.ok()) {
    std::fprintf(stderr, "runtime_bench: backend unavailable: %s\n",
                 rt.status().ToString().c_str());
    return 3;
  }
  AddBenchContext(std::string((*rt)->backend_name()));
  rt->reset();
  PinCurrentThread(Role::kServer);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
