// //benchmarks/files:raw_file_bench — the floors polyio's file rows are
// measured against (file_bench.cc): the same 4 KiB random reads of the same
// cached 256 MiB file, with no runtime in between.
//
//   BM_RawPreadRead/qd:1      a plain pread loop on one thread
//   BM_RawPreadRead/qd:32     32 threads, each a pread loop: the only way to
//                             keep 32 preads in flight (what a blocking pool
//                             does, without the pool's hand-offs)
//   BM_RawIoUringRead/qd:1    liburing: one READ SQE, submit and wait, reap
//   BM_RawIoUringRead/qd:32   liburing: 32 READs in flight; every
//                             io_uring_submit_and_wait hands the kernel all
//                             the refills of the completions it reaped
//
// One iteration is kReadsPerIteration reads; counters "ops" and "bytes" as
// in file_bench.cc.
#include <liburing.h>
#include <unistd.h>

#include <barrier>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "benchmarks/bench_context.h"
#include "benchmarks/files/bench_file.h"

namespace polyio::bench {
namespace {

void SetCounters(benchmark::State& state) {
  const double reads =
      static_cast<double>(state.iterations()) * kReadsPerIteration;
  state.counters["ops"] =
      benchmark::Counter(reads, benchmark::Counter::kIsRate);
  state.counters["bytes"] =
      benchmark::Counter(reads * kBlockSize, benchmark::Counter::kIsRate,
                         benchmark::Counter::kIs1024);
}

// `reads` preads from offset index `first`; false if one failed or read the
// wrong block.
bool PreadLoop(int fd, const BenchFile* file, uint64_t first, int reads) {
  alignas(kBlockSize) char buf[kBlockSize];
  for (int i = 0; i < reads; ++i) {
    const uint64_t offset = file->Offset(first + i);
    ssize_t n;
    do {
      n = pread(fd, buf, kBlockSize, static_cast<off_t>(offset));
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(kBlockSize) ||
        !BenchFile::IsBlockAt(buf, offset)) {
      return false;
    }
  }
  return true;
}

void BM_RawPreadRead(benchmark::State& state) {
  const int depth = static_cast<int>(state.range(0));
  absl::StatusOr<const BenchFile*> file = BenchFile::Get();
  if (!file.ok()) {
    state.SkipWithError(file.status().ToString().c_str());
    return;
  }
  const int fd = (*file)->fd();
  const int per_thread = kReadsPerIteration / depth;
  uint64_t next = 0;
  if (depth == 1) {
    for (auto _ : state) {
      if (!PreadLoop(fd, *file, next, per_thread)) {
        state.SkipWithError("pread failed or read the wrong bytes");
        return;
      }
      next += kReadsPerIteration;
    }
    SetCounters(state);
    return;
  }
  // A team of `depth` threads started once; each iteration is one round
  // between two barrier phases, started and finished by this thread.
  std::barrier<> start(depth + 1), done(depth + 1);
  std::atomic<bool> stop{false}, failed{false};
  std::atomic<uint64_t> round_base{0};
  std::vector<std::thread> team;
  for (int t = 0; t < depth; ++t) {
    team.emplace_back([&, t] {
      for (;;) {
        start.arrive_and_wait();
        if (stop.load()) return;
        if (!PreadLoop(fd, *file, round_base.load() + t * per_thread,
                       per_thread)) {
          failed = true;
        }
        done.arrive_and_wait();
      }
    });
  }
  for (auto _ : state) {
    round_base = next;
    start.arrive_and_wait();
    done.arrive_and_wait();
    next += kReadsPerIteration;
  }
  stop = true;
  start.arrive_and_wait();
  for (std::thread& t : team) t.join();
  if (failed) {
    state.SkipWithError("pread failed or read the wrong bytes");
    return;
  }
  SetCounters(state);
}

BENCHMARK(BM_RawPreadRead)
    ->Arg(1)
    ->Arg(32)
    ->ArgName("qd")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

void BM_RawIoUringRead(benchmark::State& state) {
  const unsigned depth = static_cast<unsigned>(state.range(0));
  absl::StatusOr<const BenchFile*> file = BenchFile::Get();
  if (!file.ok()) {
    state.SkipWithError(file.status().ToString().c_str());
    return;
  }
  io_uring ring;
  if (int err = io_uring_queue_init(64, &ring, 0); err < 0) {
    state.SkipWithError(
        (std::string("io_uring unavailable: io_uring_queue_init: ") +
         std::strerror(-err))
            .c_str());
    return;
  }
  const int fd = (*file)->fd();
  // One buffer per slot; user_data = slot index.
  std::vector<char> buffers(depth * kBlockSize + kBlockSize);
  char* base =
      buffers.data() +
      (kBlockSize - reinterpret_cast<uintptr_t>(buffers.data()) % kBlockSize) %
          kBlockSize;
  std::vector<uint64_t> slot_offset(depth);
  uint64_t next = 0;
  bool ok = true;
  for (auto _ : state) {
    int issued = 0, completed = 0;
    auto issue = [&](unsigned slot) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring);
      slot_offset[slot] = (*file)->Offset(next + issued++);
      io_uring_prep_read(sqe, fd, base + slot * kBlockSize, kBlockSize,
                         slot_offset[slot]);
      io_uring_sqe_set_data64(sqe, slot);
    };
    for (unsigned slot = 0; slot < depth; ++slot) issue(slot);
    while (completed < kReadsPerIteration) {
      if (io_uring_submit_and_wait(&ring, 1) < 0 && errno != EINTR) {
        ok = false;
        break;
      }
      io_uring_cqe* cqe;
      unsigned head, seen = 0;
      io_uring_for_each_cqe(&ring, head, cqe) {
        ++seen;
        ++completed;
        const unsigned slot = static_cast<unsigned>(cqe->user_data);
        if (cqe->res != static_cast<int>(kBlockSize) ||
            !BenchFile::IsBlockAt(base + slot * kBlockSize,
                                  slot_offset[slot])) {
          ok = false;
        }
        if (issued < kReadsPerIteration) issue(slot);
      }
      io_uring_cq_advance(&ring, seen);
      if (!ok) break;
    }
    if (!ok) break;
    next += kReadsPerIteration;
  }
  io_uring_queue_exit(&ring);
  if (!ok) {
    state.SkipWithError("io_uring read failed or read the wrong bytes");
    return;
  }
  SetCounters(state);
}

BENCHMARK(BM_RawIoUringRead)
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
  AddBenchContext("raw");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
