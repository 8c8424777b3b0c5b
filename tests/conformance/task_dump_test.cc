// Runtime::DumpTasks from the user's side, on both runtimes: a known set of
// tasks — one in a read on a socket, one in a sleep, one on a channel
// receive, one queued to run, and the one taking the dump — each appears
// with its spawn line and what it waits on.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::milliseconds;

const TaskInfo* Spawned(const TaskDump& dump, unsigned line) {
  for (const TaskInfo& t : dump.tasks) {
    if (t.spawned_at.line() == line &&
        std::string(t.spawned_at.file_name()).find("task_dump_test.cc") !=
            std::string::npos) {
      return &t;
    }
  }
  return nullptr;
}

Task<void> Reader(TcpStream* stream) {
  char buf[16];
  (void)co_await stream->Read(absl::MakeSpan(buf));
}

Task<void> Sleeper() { co_await Sleep(std::chrono::seconds(30)); }

Task<void> Receiver(sync::mpsc::Receiver<int>* rx) {
  (void)co_await rx->Recv();
}

// Yields until told to stop: whenever another task looks, it is queued.
Task<void> Spinner(const std::atomic<bool>* stop) {
  while (!stop->load()) co_await Yield();
}

TEST_F(ConformanceTest, DumpTasksShowsWhatEachTaskWaitsOn) {
  auto [a, b] = StreamPair();
  auto [tx, rx] = sync::mpsc::Channel<int>(4);
  const int read_fd = a.fd();
  rt().BlockOn([](Runtime* rt, TcpStream* a, sync::mpsc::Receiver<int>* rx,
                  int read_fd) -> Task<void> {
    std::atomic<bool> stop{false};
    // clang-format off
    const unsigned base = __LINE__;
    JoinHandle<void> reader = Spawn(Reader(a));         // base + 1
    JoinHandle<void> sleeper = Spawn(Sleeper());        // base + 2
    JoinHandle<void> receiver = Spawn(Receiver(rx));    // base + 3
    // clang-format on
    // Let them all park (on the multi-thread runtime, on other workers).
    TaskDump dump;
    for (int i = 0; i < 500; ++i) {
      co_await Sleep(milliseconds(2));
      dump = rt->DumpTasks();
      const TaskInfo* r = Spawned(dump, base + 1);
      const TaskInfo* s = Spawned(dump, base + 2);
      const TaskInfo* c = Spawned(dump, base + 3);
      if (r && s && c && r->waits_on != TaskInfo::WaitsOn::kUnknown &&
          s->waits_on != TaskInfo::WaitsOn::kUnknown &&
          c->waits_on != TaskInfo::WaitsOn::kUnknown) {
        break;
      }
    }
    const TaskInfo* r = Spawned(dump, base + 1);
    const TaskInfo* s = Spawned(dump, base + 2);
    const TaskInfo* c = Spawned(dump, base + 3);
    EXPECT_TRUE(r && s && c) << dump.ToString();
    if (r && s && c) {
      EXPECT_EQ(r->state, TaskInfo::State::kWaiting);
      EXPECT_EQ(r->waits_on, TaskInfo::WaitsOn::kIo) << dump.ToString();
      EXPECT_TRUE(r->op == OpKind::kRecv || r->op == OpKind::kRead);
      EXPECT_EQ(r->fd, read_fd);
      EXPECT_EQ(s->state, TaskInfo::State::kWaiting);
      EXPECT_EQ(s->waits_on, TaskInfo::WaitsOn::kTimer) << dump.ToString();
      EXPECT_GT(s->deadline, Now() + std::chrono::seconds(20));
      EXPECT_EQ(c->state, TaskInfo::State::kWaiting);
      EXPECT_EQ(c->waits_on, TaskInfo::WaitsOn::kChannel) << dump.ToString();
      EXPECT_EQ(c->channel, "mpsc receive");
      const std::string text = dump.ToString();
      EXPECT_NE(text.find("task_dump_test.cc:" + std::to_string(base + 1) +
                          " (operator()): waiting on I/O: "),
                std::string::npos)
          << text;
      EXPECT_NE(text.find("waiting on a timer, due in "), std::string::npos);
      EXPECT_NE(text.find("waiting on a channel: mpsc receive"),
                std::string::npos);
    }
    // The task taking the dump is running (on the worker it runs on).
    bool self_running = false;
    for (const TaskInfo& t : dump.tasks) {
      if (t.state == TaskInfo::State::kRunning &&
          std::string(t.spawned_at.file_name()).find("task_dump_test.cc") !=
              std::string::npos) {
        self_running = true;
        if (rt->flavor() == RuntimeFlavor::kCurrentThread) {
          EXPECT_EQ(t.worker, 0);
        } else {
          EXPECT_GE(t.worker, 0);
        }
      }
    }
    EXPECT_TRUE(self_running) << dump.ToString();

    // A queued task: one that yields. On the current-thread runtime it is
    // queued whenever this task runs; on the multi-thread one, often.
    const unsigned spin_line = __LINE__ + 1;
    JoinHandle<void> spinner = Spawn(Spinner(&stop));
    bool seen_scheduled = false;
    for (int i = 0; i < 2000 && !seen_scheduled; ++i) {
      co_await Yield();
      TaskDump d = rt->DumpTasks();
      const TaskInfo* t = Spawned(d, spin_line);
      seen_scheduled = t != nullptr && t->state == TaskInfo::State::kScheduled;
    }
    EXPECT_TRUE(seen_scheduled);
    stop.store(true);
    co_await spinner;
    reader.Abort();
    sleeper.Abort();
    receiver.Abort();
    co_await reader;
    co_await sleeper;
    co_await receiver;
    // Only this task is left.
    TaskDump last = rt->DumpTasks();
    EXPECT_EQ(last.tasks.size(), 1u) << last.ToString();
  }(&rt(), &a, &rx, read_fd));
  EXPECT_EQ(rt().DumpTasks().tasks.size(), 0u);
  (void)tx;
}

TEST_F(ConformanceTest, DumpTasksCountsTasksNotYetPolled) {
  // Spawned from outside, before anybody runs them: on the current-thread
  // runtime they wait for BlockOn.
  if (MultiThread()) GTEST_SKIP() << "the workers poll them at once";
  JoinHandle<void> h = rt().Spawn(Sleeper());
  TaskDump dump = rt().DumpTasks();
  EXPECT_EQ(dump.not_yet_polled, 1u);
  EXPECT_TRUE(dump.tasks.empty());
  EXPECT_NE(dump.ToString().find("1 live tasks (1 spawned and not yet polled)"),
            std::string::npos)
      << dump.ToString();
  h.Abort();
  rt().BlockOn(
      [](JoinHandle<void> h) -> Task<void> { co_await h; }(std::move(h)));
}

}  // namespace
}  // namespace polyio::testing
