// What an idle connection costs in memory (issue 12): the heap bytes of
// runtime state per spawned task parked in Read, beyond the user's own
// buffer. Not a time: the benchmark runs one iteration and reports
// counters, which tools/bench prints in a table of their own.
//
//   stream_bytes         per TcpStream (its FdHandle: the fd, the two
//                        operation slots, the kept-bytes buffer)
//   task_bytes           per spawned task parked in Read (the task header,
//                        the coroutine frame, the waker it left with the
//                        operation)
//   bytes_per_idle_task  the two together
//
// Heap bytes in use from glibc's mallinfo2(), before and after making
// kTasks of each; the user's buffer is one static array that every read
// shares (the reads never complete), so it is not counted. The streams are
// AF_UNIX socket pairs: TcpStream only asks for a connected stream socket,
// and the pairs need no listener or port.
#include <malloc.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "benchmark/benchmark.h"
#include "benchmarks/bench_context.h"
#include "polyio.h"

namespace polyio::bench {
namespace {

constexpr int kTasks = 1000;

size_t HeapInUse() { return mallinfo2().uordblks; }

// Room for two fds per task, after RaiseFdLimit (bench_context.h) took
// the soft limit to the hard one.
bool HasFdsFor(rlim_t need) {
  RaiseFdLimit();
  rlimit limit{};
  return getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur >= need;
}

char shared_buffer[64];

Task<void> ParkInRead(TcpStream* stream) {
  absl::StatusOr<size_t> n =
      co_await stream->Read(absl::MakeSpan(shared_buffer));
  benchmark::DoNotOptimize(n);
}

struct Figures {
  double stream_bytes = 0;
  double task_bytes = 0;
};

Task<absl::StatusOr<Figures>> Measure() {
  std::vector<TcpStream> streams;
  std::vector<UniqueFd> peers;
  std::vector<JoinHandle<void>> tasks;
  streams.reserve(kTasks);
  peers.reserve(kTasks);
  tasks.reserve(kTasks);
  const size_t before = HeapInUse();
  for (int i = 0; i < kTasks; ++i) {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   fds) != 0) {
      co_return absl::ErrnoToStatus(errno, "socketpair");
    }
    streams.emplace_back(UniqueFd(fds[0]));
    peers.emplace_back(fds[1]);
  }
  const size_t with_streams = HeapInUse();
  for (TcpStream& s : streams) tasks.push_back(Spawn(ParkInRead(&s)));
  // Every task runs once and parks in its Read.
  (void)co_await Sleep(std::chrono::milliseconds(20));
  const size_t with_tasks = HeapInUse();
  for (TcpStream& s : streams) s.Close().IgnoreError();
  for (JoinHandle<void>& t : tasks) (void)co_await t;
  Figures f;
  f.stream_bytes = static_cast<double>(with_streams - before) / kTasks;
  f.task_bytes = static_cast<double>(with_tasks - with_streams) / kTasks;
  co_return f;
}

void BM_IdleTaskMemory(benchmark::State& state) {
  if (!HasFdsFor(2 * kTasks + 64)) {
    state.SkipWithError("RLIMIT_NOFILE's hard limit is below 2 fds per task");
    return;
  }
  absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create();
  if (!rt.ok()) {
    state.SkipWithError(rt.status().ToString().c_str());
    return;
  }
  absl::StatusOr<Figures> f;
  for (auto _ : state) f = (*rt)->BlockOn(Measure());
  if (!f.ok()) {
    state.SkipWithError(f.status().ToString().c_str());
    return;
  }
  state.counters["stream_bytes"] = f->stream_bytes;
  state.counters["task_bytes"] = f->task_bytes;
  state.counters["bytes_per_idle_task"] = f->stream_bytes + f->task_bytes;
  state.counters["tasks"] = kTasks;
}
BENCHMARK(BM_IdleTaskMemory)->Iterations(1);

}  // namespace
}  // namespace polyio::bench
