// main() of the peers' runtime benchmarks (asio_runtime_bench,
// libuv_runtime_bench), as //benchmarks:runtime_bench's: records where the
// numbers come from, with the peer's name as the "backend"
// (bench_context.h), and pins the benchmark thread to the server core, so
// that the cross-thread benchmarks' helper gets the other core.
// POLYIO_PEER (asio, libuv) comes from the binary's local_defines.
#include "benchmark/benchmark.h"
#include "benchmarks/affinity.h"
#include "benchmarks/bench_context.h"

#define POLYIO_STRINGIFY_(x) #x
#define POLYIO_STRINGIFY(x) POLYIO_STRINGIFY_(x)

int main(int argc, char** argv) {
  using namespace polyio::bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  AddBenchContext(POLYIO_STRINGIFY(POLYIO_PEER));
  PinCurrentThread(Role::kServer);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
