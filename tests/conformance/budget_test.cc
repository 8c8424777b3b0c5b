// The cooperative budget: a task whose I/O is always ready still lets the
// other tasks, timers and I/O of its thread run.
#include <sys/socket.h>

#include <atomic>
#include <chrono>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::milliseconds;

// Reads a socket that always has data, forever (until `stop`): every read
// completes at once, so without a budget it would never yield.
Task<void> BusyReader(TcpStream* stream, const bool* stop, size_t* reads) {
  char buf[1];  // one byte at a time: many reads, each ready at once
  while (!*stop) {
    absl::StatusOr<size_t> n = co_await stream->Read(absl::MakeSpan(buf));
    if (!n.ok() || *n == 0) break;
    ++*reads;
  }
}

TEST_F(ConformanceTest, ABusyTaskCannotStarveTimersOrOtherTasks) {
  auto [reader, writer] = StreamPair(rt().driver());
  // Fill the socket: far more bytes than the reader gets through, one by
  // one, in the test's time.
  std::string chunk(4096, 'b');
  size_t queued = 0;
  while (send(writer.fd(), chunk.data(), chunk.size(), 0) > 0) {
    queued += chunk.size();
  }
  ASSERT_GT(queued, 32u << 10);

  // Without a budget the reader would drain every queued byte before the
  // timer's task got to run; with one, the timer's task runs after a bounded
  // number of reads, however fast or slow the machine (sanitizers).
  bool stop = false;
  size_t reads = 0;
  size_t reads_when_timer_task_ran =
      rt().BlockOn([](TcpStream* r, bool* stop, size_t* reads) -> Task<size_t> {
        JoinHandle<void> busy = Spawn(BusyReader(r, stop, reads));
        EXPECT_TRUE((co_await Sleep(milliseconds(2))).ok());
        size_t seen = *reads;
        *stop = true;
        EXPECT_TRUE((co_await busy).ok());
        co_return seen;
      }(&reader, &stop, &reads));
  EXPECT_GT(reads_when_timer_task_ran, 0u);
  EXPECT_LT(reads_when_timer_task_ran, queued / 2)
      << "the busy task ran until the data ran out: no budget";
}

}  // namespace
}  // namespace polyio::testing
