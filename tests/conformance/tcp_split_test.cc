// Split: a TcpStream's owned halves used from two tasks (on the
// multi-thread runtime, possibly two threads at once); dropping the write
// half sends end of stream; dropping both closes; Reunite.
#include <string>
#include <utility>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::milliseconds;

Task<absl::StatusOr<std::string>> ReadAll(TcpReadHalf* in) {
  std::string got;
  char buf[4096];
  for (;;) {
    absl::StatusOr<size_t> n = co_await in->Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return got;
    got.append(buf, *n);
  }
}

// Each side writes 1 MiB while it reads the peer's 1 MiB, in two tasks per
// side: with one task per stream and no split, that would need a select.
TEST_F(ConformanceTest, SplitHalvesReadAndWriteAtOnceFromTwoTasks) {
  rt().BlockOn([]() -> Task<void> {
    auto [a, b] = StreamPair();
    const std::string from_a = Pattern(1 << 20, 11);
    const std::string from_b = Pattern(1 << 20, 12);
    auto side =
        [](TcpStream s,
           const std::string* out) -> Task<absl::StatusOr<std::string>> {
      auto [reader, writer] = Split(std::move(s));
      JoinHandle<absl::Status> w =
          Spawn([](TcpWriteHalf writer,
                   const std::string* out) -> Task<absl::Status> {
            co_return co_await writer.WriteAll(absl::MakeConstSpan(*out));
            // Dropping the write half here shuts the write side down.
          }(std::move(writer), out));
      absl::StatusOr<std::string> got = co_await ReadAll(&reader);
      absl::Status wrote = co_await w;
      if (!wrote.ok()) co_return wrote;
      co_return got;
    };
    JoinHandle<absl::StatusOr<std::string>> ha =
        Spawn(side(std::move(a), &from_a));
    JoinHandle<absl::StatusOr<std::string>> hb =
        Spawn(side(std::move(b), &from_b));
    absl::StatusOr<std::string> at_a = co_await ha;
    absl::StatusOr<std::string> at_b = co_await hb;
    EXPECT_TRUE(at_a.ok()) << at_a.status();
    EXPECT_TRUE(at_b.ok()) << at_b.status();
    if (at_a.ok() && at_b.ok()) {
      EXPECT_TRUE(*at_a == from_b) << at_a->size();
      EXPECT_TRUE(*at_b == from_a) << at_b->size();
    }
  }());
}

TEST_F(ConformanceTest, SplitDroppingTheWriteHalfSendsEndOfStream) {
  rt().BlockOn([]() -> Task<void> {
    auto [a, b] = StreamPair();
    auto [reader, writer] = Split(std::move(a));
    EXPECT_TRUE((co_await writer.WriteAll(absl::MakeConstSpan("bye", 3))).ok());
    { TcpWriteHalf gone = std::move(writer); }
    char buf[8];
    absl::StatusOr<size_t> n = co_await b.Read(absl::MakeSpan(buf));
    EXPECT_TRUE(n.ok() && *n == 3);
    n = co_await b.Read(absl::MakeSpan(buf));
    EXPECT_TRUE(n.ok() && *n == 0) << "no end of stream after the write half";
    // The read half still reads.
    EXPECT_TRUE((co_await b.WriteAll(absl::MakeConstSpan("back", 4))).ok());
    n = co_await reader.Read(absl::MakeSpan(buf));
    EXPECT_TRUE(n.ok() && *n == 4) << n.status();
  }());
}

TEST_F(ConformanceTest, SplitDroppingBothHalvesClosesAndEndsAPendingRead) {
  rt().BlockOn([]() -> Task<void> {
    auto [a, b] = StreamPair();
    auto [reader, writer] = Split(std::move(a));
    // Dropping both halves closes the stream: the peer sees end of stream.
    {
      TcpReadHalf r = std::move(reader);
      TcpWriteHalf w = std::move(writer);
    }
    char buf[8];
    absl::StatusOr<size_t> n =
        co_await Timeout(milliseconds(2000), b.Read(absl::MakeSpan(buf)));
    EXPECT_TRUE(n.ok() && *n == 0) << n.status();
  }());
}

TEST_F(ConformanceTest, SplitReuniteGivesTheStreamBackAndRefusesStrangers) {
  rt().BlockOn([]() -> Task<void> {
    auto [a, b] = StreamPair();
    auto [c, d] = StreamPair();
    auto [ra, wa] = Split(std::move(a));
    auto [rc, wc] = Split(std::move(c));
    absl::StatusOr<TcpStream> mixed = Reunite(std::move(ra), std::move(wc));
    EXPECT_TRUE(absl::IsInvalidArgument(mixed.status())) << mixed.status();
    absl::StatusOr<TcpStream> whole =
        Reunite(std::move(rc), TcpWriteHalf(std::move(wa)));
    EXPECT_TRUE(absl::IsInvalidArgument(whole.status()));
    // A proper pair gives back the stream, whole and working.
    auto [e, f] = StreamPair();
    auto [re, we] = Split(std::move(e));
    absl::StatusOr<TcpStream> back = Reunite(std::move(re), std::move(we));
    EXPECT_TRUE(back.ok()) << back.status();
    if (!back.ok()) co_return;
    EXPECT_TRUE(back->is_open());
    EXPECT_TRUE((co_await back->WriteAll(absl::MakeConstSpan("ok", 2))).ok());
    char buf[2];
    absl::Status got = co_await ReadExact(f, absl::MakeSpan(buf));
    EXPECT_TRUE(got.ok()) << got;
    (void)b;
    (void)d;
  }());
}

}  // namespace
}  // namespace polyio::testing
