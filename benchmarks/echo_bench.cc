// TCP echo on loopback, ping-pong: connections {1, 64, 1000} x message size
// {64 B, 4 KiB}. The server under test runs in its own thread on one core
// (echo_server_under_test.h: polyio with this build's backend, or a raw
// baseline); the shared epoll load generator runs on the benchmark thread,
// pinned to the other core.
//
// Counters (rates over wall-clock time): "messages" = round trips per second,
// "bytes" = payload bytes echoed per second (one way). One iteration is as
// many round trips as there are connections, so the per-iteration time is
// about one round of the whole connection set.
#include <cstdio>
#include <memory>

#include "benchmark/benchmark.h"
#include "benchmarks/affinity.h"
#include "benchmarks/bench_context.h"
#include "benchmarks/echo_server_under_test.h"
#include "benchmarks/load_generator.h"

namespace polyio::bench {
namespace {

BenchEchoServer* g_server = nullptr;

void BM_Echo(benchmark::State& state) {
  const int connections = static_cast<int>(state.range(0));
  const size_t size = static_cast<size_t>(state.range(1));
  absl::StatusOr<std::unique_ptr<LoadGenerator>> gen =
      LoadGenerator::Connect(g_server->port(), connections, size);
  if (!gen.ok()) {
    state.SkipWithError(std::string(gen.status().ToString()).c_str());
    return;
  }
  // Warm-up: every connection accepted and one round trip done.
  if (absl::Status s = (*gen)->Run(connections); !s.ok()) {
    state.SkipWithError(s.ToString().c_str());
    return;
  }
  uint64_t start = (*gen)->completed();
  for (auto _ : state) {
    if (absl::Status s = (*gen)->Run(connections); !s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  double done = static_cast<double>((*gen)->completed() - start);
  state.counters["messages"] =
      benchmark::Counter(done, benchmark::Counter::kIsRate);
  state.counters["bytes"] = benchmark::Counter(
      done * size, benchmark::Counter::kIsRate, benchmark::Counter::kIs1024);
}

BENCHMARK(BM_Echo)
    ->ArgsProduct({{1, 64, 1000}, {64, 4096}})
    ->ArgNames({"conns", "size"})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace polyio::bench

int main(int argc, char** argv) {
  using namespace polyio::bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RaiseFdLimit();
  absl::StatusOr<std::unique_ptr<BenchEchoServer>> server =
      StartServerUnderTest();
  if (!server.ok()) {
    // The backend cannot run here (io_uring refused, ...): say why, and let
    // tools/bench report the row as skipped.
    std::fprintf(stderr, "echo_bench: server unavailable: %s\n",
                 server.status().ToString().c_str());
    return 3;
  }
  g_server = server->get();
  PinCurrentThread(Role::kClient);
  AddBenchContext((*server)->name());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
