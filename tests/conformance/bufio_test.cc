// runtime/bufio over real streams: ReadExact, ReadToEnd, WriteAllTo, Copy,
// BufferedReader (lines, delimiters, length-prefixed frames; cancel-safe;
// limits) and BufferedWriter (buffering, Flush, frames).
#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "runtime/bufio/buffered_reader.h"
#include "runtime/bufio/buffered_writer.h"
#include "runtime/bufio/read_write.h"
#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::milliseconds;

static_assert(AsyncReader<TcpStream> && AsyncWriter<TcpStream>);

// Writes `data` in pieces of `piece` bytes, a yield between them, then
// closes: the reader sees the bytes split at arbitrary points.
Task<absl::Status> Trickle(TcpStream stream, std::string data, size_t piece) {
  for (size_t at = 0; at < data.size(); at += piece) {
    absl::Status s = co_await stream.WriteAll(absl::MakeConstSpan(data).subspan(
        at, std::min(piece, data.size() - at)));
    if (!s.ok()) co_return s;
    EXPECT_TRUE((co_await Sleep(std::chrono::microseconds(100))).ok());
  }
  co_return stream.Close();
}

TEST_F(ConformanceTest, BufioReadExactAndReadToEnd) {
  rt().BlockOn([]() -> Task<void> {
    auto [a, b] = StreamPair();
    const std::string data = Pattern(100000, 7);
    JoinHandle<absl::Status> writer = Spawn(Trickle(std::move(a), data, 777));
    std::string head(10, '\0');
    absl::Status s = co_await ReadExact(b, absl::MakeSpan(head));
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_EQ(head, data.substr(0, 10));
    absl::StatusOr<std::string> rest = co_await ReadToEnd(b);
    EXPECT_TRUE(rest.ok()) << rest.status();
    if (rest.ok()) {
      EXPECT_TRUE(*rest == data.substr(10)) << rest->size();
    }
    EXPECT_TRUE((co_await writer).ok());
  }());
}

TEST_F(ConformanceTest, BufioReadExactAtEndOfStreamIsOutOfRange) {
  rt().BlockOn([]() -> Task<void> {
    auto [a, b] = StreamPair();
    EXPECT_TRUE((co_await a.WriteAll(absl::MakeConstSpan("abc", 3))).ok());
    EXPECT_TRUE(a.Close().ok());
    char buf[8];
    absl::Status s = co_await ReadExact(b, absl::MakeSpan(buf));
    EXPECT_TRUE(absl::IsOutOfRange(s)) << s;
    EXPECT_EQ(s.message(), "read_exact: end of stream after 3 of 8 bytes");
  }());
}

TEST_F(ConformanceTest, BufioReadToEndPastItsLimitIsResourceExhausted) {
  rt().BlockOn([]() -> Task<void> {
    auto [a, b] = StreamPair();
    JoinHandle<absl::Status> writer =
        Spawn(Trickle(std::move(a), Pattern(5000, 1), 5000));
    absl::StatusOr<std::string> all = co_await ReadToEnd(b, 4096);
    EXPECT_TRUE(absl::IsResourceExhausted(all.status())) << all.status();
    (void)co_await writer;
    // Exactly the limit is fine.
    auto [c, d] = StreamPair();
    JoinHandle<absl::Status> exact =
        Spawn(Trickle(std::move(c), Pattern(4096, 2), 1000));
    absl::StatusOr<std::string> fits = co_await ReadToEnd(d, 4096);
    EXPECT_TRUE(fits.ok()) << fits.status();
    if (fits.ok()) {
      EXPECT_EQ(*fits, Pattern(4096, 2));
    }
    (void)co_await exact;
  }());
}

TEST_F(ConformanceTest, BufioCopyMovesEverythingAndCounts) {
  rt().BlockOn([]() -> Task<void> {
    auto [src_w, src_r] = StreamPair();
    auto [dst_w, dst_r] = StreamPair();
    const std::string data = Pattern(1 << 20, 3);
    JoinHandle<absl::Status> feed =
        Spawn(Trickle(std::move(src_w), data, 65536));
    JoinHandle<absl::StatusOr<std::string>> sink =
        Spawn([](TcpStream r) -> Task<absl::StatusOr<std::string>> {
          co_return co_await ReadToEnd(r);
        }(std::move(dst_r)));
    absl::StatusOr<uint64_t> n = co_await Copy(src_r, dst_w);
    EXPECT_TRUE(n.ok()) << n.status();
    if (n.ok()) {
      EXPECT_EQ(*n, data.size());
    }
    EXPECT_TRUE(dst_w.Close().ok());
    absl::StatusOr<std::string> got = co_await sink;
    EXPECT_TRUE(got.ok() && *got == data);
    EXPECT_TRUE((co_await feed).ok());
  }());
}

TEST_F(ConformanceTest, BufioWriteToAResetPeerNamesTheHelper) {
  rt().BlockOn([]() -> Task<void> {
    auto [a, b] = StreamPair();
    EXPECT_TRUE(b.Close().ok());
    const std::string data = Pattern(1 << 20, 4);
    absl::Status s = co_await WriteAllTo(a, absl::MakeConstSpan(data));
    EXPECT_FALSE(s.ok());
    EXPECT_TRUE(absl::StartsWith(s.message(), "write_all: after ")) << s;
  }());
}

TEST_F(ConformanceTest, BufioReadLineSplitsLinesAcrossReads) {
  rt().BlockOn([]() -> Task<void> {
    auto [a, b] = StreamPair();
    JoinHandle<absl::Status> writer =
        Spawn(Trickle(std::move(a), "first\r\nsecond\n\nfourth has no end", 3));
    BufferedReader<TcpStream> in(b, 4);
    for (const char* want : {"first", "second", ""}) {
      absl::StatusOr<std::optional<std::string>> line =
          co_await in.ReadLine(64);
      EXPECT_TRUE(line.ok() && line->has_value()) << line.status();
      if (line.ok() && line->has_value()) {
        EXPECT_EQ(**line, want);
      }
    }
    absl::StatusOr<std::optional<std::string>> tail = co_await in.ReadLine(64);
    EXPECT_TRUE(absl::IsOutOfRange(tail.status())) << tail.status();
    EXPECT_EQ(tail.status().message(),
              "read_line: end of stream after 17 bytes");
    EXPECT_TRUE((co_await writer).ok());
  }());
}

TEST_F(ConformanceTest, BufioReadLineAtACleanEndIsEmpty) {
  rt().BlockOn([]() -> Task<void> {
    auto [a, b] = StreamPair();
    JoinHandle<absl::Status> writer = Spawn(Trickle(std::move(a), "x\n", 1));
    BufferedReader<TcpStream> in(b);
    absl::StatusOr<std::optional<std::string>> x = co_await in.ReadLine();
    EXPECT_TRUE(x.ok() && x->has_value() && **x == "x");
    absl::StatusOr<std::optional<std::string>> end = co_await in.ReadLine();
    EXPECT_TRUE(end.ok() && !end->has_value()) << end.status();
    EXPECT_TRUE((co_await writer).ok());
  }());
}

TEST_F(ConformanceTest, BufioReadLineOverItsLimitFailsWithoutGrowing) {
  rt().BlockOn([]() -> Task<void> {
    auto [a, b] = StreamPair();
    // A megabyte with no line end: the reader gives up at the limit, long
    // before it could have buffered it all.
    JoinHandle<absl::Status> writer =
        Spawn(Trickle(std::move(a), std::string(1 << 20, 'x'), 4096));
    BufferedReader<TcpStream> in(b, 512);
    absl::StatusOr<std::optional<std::string>> line =
        co_await in.ReadLine(1000);
    EXPECT_TRUE(absl::IsResourceExhausted(line.status())) << line.status();
    EXPECT_EQ(line.status().message(),
              "read_line: no line end within 1000 bytes");
    EXPECT_LT(in.buffered().size(), 1000u + 2 * 512u);
    absl::StatusOr<std::optional<std::string>> until =
        co_await in.ReadUntil('\n', 1500);
    EXPECT_TRUE(absl::IsResourceExhausted(until.status())) << until.status();
    EXPECT_TRUE(b.Close().ok());
    (void)co_await writer;  // its peer is gone: an error, not a hang
  }());
}

TEST_F(ConformanceTest, BufioReadUntilKeepsTheDelimiter) {
  rt().BlockOn([]() -> Task<void> {
    auto [a, b] = StreamPair();
    JoinHandle<absl::Status> writer = Spawn(Trickle(std::move(a), "a;bb;", 2));
    BufferedReader<TcpStream> in(b, 3);
    absl::StatusOr<std::optional<std::string>> p1 = co_await in.ReadUntil(';');
    absl::StatusOr<std::optional<std::string>> p2 = co_await in.ReadUntil(';');
    absl::StatusOr<std::optional<std::string>> p3 = co_await in.ReadUntil(';');
    EXPECT_TRUE(p1.ok() && **p1 == "a;");
    EXPECT_TRUE(p2.ok() && **p2 == "bb;");
    EXPECT_TRUE(p3.ok() && !p3->has_value());
    EXPECT_TRUE((co_await writer).ok());
  }());
}

// The point of BufferedReader: a line read cancelled half-way (a Timeout
// here, mid-line) loses nothing; the next read returns the whole line.
TEST_F(ConformanceTest, BufioReadLineIsCancelSafe) {
  rt().BlockOn([]() -> Task<void> {
    auto [a, b] = StreamPair();
    BufferedReader<TcpStream> in(b, 4);
    EXPECT_TRUE((co_await a.WriteAll(absl::MakeConstSpan("hel", 3))).ok());
    absl::StatusOr<std::optional<std::string>> cut =
        co_await Timeout(milliseconds(20), in.ReadLine());
    EXPECT_TRUE(absl::IsDeadlineExceeded(cut.status())) << cut.status();
    EXPECT_EQ(in.buffered(), "hel");
    // Aborted mid-line too, from another task.
    EXPECT_TRUE((co_await a.WriteAll(absl::MakeConstSpan("lo ", 3))).ok());
    JoinHandle<void> reader =
        Spawn([](BufferedReader<TcpStream>* in) -> Task<void> {
          absl::StatusOr<std::optional<std::string>> line =
              co_await in->ReadLine();
          EXPECT_TRUE(absl::IsCancelled(line.status())) << line.status();
        }(&in));
    EXPECT_TRUE((co_await Sleep(milliseconds(20))).ok());
    reader.Abort();
    (void)co_await reader;
    EXPECT_TRUE((co_await a.WriteAll(absl::MakeConstSpan("world\n", 6))).ok());
    absl::StatusOr<std::optional<std::string>> line = co_await in.ReadLine();
    EXPECT_TRUE(line.ok() && line->has_value()) << line.status();
    if (line.ok() && line->has_value()) {
      EXPECT_EQ(**line, "hello world");
    }
  }());
}

TEST_F(ConformanceTest, BufioLengthPrefixedFramesRoundTrip) {
  rt().BlockOn([]() -> Task<void> {
    auto [a, b] = StreamPair();
    JoinHandle<absl::Status> writer =
        Spawn([](TcpStream a) -> Task<absl::Status> {
          BufferedWriter<TcpStream> out(a, 100);
          for (size_t size : {0, 1, 99, 100, 101, 70000}) {
            absl::Status s =
                co_await out.WriteLengthPrefixed(Pattern(size, size));
            if (!s.ok()) co_return s;
          }
          absl::Status s = co_await out.Flush();
          if (!s.ok()) co_return s;
          EXPECT_EQ(out.buffered(), 0u);
          co_return a.Close();
        }(std::move(a)));
    BufferedReader<TcpStream> in(b, 1000);
    for (size_t size : {0, 1, 99, 100, 101, 70000}) {
      absl::StatusOr<std::optional<std::string>> frame =
          co_await in.ReadLengthPrefixed(100000);
      EXPECT_TRUE(frame.ok() && frame->has_value()) << frame.status();
      if (frame.ok() && frame->has_value()) {
        EXPECT_TRUE(**frame == Pattern(size, size)) << size;
      }
    }
    absl::StatusOr<std::optional<std::string>> end =
        co_await in.ReadLengthPrefixed(100000);
    EXPECT_TRUE(end.ok() && !end->has_value()) << end.status();
    EXPECT_TRUE((co_await writer).ok());
  }());
}

TEST_F(ConformanceTest, BufioAFrameOverTheLimitIsAnErrorNotAnAllocation) {
  rt().BlockOn([]() -> Task<void> {
    auto [a, b] = StreamPair();
    // Announces 4 GiB - 1 and sends nothing more.
    EXPECT_TRUE(
        (co_await a.WriteAll(absl::MakeConstSpan("\xff\xff\xff\xff", 4))).ok());
    BufferedReader<TcpStream> in(b);
    absl::StatusOr<std::optional<std::string>> frame =
        co_await in.ReadLengthPrefixed(1 << 20);
    EXPECT_TRUE(absl::IsResourceExhausted(frame.status())) << frame.status();
    EXPECT_EQ(frame.status().message(),
              "read_length_prefixed: a frame of 4294967295 bytes is over the "
              "limit of 1048576");
  }());
}

TEST_F(ConformanceTest, BufioBufferedWriterHoldsBytesUntilFlush) {
  rt().BlockOn([]() -> Task<void> {
    auto [a, b] = StreamPair();
    BufferedWriter<TcpStream> out(a, 64);
    EXPECT_TRUE((co_await out.WriteLine("one")).ok());
    EXPECT_TRUE((co_await out.Write("two")).ok());
    EXPECT_EQ(out.buffered(), 7u);
    // Nothing on the wire yet.
    char c;
    absl::StatusOr<size_t> early =
        co_await Timeout(milliseconds(20), b.Read(absl::MakeSpan(&c, 1)));
    EXPECT_TRUE(absl::IsDeadlineExceeded(early.status())) << early.status();
    EXPECT_TRUE((co_await out.Flush()).ok());
    std::string got(7, '\0');
    EXPECT_TRUE((co_await ReadExact(b, absl::MakeSpan(got))).ok());
    EXPECT_EQ(got, "one\ntwo");
    // A write larger than the buffer goes straight out, after the buffer.
    EXPECT_TRUE((co_await out.Write("x")).ok());
    const std::string big = Pattern(1000, 5);
    JoinHandle<absl::Status> w =
        Spawn([](BufferedWriter<TcpStream>* out,
                 std::string big) -> Task<absl::Status> {
          co_return co_await out->Write(big);
        }(&out, big));
    std::string after(1001, '\0');
    EXPECT_TRUE((co_await ReadExact(b, absl::MakeSpan(after))).ok());
    EXPECT_TRUE(after == "x" + big);
    EXPECT_TRUE((co_await w).ok());
    absl::Status bad = co_await out.WriteLine("a\nb");
    EXPECT_TRUE(absl::IsInvalidArgument(bad)) << bad;
  }());
}

}  // namespace
}  // namespace polyio::testing
