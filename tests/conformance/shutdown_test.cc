// Destroying a runtime with pending tasks frees everything (LSan checks) and
// touches nothing freed (ASan checks).
#include <sys/socket.h>

#include <chrono>
#include <vector>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Task<absl::Status> BlockedForever(TcpStream stream, std::atomic<int>* started) {
  std::vector<char> buf(4096);  // heap memory owned by the frame
  absl::StatusOr<size_t> n =
      co_await CountWhenStarted(stream.Read(absl::MakeSpan(buf)), started);
  co_return n.status();
}

Task<absl::Status> SleepsLong(std::atomic<int>* started) {
  co_return co_await CountWhenStarted(Sleep(seconds(3600)), started);
}

Task<absl::Status> AwaitsAnother(JoinHandle<absl::Status> other) {
  co_return co_await other;
}

TEST_F(ConformanceTest, DestroyingARuntimeWithPendingTasksFreesEverything) {
  JoinHandle<absl::Status> outlives_runtime;
  {
    absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create();
    ASSERT_TRUE(rt.ok());
    (*rt)->BlockOn([](JoinHandle<absl::Status>* keep) -> Task<void> {
      std::atomic<int> started{0};
      for (int i = 0; i < 100; ++i) {
        auto [a, b] = StreamPair();
        Spawn(BlockedForever(std::move(a), &started)).Detach();
        // The peer end goes into a detached task too: it is freed with it.
        Spawn(BlockedForever(std::move(b), &started)).Detach();
      }
      for (int i = 0; i < 100; ++i) Spawn(SleepsLong(&started)).Detach();
      JoinHandle<absl::Status> sleeper = Spawn(SleepsLong(&started));
      *keep = Spawn(AwaitsAnother(std::move(sleeper)));
      // Every read and sleep is under way when the runtime goes.
      EXPECT_TRUE(co_await YieldUntil(&started, 301));
    }(&outlives_runtime));
    // A callback timer and a post that never get to run.
    (*rt)->loop().CallAfter(seconds(3600), [] {});
    (*rt)->loop().Post([] {});
  }
  // The handle outlived its runtime: awaiting is impossible, but it reports
  // that the task never finished, and dropping it is safe.
  EXPECT_TRUE(outlives_runtime.finished());
}

}  // namespace
}  // namespace polyio::testing
