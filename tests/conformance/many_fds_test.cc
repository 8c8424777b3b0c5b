// No lost wake-ups: data left after a partial read is delivered, and many
// fds can wait at once (poll has no select-style limit).
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::milliseconds;

Task<std::string> ReadInSmallPieces(TcpStream* reader, TcpStream* writer) {
  std::string sent = "0123456789abcdefghij";
  EXPECT_TRUE((co_await writer->WriteAll(absl::MakeConstSpan(sent))).ok());
  std::string got;
  char buf[3];
  // The first read parks nothing (data is there); wait between reads so that
  // no new readiness edge can help: the rest must be found anyway.
  while (got.size() < sent.size()) {
    absl::StatusOr<size_t> n = co_await reader->Read(absl::MakeSpan(buf));
    if (!n.ok() || *n == 0) break;
    got.append(buf, *n);
    EXPECT_TRUE((co_await Sleep(milliseconds(1))).ok());
  }
  co_return got;
}

TEST_F(ConformanceTest, DataLeftAfterAPartialReadIsStillDelivered) {
  auto [a, b] = StreamPair();
  EXPECT_EQ(rt().BlockOn(ReadInSmallPieces(&a, &b)), "0123456789abcdefghij");
}

Task<absl::Status> PartialReadThenParkedRead(TcpStream* reader,
                                             TcpStream* writer) {
  // A reader that parks first (no data), is woken by a burst, reads only a
  // part of it, then reads again with no new data arriving.
  std::atomic<int> parked{0};
  JoinHandle<std::string> first =
      Spawn([](TcpStream* r, std::atomic<int>* parked) -> Task<std::string> {
        char buf[4];
        absl::StatusOr<size_t> n =
            co_await CountWhenStarted(r->Read(absl::MakeSpan(buf)), parked);
        co_return n.ok() ? std::string(buf, *n) : "error";
      }(reader, &parked));
  EXPECT_TRUE(co_await YieldUntil(&parked, 1));
  std::string burst(1000, 'z');
  absl::Status w = co_await writer->WriteAll(absl::MakeConstSpan(burst));
  if (!w.ok()) co_return w;
  absl::StatusOr<std::string> head = co_await first;
  EXPECT_EQ(head->size(), 4u);
  std::vector<char> rest(2000);
  absl::StatusOr<size_t> n =
      co_await Timeout(milliseconds(2000), reader->Read(absl::MakeSpan(rest)));
  if (!n.ok()) co_return n.status();
  EXPECT_EQ(*n, 996u);
  co_return absl::OkStatus();
}

TEST_F(ConformanceTest, ParkedReaderWokenByABurstLeavesTheRestReadable) {
  auto [a, b] = StreamPair();
  absl::Status s = rt().BlockOn(PartialReadThenParkedRead(&a, &b));
  EXPECT_TRUE(s.ok()) << s;
}

Task<int> WaitOnEveryFd(std::vector<std::pair<TcpStream, TcpStream>>* pairs) {
  std::vector<JoinHandle<absl::StatusOr<size_t>>> readers;
  std::atomic<int> parked{0};
  for (auto& [reader, writer] : *pairs) {
    readers.push_back(
        Spawn([](TcpStream* r,
                 std::atomic<int>* parked) -> Task<absl::StatusOr<size_t>> {
          char c;
          co_return co_await CountWhenStarted(r->Read(absl::MakeSpan(&c, 1)),
                                              parked);
        }(&reader, &parked)));
  }
  // Every reader is parked before any data arrives.
  EXPECT_TRUE(co_await YieldUntil(&parked, static_cast<int>(pairs->size())));
  for (auto& [reader, writer] : *pairs) {
    absl::Status s = co_await writer.WriteAll(absl::MakeConstSpan("!", 1));
    EXPECT_TRUE(s.ok()) << s;
  }
  int delivered = 0;
  for (auto& r : readers) {
    absl::StatusOr<size_t> n = co_await r;
    if (n.ok() && *n == 1) ++delivered;
  }
  co_return delivered;
}

TEST_F(ConformanceTest, TenThousandFdsWaitAtOnce) {
  FdLimit limit(12000);
  if (FdLimit::Current() < 10100) {
    GTEST_SKIP() << "the hard fd limit here is below 10,100: "
                 << FdLimit::Current();
  }
  std::vector<std::pair<TcpStream, TcpStream>> pairs;
  for (int i = 0; i < 5000; ++i) pairs.push_back(StreamPair());
  EXPECT_GT(pairs.back().second.fd(), 10000);
  EXPECT_EQ(rt().BlockOn(WaitOnEveryFd(&pairs)), 5000);
}

}  // namespace
}  // namespace polyio::testing
