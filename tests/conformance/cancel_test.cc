// Cancellation: aborted tasks end with CancelledError, frames outlive their
// operations, closing a stream ends what is pending on it.
#include <sys/socket.h>

#include <chrono>
#include <vector>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::milliseconds;

// Reads into a buffer that lives in this coroutine's frame; counts itself in
// `*started` once its read is under way.
Task<absl::StatusOr<size_t>> ReadIntoFrame(TcpStream* stream,
                                           std::atomic<int>* started) {
  char frame_buffer[512];
  absl::StatusOr<size_t> n = co_await CountWhenStarted(
      stream->Read(absl::MakeSpan(frame_buffer)), started);
  // Level-triggered: a later suspension point reports cancellation too.
  absl::Status later = co_await Sleep(milliseconds(1000));
  if (n.ok() && absl::IsCancelled(later)) co_return later;
  co_return n;
}

TEST_F(ConformanceTest, AbortingATaskBlockedInReadEndsItWithCancelled) {
  auto [a, b] = StreamPair();
  absl::StatusOr<size_t> r =
      rt().BlockOn([](TcpStream* s) -> Task<absl::StatusOr<size_t>> {
        std::atomic<int> started{0};
        JoinHandle<absl::StatusOr<size_t>> h =
            Spawn(ReadIntoFrame(s, &started));
        EXPECT_TRUE(co_await YieldUntil(&started, 1));  // blocked in Read
        h.Abort();
        co_return co_await h;
      }(&a));
  EXPECT_TRUE(absl::IsCancelled(r.status())) << r.status();
}

Task<int> AbortManyWhileDataArrives(
    std::vector<std::pair<TcpStream, TcpStream>>* pairs) {
  std::vector<JoinHandle<absl::StatusOr<size_t>>> readers;
  std::atomic<int> started{0};
  for (auto& p : *pairs) {
    readers.push_back(Spawn(ReadIntoFrame(&p.first, &started)));
  }
  EXPECT_TRUE(co_await YieldUntil(&started, static_cast<int>(pairs->size())));
  // Data races the cancellation: half the pairs get bytes just before their
  // reader is aborted, so some reads complete for real, some are cancelled;
  // either way no frame may go before its operation is done (ASan checks).
  std::string chunk(256, 'd');
  for (size_t i = 0; i < pairs->size(); ++i) {
    if (i % 2 == 0) {
      (void)co_await (*pairs)[i].second.Write(absl::MakeConstSpan(chunk));
    }
    readers[i].Abort();
  }
  int ended = 0;
  for (auto& r : readers) {
    absl::StatusOr<size_t> n = co_await r;
    if (absl::IsCancelled(n.status())) ++ended;
  }
  co_return ended;
}

TEST_F(ConformanceTest, FramesOutliveTheirOperationsWhenAborted) {
  FdLimit limit(4096);
  std::vector<std::pair<TcpStream, TcpStream>> pairs;
  for (int i = 0; i < 1000; ++i) pairs.push_back(StreamPair());
  EXPECT_EQ(rt().BlockOn(AbortManyWhileDataArrives(&pairs)), 1000);
}

TEST_F(ConformanceTest, ClosingAStreamEndsItsPendingOperationWithAnError) {
  auto [a, b] = StreamPair();
  absl::StatusOr<size_t> r =
      rt().BlockOn([](TcpStream* s) -> Task<absl::StatusOr<size_t>> {
        std::atomic<int> started{0};
        JoinHandle<absl::StatusOr<size_t>> reader = Spawn(
            [](TcpStream* s,
               std::atomic<int>* started) -> Task<absl::StatusOr<size_t>> {
              char buf[64];
              co_return co_await CountWhenStarted(s->Read(absl::MakeSpan(buf)),
                                                  started);
            }(s, &started));
        EXPECT_TRUE(co_await YieldUntil(&started, 1));
        EXPECT_TRUE(s->Close().ok());
        co_return co_await Timeout(milliseconds(2000), std::move(reader));
      }(&a));
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(absl::IsDeadlineExceeded(r.status())) << r.status();
}

TEST_F(ConformanceTest, TimeoutCancelsAndAwaitsItsInnerOperation) {
  auto [a, b] = StreamPair();
  absl::StatusOr<size_t> r =
      rt().BlockOn([](TcpStream* s) -> Task<absl::StatusOr<size_t>> {
        char buf[64];
        co_return co_await Timeout(milliseconds(5),
                                   s->Read(absl::MakeSpan(buf)));
      }(&a));
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  // The stream is still usable afterwards: nothing is left parked on it.
  std::string hello = "hi";
  absl::StatusOr<size_t> n = rt().BlockOn(
      [](TcpStream* a, TcpStream* b) -> Task<absl::StatusOr<size_t>> {
        EXPECT_TRUE((co_await b->WriteAll(absl::MakeConstSpan("hi", 2))).ok());
        char buf[8];
        co_return co_await a->Read(absl::MakeSpan(buf));
      }(&a, &b));
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 2u);
}

}  // namespace
}  // namespace polyio::testing
