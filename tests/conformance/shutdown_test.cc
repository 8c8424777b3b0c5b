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

Task<absl::Status> BlockedForever(TcpStream stream) {
  std::vector<char> buf(4096);  // heap memory owned by the frame
  absl::StatusOr<size_t> n = co_await stream.Read(absl::MakeSpan(buf));
  co_return n.status();
}

Task<absl::Status> SleepsLong() { co_return co_await Sleep(seconds(3600)); }

Task<absl::Status> AwaitsAnother(JoinHandle<absl::Status> other) {
  co_return co_await other;
}

TEST_F(ConformanceTest, DestroyingARuntimeWithPendingTasksFreesEverything) {
  JoinHandle<absl::Status> outlives_runtime;
  {
    absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create();
    ASSERT_TRUE(rt.ok());
    (*rt)->BlockOn([](JoinHandle<absl::Status>* keep) -> Task<void> {
      for (int i = 0; i < 100; ++i) {
        auto [a, b] = StreamPair();
        Spawn(BlockedForever(std::move(a))).Detach();
        // The peer end goes into a detached task too: it is freed with it.
        Spawn(BlockedForever(std::move(b))).Detach();
      }
      for (int i = 0; i < 100; ++i) Spawn(SleepsLong()).Detach();
      JoinHandle<absl::Status> sleeper = Spawn(SleepsLong());
      *keep = Spawn(AwaitsAnother(std::move(sleeper)));
      EXPECT_TRUE((co_await Sleep(milliseconds(2))).ok());
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
