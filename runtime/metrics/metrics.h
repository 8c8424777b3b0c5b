// RuntimeMetrics: a snapshot of what a Runtime is doing (Runtime::Metrics),
// per worker and in total, and its Prometheus text exposition.
//
//   polyio::RuntimeMetrics m = rt->Metrics();
//   std::string page = polyio::ToPrometheus(m);   // serve it at /metrics
//
// The values are counters since the runtime started (monotonic), except the
// gauges: tasks_alive, run_queue_depth, timers_armed and the blocking pool's
// threads and queued. docs/observing.md says what each one counts and what
// it costs. A snapshot is read from live counters without stopping anyone:
// the fields of one snapshot may be a few events apart from each other.
//
// Value types; ToPrometheus is thread-safe.
#ifndef POLYIO_RUNTIME_METRICS_METRICS_H_
#define POLYIO_RUNTIME_METRICS_METRICS_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "backends/operation.h"
#include "runtime/metrics/worker_counters.h"

namespace polyio {

// One kind of operation (backends/operation.h's OpKind).
struct OpMetrics {
  uint64_t submitted = 0;
  // submitted - cancelled: ended with a result, or still in flight (the
  // per-message path counts only submissions; WorkerMetrics::ops_in_flight
  // says how many are in flight, of every kind).
  uint64_t completed = 0;
  uint64_t cancelled = 0;  // completed with -ECANCELED
};

inline constexpr int kOpKindCount = static_cast<int>(OpKind::kWaitId) + 1;

// One driver thread: a worker of the multi-thread runtime, or the
// current-thread runtime's driver.
struct WorkerMetrics {
  int index = 0;
  uint64_t tasks_spawned = 0;  // spawns made on this thread
  uint64_t tasks_polled = 0;
  uint64_t woken_local = 0;   // queued by this thread for itself
  uint64_t woken_remote = 0;  // queued from other threads
  uint64_t tasks_stolen = 0;  // multi-thread: taken from other workers
  uint64_t run_queue_depth = 0;
  uint64_t budget_exhausted = 0;
  uint64_t timers_armed = 0;   // as of the driver's last turn
  uint64_t ops_in_flight = 0;  // as of the driver's last turn
  uint64_t parks = 0;          // blocking waits in the backend
  int64_t parked_ns = 0;       // time in them
  int64_t busy_ns = 0;         // the rest of the time since creation
  std::array<OpMetrics, kOpKindCount> ops{};  // indexed by OpKind
};

struct BlockingPoolMetrics {
  uint64_t threads = 0;
  uint64_t idle_threads = 0;
  uint64_t queued = 0;
  uint64_t jobs_run = 0;
};

struct RuntimeMetrics {
  std::string flavor;                  // "current_thread" or "multi_thread"
  std::string backend;                 // "epoll", ...
  uint64_t tasks_spawned = 0;          // all spawns, from any thread
  uint64_t tasks_alive = 0;            // spawned and not finished
  uint64_t injection_queue_depth = 0;  // multi-thread: the shared queue
  std::vector<WorkerMetrics> workers;
  WorkerMetrics total;           // the sum over workers (index -1)
  BlockingPoolMetrics blocking;  // the process-wide pool (SpawnBlocking)
};

// "read", "write", "recv", ... as in the Prometheus labels.
std::string_view OpKindName(OpKind kind);

// The Prometheus text exposition format (version 0.0.4): one family per
// field, named polyio_*, with a `worker` label on per-worker series and an
// `op` label on operation counts. docs/observing.md lists the names.
std::string ToPrometheus(const RuntimeMetrics& metrics);

namespace metrics {
// For Runtime: one worker's snapshot from its counters. `now_ns` is the
// monotonic clock and `now_ticks` Ticks() at about the same moment;
// `depth` the run-queue depth the caller measured.
WorkerMetrics ReadWorker(const WorkerCounters& counters, int index,
                         int64_t now_ns, uint64_t now_ticks, uint64_t depth);
// Adds `w` into `total`.
void AddInto(WorkerMetrics& total, const WorkerMetrics& w);
}  // namespace metrics

}  // namespace polyio

#endif  // POLYIO_RUNTIME_METRICS_METRICS_H_
