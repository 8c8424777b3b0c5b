// The cooperative budget: a task whose I/O is always ready still lets the
// other tasks, timers and I/O of its thread run — on every worker.
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::milliseconds;

// Reads a socket that always has data, forever (until `stop`): every read
// completes at once, so without a budget it would never yield.
Task<void> BusyReader(TcpStream* stream, const std::atomic<bool>* stop,
                      std::atomic<size_t>* reads) {
  char buf[1];  // one byte at a time: many reads, each ready at once
  while (!stop->load()) {
    absl::StatusOr<size_t> n = co_await stream->Read(absl::MakeSpan(buf));
    if (!n.ok() || *n == 0) break;
    reads->fetch_add(1);
  }
}

struct Busy {
  std::pair<TcpStream, TcpStream> pair = StreamPair();
  size_t queued = 0;
  std::atomic<size_t> reads{0};
};

TEST_F(ConformanceTest, ABusyTaskCannotStarveTimersOrOtherTasks) {
  // One busy reader per worker, so that no worker is left free for the
  // timer's task: it runs only if the busy ones yield.
  const int workers = rt().worker_threads();
  std::vector<std::unique_ptr<Busy>> busy;
  for (int i = 0; i < workers; ++i) {
    auto b = std::make_unique<Busy>();
    // Fill the socket: far more bytes than the reader gets through, one by
    // one, in the test's time.
    std::string chunk(4096, 'b');
    while (send(b->pair.second.fd(), chunk.data(), chunk.size(), 0) > 0) {
      b->queued += chunk.size();
    }
    ASSERT_GT(b->queued, 32u << 10);
    busy.push_back(std::move(b));
  }

  // Without a budget the readers would drain every queued byte before the
  // timer's task got to run; with one, the timer's task runs after a bounded
  // number of reads, however fast or slow the machine (sanitizers).
  std::atomic<bool> stop{false};
  std::vector<size_t> seen =
      rt().BlockOn([](std::vector<std::unique_ptr<Busy>>* busy,
                      std::atomic<bool>* stop) -> Task<std::vector<size_t>> {
        std::vector<JoinHandle<void>> readers;
        for (auto& b : *busy) {
          readers.push_back(Spawn(BusyReader(&b->pair.first, stop, &b->reads)));
        }
        EXPECT_TRUE((co_await Sleep(milliseconds(2))).ok());
        std::vector<size_t> seen;
        for (auto& b : *busy) seen.push_back(b->reads.load());
        stop->store(true);
        for (auto& r : readers) EXPECT_TRUE((co_await r).ok());
        co_return seen;
      }(&busy, &stop));
  for (int i = 0; i < workers; ++i) {
    EXPECT_LT(seen[i], busy[i]->queued / 2)
        << "busy task " << i << " ran until its data ran out: no budget";
  }
}

}  // namespace
}  // namespace polyio::testing
