// What every benchmark result file must say about where it was measured:
// date, host, kernel, the backend (or raw baseline) and the core placement,
// added to Google Benchmark's JSON "context" (benchmark::AddCustomContext),
// so that tools/bench --compare can tell two runs apart.
#ifndef POLYIO_BENCHMARKS_BENCH_CONTEXT_H_
#define POLYIO_BENCHMARKS_BENCH_CONTEXT_H_

#include <string>

namespace polyio::bench {

// `backend`: "epoll", "io_uring", ... or a raw baseline ("raw_epoll").
// Call once, before benchmark::RunSpecifiedBenchmarks.
void AddBenchContext(const std::string& backend);

// Raises the soft fd limit to the hard limit (1000 connections need ~2000
// fds in one process: both ends live here).
void RaiseFdLimit();

}  // namespace polyio::bench

#endif  // POLYIO_BENCHMARKS_BENCH_CONTEXT_H_
