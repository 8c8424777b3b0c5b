// //benchmarks/files:file_bench — 4 KiB random reads of a 256 MiB file in
// the page cache through polyio's File, on the backend of this build's
// --config: io_uring reads natively (one SQE each), epoll/poll/kqueue hand
// each pread to the blocking pool.
//
//   BM_PolyioFileRead/qd:1    one task, one read at a time
//   BM_PolyioFileRead/qd:32   32 tasks, each one read at a time
//
// One iteration is kReadsPerIteration reads. Counters (rates over wall-clock
// time): "ops" = reads per second, "bytes" = bytes read per second. The raw
// baselines of the same workload are in raw_file_bench.cc.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "benchmarks/bench_context.h"
#include "benchmarks/files/bench_file.h"
#include "polyio.h"

namespace polyio::bench {
namespace {

Runtime* g_runtime = nullptr;

// `reads` reads, one at a time, starting at offset index `first`.
Task<absl::Status> Reader(const File* file, const BenchFile* bench,
                          uint64_t first, int reads) {
  alignas(kBlockSize) char buf[kBlockSize];
  for (int i = 0; i < reads; ++i) {
    const uint64_t offset = bench->Offset(first + i);
    absl::StatusOr<size_t> n =
        co_await file->ReadAt(absl::MakeSpan(buf), offset);
    if (!n.ok()) co_return n.status();
    if (*n != kBlockSize || !BenchFile::IsBlockAt(buf, offset)) {
      co_return absl::DataLossError("read the wrong bytes");
    }
  }
  co_return absl::OkStatus();
}

Task<absl::Status> RunIterations(benchmark::State* state, const File* file,
                                 const BenchFile* bench, int depth) {
  const int per_reader = kReadsPerIteration / depth;
  uint64_t next = 0;
  std::vector<JoinHandle<absl::Status>> readers;
  for (auto _ : *state) {
    if (depth == 1) {
      absl::Status s = co_await Reader(file, bench, next, per_reader);
      if (!s.ok()) co_return s;
    } else {
      readers.clear();
      for (int r = 0; r < depth; ++r) {
        readers.push_back(
            Spawn(Reader(file, bench, next + r * per_reader, per_reader)));
      }
      for (auto& reader : readers) {
        absl::Status s = co_await reader;
        if (!s.ok()) co_return s;
      }
    }
    next += kReadsPerIteration;
  }
  co_return absl::OkStatus();
}

void BM_PolyioFileRead(benchmark::State& state) {
  const int depth = static_cast<int>(state.range(0));
  absl::StatusOr<const BenchFile*> bench = BenchFile::Get();
  if (!bench.ok()) {
    state.SkipWithError(bench.status().ToString().c_str());
    return;
  }
  int fd = dup((*bench)->fd());
  File file(UniqueFd(fd), (*bench)->path());
  absl::Status s =
      g_runtime->BlockOn(RunIterations(&state, &file, *bench, depth));
  if (!s.ok()) {
    state.SkipWithError(s.ToString().c_str());
    return;
  }
  const double reads =
      static_cast<double>(state.iterations()) * kReadsPerIteration;
  state.counters["ops"] =
      benchmark::Counter(reads, benchmark::Counter::kIsRate);
  state.counters["bytes"] =
      benchmark::Counter(reads * kBlockSize, benchmark::Counter::kIsRate,
                         benchmark::Counter::kIs1024);
}

BENCHMARK(BM_PolyioFileRead)
    ->Arg(1)
    ->Arg(32)
    ->ArgName("qd")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace polyio::bench

int main(int argc, char** argv) {
  using namespace polyio::bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  absl::StatusOr<std::unique_ptr<polyio::Runtime>> rt =
      polyio::Runtime::Create();
  if (!rt.ok()) {
    std::fprintf(stderr, "file_bench: backend unavailable: %s\n",
                 rt.status().ToString().c_str());
    return 3;
  }
  AddBenchContext(std::string((*rt)->backend_name()));
  g_runtime = rt->get();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_runtime = nullptr;
  return 0;
}
