// Runtime::Metrics and ToPrometheus, from the user's side, on both runtimes:
// the counters move with the work that was done, the totals are the sums
// of the workers, and the exposition is well-formed Prometheus text.
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::milliseconds;

uint64_t Ops(const WorkerMetrics& w, OpKind kind) {
  return w.ops[static_cast<int>(kind)].submitted;
}

TEST_F(ConformanceTest, MetricsCountSpawnsPollsAndOperations) {
  const RuntimeMetrics before = rt().Metrics();
  EXPECT_EQ(before.workers.size(), static_cast<size_t>(rt().worker_threads()));
  EXPECT_EQ(before.flavor, MultiThread() ? "multi_thread" : "current_thread");
  EXPECT_EQ(before.backend, rt().backend_name());

  constexpr int kTasks = 10;
  rt().BlockOn([]() -> Task<void> {
    auto [a, b] = StreamPair();
    JoinHandle<absl::Status> echo = Spawn(EchoConnection(std::move(b)));
    std::vector<JoinHandle<void>> sleepers;
    for (int i = 0; i < kTasks; ++i) {
      sleepers.push_back(
          Spawn([]() -> Task<void> { co_await Sleep(milliseconds(1)); }()));
    }
    char buf[4];
    for (int i = 0; i < 5; ++i) {
      EXPECT_TRUE((co_await a.WriteAll(absl::MakeConstSpan("ping", 4))).ok());
      EXPECT_TRUE((co_await ReadExact(a, absl::MakeSpan(buf))).ok());
    }
    EXPECT_TRUE(a.Close().ok());
    EXPECT_TRUE((co_await echo).ok());
    for (auto& s : sleepers) co_await s;
  }());

  const RuntimeMetrics m = rt().Metrics();
  // The root task, the echo task and the sleepers.
  EXPECT_GE(m.tasks_spawned - before.tasks_spawned, kTasks + 2u);
  EXPECT_EQ(m.tasks_alive, 0u);
  EXPECT_GE(m.total.tasks_polled - before.total.tasks_polled, kTasks + 2u);
  // Five round trips: at least five writes and reads on each side, whatever
  // kind of operation the stream uses.
  uint64_t sends = 0, recvs = 0, completed = 0;
  for (const WorkerMetrics& w : m.workers) {
    sends += Ops(w, OpKind::kSend) + Ops(w, OpKind::kWrite);
    recvs += Ops(w, OpKind::kRecv) + Ops(w, OpKind::kRead);
    for (const OpMetrics& op : w.ops) completed += op.completed;
  }
  EXPECT_GE(sends, 10u);
  EXPECT_GE(recvs, 10u);
  EXPECT_GE(completed, 20u);

  // The total is the sum of the workers.
  WorkerMetrics sum;
  for (const WorkerMetrics& w : m.workers) {
    sum.tasks_polled += w.tasks_polled;
    sum.tasks_spawned += w.tasks_spawned;
    sum.parks += w.parks;
    sum.woken_local += w.woken_local;
  }
  EXPECT_EQ(m.total.tasks_polled, sum.tasks_polled);
  EXPECT_EQ(m.total.tasks_spawned, sum.tasks_spawned);
  EXPECT_EQ(m.total.parks, sum.parks);
  EXPECT_EQ(m.total.woken_local, sum.woken_local);
  EXPECT_EQ(m.total.index, -1);
  // Somebody waited for the sleepers' timers; time is split, not invented.
  EXPECT_GT(m.total.parks, 0u);
  for (const WorkerMetrics& w : m.workers) {
    EXPECT_GE(w.parked_ns, 0);
    EXPECT_GE(w.busy_ns, 0);
  }
}

TEST_F(ConformanceTest, MetricsSeeArmedTimersRemoteWakesAndBlockingJobs) {
  const RuntimeMetrics before = rt().Metrics();
  rt().BlockOn([](Runtime* rt, const RuntimeMetrics* before) -> Task<void> {
    JoinHandle<void> sleeper = Spawn(
        []() -> Task<void> { co_await Sleep(std::chrono::seconds(30)); }());
    // A wake from a thread that is not a worker.
    auto [tx, rx] = sync::oneshot::Channel<int>();
    std::thread sender([tx = std::move(tx)]() mutable {
      std::this_thread::sleep_for(milliseconds(5));
      EXPECT_TRUE(tx.Send(7).ok());
    });
    EXPECT_EQ(*(co_await std::move(rx)), 7);
    sender.join();
    absl::StatusOr<int> job = co_await SpawnBlocking([] { return 3; });
    EXPECT_EQ(*job, 3);
    // Let every worker turn, so that the timer gauge is published.
    co_await Sleep(milliseconds(20));
    RuntimeMetrics m = rt->Metrics();
    EXPECT_GE(m.total.timers_armed, 1u);
    EXPECT_GE(m.tasks_alive, 2u);  // this task and the sleeper
    EXPECT_GT(m.total.woken_remote, before->total.woken_remote);
    EXPECT_GE(m.blocking.jobs_run, before->blocking.jobs_run + 1);
    EXPECT_GE(m.blocking.threads, 1u);
    sleeper.Abort();
    co_await sleeper;
  }(&rt(), &before));
}

TEST_F(ConformanceTest, MetricsCountBudgetExhaustion) {
  // A receive from a channel that already holds its message is ready at once
  // on every backend (a socket read is not: io_uring parks each one), so
  // 1,000 of them in one task run out the budget (128 per poll).
  auto [tx, rx] = sync::mpsc::UnboundedChannel<int>();
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(tx.Send(i).ok());
  const uint64_t before = rt().Metrics().total.budget_exhausted;
  rt().BlockOn([](sync::mpsc::Receiver<int>* rx) -> Task<void> {
    for (int i = 0; i < 1000; ++i) {
      absl::StatusOr<int> v = co_await rx->Recv();
      EXPECT_TRUE(v.ok() && *v == i) << v.status();
    }
  }(&rx));
  EXPECT_GE(rt().Metrics().total.budget_exhausted, before + 1);
}

TEST_F(ConformanceTest, PrometheusExpositionIsWellFormed) {
  rt().BlockOn([]() -> Task<void> {
    auto [a, b] = StreamPair();
    EXPECT_TRUE((co_await a.WriteAll(absl::MakeConstSpan("x", 1))).ok());
    char c;
    EXPECT_TRUE((co_await b.Read(absl::MakeSpan(&c, 1))).ok());
  }());
  const RuntimeMetrics m = rt().Metrics();
  const std::string text = ToPrometheus(m);
  EXPECT_NE(text.find("# TYPE polyio_tasks_spawned_total counter\n"
                      "polyio_tasks_spawned_total " +
                      std::to_string(m.tasks_spawned) + "\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE polyio_worker_tasks_polled_total counter"),
            std::string::npos);
  EXPECT_NE(text.find("polyio_worker_tasks_polled_total{worker=\"0\"} "),
            std::string::npos);
  EXPECT_NE(text.find(",op=\""), std::string::npos) << text;
  EXPECT_NE(text.find("backend=\"" + std::string(rt().backend_name()) + "\""),
            std::string::npos);
  // Every line: a comment, or `name{labels} value`.
  const std::regex sample(
      R"re([a-z_]+(\{([a-z_]+="[^"]*",?)+\})? [0-9.e+-]+)re");
  const std::regex comment(R"re(# (HELP|TYPE) polyio_[a-z_]+ .+)re");
  std::istringstream lines(text);
  std::string line;
  int samples = 0;
  while (std::getline(lines, line)) {
    if (std::regex_match(line, comment)) continue;
    EXPECT_TRUE(std::regex_match(line, sample)) << line;
    ++samples;
  }
  EXPECT_GT(samples, 20);
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
}  // namespace polyio::testing
