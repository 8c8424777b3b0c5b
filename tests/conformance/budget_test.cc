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
Task<int64_t> BusyReader(TcpStream* stream, const bool* stop) {
  char buf[1];  // one byte at a time: many reads, each ready at once
  int64_t reads = 0;
  while (!*stop) {
    absl::StatusOr<size_t> n = co_await stream->Read(absl::MakeSpan(buf));
    if (!n.ok() || *n == 0) break;
    ++reads;
  }
  co_return reads;
}

TEST_F(ConformanceTest, ABusyTaskCannotStarveTimersOrOtherTasks) {
  int sv[2];
  ASSERT_EQ(
      socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
      0);
  TcpStream reader(UniqueFd(sv[0]), &rt().driver());
  TcpStream writer(UniqueFd(sv[1]), &rt().driver());
  // Fill the socket: far more bytes than the reader gets through, one by
  // one, in the test's time.
  std::string chunk(4096, 'b');
  size_t queued = 0;
  while (send(writer.fd(), chunk.data(), chunk.size(), MSG_DONTWAIT) > 0) {
    queued += chunk.size();
  }
  ASSERT_GT(queued, 32u << 10);

  bool stop = false;
  int64_t reads = rt().BlockOn([](TcpStream* r, bool* stop) -> Task<int64_t> {
    JoinHandle<int64_t> busy = Spawn(BusyReader(r, stop));
    Instant start = Now();
    // This sleep must end on time although the busy task never blocks.
    co_await Sleep(milliseconds(5));
    EXPECT_LT(Now() - start, milliseconds(50));
    *stop = true;
    absl::StatusOr<int64_t> n = co_await busy;
    co_return n.ok() ? *n : -1;
  }(&reader, &stop));
  EXPECT_GT(reads, 0);
}

}  // namespace
}  // namespace polyio::testing
