#include "runtime/metrics/metrics.h"

#include <cstdio>
#include <string>
#include <string_view>

namespace polyio {

static_assert(kOpKindCount <= metrics::kOpKindSlots,
              "worker_counters.h needs more operation slots");

std::string_view OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kRead:
      return "read";
    case OpKind::kWrite:
      return "write";
    case OpKind::kRecv:
      return "recv";
    case OpKind::kSend:
      return "send";
    case OpKind::kRecvMsg:
      return "recvmsg";
    case OpKind::kSendMsg:
      return "sendmsg";
    case OpKind::kAccept:
      return "accept";
    case OpKind::kConnect:
      return "connect";
    case OpKind::kPollFd:
      return "poll";
    case OpKind::kClose:
      return "close";
    case OpKind::kPread:
      return "pread";
    case OpKind::kPwrite:
      return "pwrite";
    case OpKind::kFsync:
      return "fsync";
    case OpKind::kSignal:
      return "signal";
    case OpKind::kProcExit:
      return "proc_exit";
    case OpKind::kWaitId:
      return "waitid";
    case OpKind::kOpenAt:
      return "openat";
    case OpKind::kStatx:
      return "statx";
    case OpKind::kRenameAt:
      return "renameat";
    case OpKind::kUnlinkAt:
      return "unlinkat";
    case OpKind::kMkdirAt:
      return "mkdirat";
  }
  return "unknown";
}

namespace metrics {

WorkerMetrics ReadWorker(const WorkerCounters& c, int index, int64_t now_ns,
                         uint64_t now_ticks, uint64_t depth) {
  WorkerMetrics w;
  w.index = index;
  w.tasks_spawned = c.tasks_spawned.Get();
  w.tasks_polled = c.tasks_polled.Get();
  w.woken_local = c.scheduled_local.Get() + c.pool_scheduled_local.Get();
  w.woken_remote = c.scheduled_remote.Get() + c.taken_injected.Get();
  w.tasks_stolen = c.tasks_stolen.Get();
  w.run_queue_depth = depth;
  w.budget_exhausted = c.budget_exhausted.Get();
  w.timers_armed = c.timers_armed.Get();
  w.parks = c.parks.Get();
  const int64_t life_ns = now_ns - c.created_ns;
  const uint64_t life_ticks = now_ticks - c.created_ticks;
  const double ns_per_tick =
      life_ticks > 0 ? static_cast<double>(life_ns) / life_ticks : 0;
  w.parked_ns = static_cast<int64_t>(c.parked_ticks.Get() * ns_per_tick);
  if (w.parked_ns > life_ns) w.parked_ns = life_ns;
  w.busy_ns = life_ns - w.parked_ns;
  if (w.busy_ns < 0) w.busy_ns = 0;
  for (int k = 0; k < kOpKindCount; ++k) {
    w.ops[k].submitted = c.ops_submitted[k].Get();
    w.ops[k].cancelled = c.ops_cancelled[k].Get();
    w.ops[k].completed = w.ops[k].submitted > w.ops[k].cancelled
                             ? w.ops[k].submitted - w.ops[k].cancelled
                             : 0;
  }
  w.ops_in_flight = c.ops_in_flight.Get();
  return w;
}

void AddInto(WorkerMetrics& t, const WorkerMetrics& w) {
  t.tasks_spawned += w.tasks_spawned;
  t.tasks_polled += w.tasks_polled;
  t.woken_local += w.woken_local;
  t.woken_remote += w.woken_remote;
  t.tasks_stolen += w.tasks_stolen;
  t.run_queue_depth += w.run_queue_depth;
  t.budget_exhausted += w.budget_exhausted;
  t.timers_armed += w.timers_armed;
  t.ops_in_flight += w.ops_in_flight;
  t.parks += w.parks;
  t.parked_ns += w.parked_ns;
  t.busy_ns += w.busy_ns;
  for (int k = 0; k < kOpKindCount; ++k) {
    t.ops[k].submitted += w.ops[k].submitted;
    t.ops[k].completed += w.ops[k].completed;
    t.ops[k].cancelled += w.ops[k].cancelled;
  }
}

}  // namespace metrics

namespace {

// One metric family: its HELP and TYPE lines, then its samples.
class Family {
 public:
  Family(std::string& out, std::string_view name, std::string_view type,
         std::string_view help)
      : out_(out), name_(name) {
    Append("# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
  }
  void Sample(std::string_view labels, uint64_t value) {
    SampleText(labels, std::to_string(value));
  }
  void Sample(std::string_view labels, int value) {
    SampleText(labels, std::to_string(value));
  }
  void Sample(std::string_view labels, double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.9g", value);
    SampleText(labels, text);
  }

 private:
  template <class... Parts>
  void Append(const Parts&... parts) {
    (out_.append(std::string_view(parts)), ...);
  }
  void SampleText(std::string_view labels, std::string_view value) {
    if (labels.empty()) {
      Append(name_, " ", value, "\n");
    } else {
      Append(name_, "{", labels, "} ", value, "\n");
    }
  }

  std::string& out_;
  std::string_view name_;
};

std::string WorkerLabel(int index) {
  return "worker=\"" + std::to_string(index) + "\"";
}

// A per-worker family: one sample per worker.
template <class Get>
void PerWorker(std::string& out, const RuntimeMetrics& m, std::string_view name,
               std::string_view type, std::string_view help, Get get) {
  Family f(out, name, type, help);
  for (const WorkerMetrics& w : m.workers)
    f.Sample(WorkerLabel(w.index), get(w));
}

}  // namespace

std::string ToPrometheus(const RuntimeMetrics& m) {
  std::string out;
  {
    Family f(out, "polyio_runtime_info", "gauge",
             "The runtime's flavor and backend (value always 1).");
    f.Sample("flavor=\"" + m.flavor + "\",backend=\"" + m.backend +
                 "\",workers=\"" + std::to_string(m.workers.size()) + "\"",
             1);
  }
  Family(out, "polyio_tasks_spawned_total", "counter",
         "Tasks spawned, from any thread.")
      .Sample("", m.tasks_spawned);
  Family(out, "polyio_tasks_alive", "gauge", "Tasks spawned and not finished.")
      .Sample("", m.tasks_alive);
  Family(out, "polyio_injection_queue_depth", "gauge",
         "Multi-thread runtime: tasks in the shared injection queue.")
      .Sample("", m.injection_queue_depth);
  PerWorker(out, m, "polyio_worker_tasks_spawned_total", "counter",
            "Spawns made on this worker's thread.",
            [](const WorkerMetrics& w) { return w.tasks_spawned; });
  PerWorker(out, m, "polyio_worker_tasks_polled_total", "counter",
            "Task polls on this worker.",
            [](const WorkerMetrics& w) { return w.tasks_polled; });
  PerWorker(out, m, "polyio_worker_woken_local_total", "counter",
            "Tasks and callbacks queued by this worker for itself.",
            [](const WorkerMetrics& w) { return w.woken_local; });
  PerWorker(out, m, "polyio_worker_woken_remote_total", "counter",
            "Tasks and callbacks queued for this worker by other threads.",
            [](const WorkerMetrics& w) { return w.woken_remote; });
  PerWorker(out, m, "polyio_worker_tasks_stolen_total", "counter",
            "Tasks this worker stole from other workers.",
            [](const WorkerMetrics& w) { return w.tasks_stolen; });
  PerWorker(out, m, "polyio_worker_run_queue_depth", "gauge",
            "Runnables queued on this worker.",
            [](const WorkerMetrics& w) { return w.run_queue_depth; });
  PerWorker(out, m, "polyio_worker_budget_exhausted_total", "counter",
            "Leaf operations that found their task's budget spent.",
            [](const WorkerMetrics& w) { return w.budget_exhausted; });
  PerWorker(out, m, "polyio_worker_timers_armed", "gauge",
            "Timers in this worker's wheel (as of its last turn).",
            [](const WorkerMetrics& w) { return w.timers_armed; });
  PerWorker(out, m, "polyio_worker_ops_in_flight", "gauge",
            "Operations submitted and not completed (as of the last turn).",
            [](const WorkerMetrics& w) { return w.ops_in_flight; });
  PerWorker(out, m, "polyio_worker_parks_total", "counter",
            "Blocking waits in the backend.",
            [](const WorkerMetrics& w) { return w.parks; });
  PerWorker(out, m, "polyio_worker_parked_seconds_total", "counter",
            "Time spent blocked in the backend's wait.",
            [](const WorkerMetrics& w) {
              return static_cast<double>(w.parked_ns) / 1e9;
            });
  PerWorker(out, m, "polyio_worker_busy_seconds_total", "counter",
            "Time not blocked in the backend's wait, since the worker began.",
            [](const WorkerMetrics& w) {
              return static_cast<double>(w.busy_ns) / 1e9;
            });
  struct OpFamily {
    const char* name;
    const char* help;
    uint64_t OpMetrics::*field;
  };
  for (const OpFamily& of : {
           OpFamily{"polyio_worker_ops_submitted_total",
                    "Operations submitted to this worker's backend.",
                    &OpMetrics::submitted},
           OpFamily{"polyio_worker_ops_completed_total",
                    "Operations submitted and not cancelled (those in flight "
                    "included).",
                    &OpMetrics::completed},
           OpFamily{"polyio_worker_ops_cancelled_total",
                    "Operations completed as cancelled.",
                    &OpMetrics::cancelled},
       }) {
    Family f(out, of.name, "counter", of.help);
    for (const WorkerMetrics& w : m.workers) {
      for (int k = 0; k < kOpKindCount; ++k) {
        uint64_t v = w.ops[k].*of.field;
        if (v == 0) continue;  // no series for kinds never used
        f.Sample(WorkerLabel(w.index) + ",op=\"" +
                     std::string(OpKindName(static_cast<OpKind>(k))) + "\"",
                 v);
      }
    }
  }
  Family(out, "polyio_blocking_threads", "gauge",
         "Threads of the blocking pool.")
      .Sample("", m.blocking.threads);
  Family(out, "polyio_blocking_idle_threads", "gauge",
         "Threads of the blocking pool waiting for a job.")
      .Sample("", m.blocking.idle_threads);
  Family(out, "polyio_blocking_queue_depth", "gauge",
         "Blocking jobs waiting for a thread.")
      .Sample("", m.blocking.queued);
  Family(out, "polyio_blocking_jobs_run_total", "counter", "Blocking jobs run.")
      .Sample("", m.blocking.jobs_run);
  return out;
}

}  // namespace polyio
