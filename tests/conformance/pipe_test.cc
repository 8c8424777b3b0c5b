// Pipe, PipeReader, PipeWriter (runtime/pipe/pipe.h), as a user's program
// meets them: bytes intact at volume, end of data, a reader gone, reads and
// writes cancelled mid-way, futures kept past Close, descriptors that are
// not pipes, and the bufio helpers over pipes.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "polyio.h"
#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

Pipe OpenPipe() {
  absl::StatusOr<Pipe> p = Pipe::Open();
  EXPECT_TRUE(p.ok()) << p.status();
  return std::move(*p);
}

// Reads until end of data, each Read under `limit` (0: no limit), and
// returns everything read; counts the reads cancelled in `cancelled`.
Task<absl::StatusOr<std::string>> ReadAll(PipeReader* reader,
                                          microseconds limit,
                                          int* cancelled = nullptr) {
  std::string got;
  std::vector<char> buf(64 * 1024);
  for (;;) {
    // (Not a ?: of two co_awaits: g++ 12 miscompiles that.)
    absl::StatusOr<size_t> n = absl::UnknownError("unset");
    if (limit.count() == 0) {
      n = co_await reader->Read(absl::MakeSpan(buf));
    } else {
      n = co_await Timeout(limit, reader->Read(absl::MakeSpan(buf)));
    }
    if (absl::IsDeadlineExceeded(n.status()) || absl::IsCancelled(n.status())) {
      // Cancelled mid-way: its bytes must come with a later read.
      if (cancelled != nullptr) ++*cancelled;
      continue;
    }
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return got;
    got.append(buf.data(), *n);
  }
}

// Writes `data` in pieces of `piece` bytes, yielding between them and
// sleeping 5 ms after every `pause_every` pieces (0: never), then closes
// the writer.
Task<absl::Status> WritePaced(PipeWriter writer, const std::string* data,
                              size_t piece, size_t pause_every = 0) {
  size_t pieces = 0;
  for (size_t at = 0; at < data->size(); at += piece) {
    absl::Status w =
        co_await writer.WriteAll(absl::MakeConstSpan(*data).subspan(at, piece));
    if (!w.ok()) co_return w;
    if (pause_every != 0 && ++pieces % pause_every == 0) {
      absl::Status slept = co_await Sleep(milliseconds(5));
      if (!slept.ok()) co_return slept;
    } else {
      absl::Status y = co_await Yield();
      if (!y.ok()) co_return y;
    }
  }
  co_return writer.Close();
}

TEST_F(ConformanceTest, PipeCarriesBytesThenEndOfData) {
  Pipe p = OpenPipe();
  absl::Status s = rt().BlockOn([](Pipe p) -> Task<absl::Status> {
    absl::Status w = co_await p.writer.WriteAll(absl::MakeConstSpan("hello"));
    if (!w.ok()) co_return w;
    EXPECT_TRUE(p.writer.Close().ok());
    char buf[16];
    absl::StatusOr<size_t> n = co_await p.reader.Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    EXPECT_EQ(std::string(buf, *n), std::string("hello", 6));
    absl::StatusOr<size_t> end = co_await p.reader.Read(absl::MakeSpan(buf));
    if (!end.ok()) co_return end.status();
    EXPECT_EQ(*end, 0u) << "end of data is a read of 0";
    co_return absl::OkStatus();
  }(std::move(p)));
  EXPECT_TRUE(s.ok()) << s;
}

// 64 MiB from one task to another, through a pipe's 64 KiB of room.
TEST_F(ConformanceTest, PipeCarries64MiBIntact) {
  const std::string data = Pattern(64 << 20, 13);
  Pipe p = OpenPipe();
  absl::StatusOr<std::string> got = rt().BlockOn(
      [](Pipe p, const std::string* data) -> Task<absl::StatusOr<std::string>> {
        JoinHandle<absl::Status> writer =
            Spawn(WritePaced(std::move(p.writer), data, 1 << 20));
        absl::StatusOr<std::string> got =
            co_await ReadAll(&p.reader, microseconds(0));
        EXPECT_TRUE(p.reader.Close().ok());
        absl::Status w = co_await writer;
        if (!got.ok()) co_return got.status();
        if (!w.ok()) co_return w;
        co_return got;
      }(std::move(p), &data));
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), data.size());
  EXPECT_TRUE(*got == data) << "the bytes arrived changed or out of order";
}

// Every Read under a deadline short enough to expire often, with a writer
// that pauses: a read cancelled after the kernel gave it bytes (io_uring)
// keeps them for the next read.
TEST_F(ConformanceTest, PipeReadUnderTimeoutLosesNoBytes) {
  const std::string data = Pattern(1 << 20, 7);
  Pipe p = OpenPipe();
  absl::StatusOr<std::string> got = rt().BlockOn(
      [](Pipe p, const std::string* data) -> Task<absl::StatusOr<std::string>> {
        JoinHandle<absl::Status> writer =
            Spawn(WritePaced(std::move(p.writer), data, 1000, 100));
        int cancelled = 0;
        absl::StatusOr<std::string> got =
            co_await ReadAll(&p.reader, microseconds(20), &cancelled);
        // The writer's pauses outlast the reads' deadline.
        EXPECT_GT(cancelled, 0) << "no read was cancelled: the test tests "
                                   "nothing";
        // A reader that failed must not leave the writer waiting for room.
        EXPECT_TRUE(p.reader.Close().ok());
        absl::Status w = co_await writer;
        if (!got.ok()) co_return got.status();
        if (!w.ok()) co_return w;
        co_return got;
      }(std::move(p), &data));
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), data.size());
  EXPECT_TRUE(*got == data) << "a cancelled read lost or reordered bytes";
}

// Each Read polled once and dropped while pending, then read plainly.
TEST_F(ConformanceTest, PipeReadDroppedInFlightLosesNoBytes) {
  Pipe p = OpenPipe();
  absl::Status s = rt().BlockOn([](Pipe p) -> Task<absl::Status> {
    std::string got;
    for (int round = 0; round < 50; ++round) {
      char buf[8];
      {
        auto dropped = p.reader.Read(absl::MakeSpan(buf));
        auto r = co_await WhenAny(std::move(dropped), Yield());
        if (r.index() == 0) {
          ADD_FAILURE() << "an empty pipe's read completed";
          co_return absl::OkStatus();
        }
      }
      // The dropped read may have been submitted: these bytes must reach
      // the next Read, not the dropped one's buffer.
      const char byte = static_cast<char>('a' + round % 26);
      absl::Status w =
          co_await p.writer.WriteAll(absl::MakeConstSpan(&byte, 1));
      if (!w.ok()) co_return w;
      absl::StatusOr<size_t> n =
          co_await Timeout(seconds(5), p.reader.Read(absl::MakeSpan(buf)));
      if (!n.ok()) co_return n.status();
      got.append(buf, *n);
    }
    std::string want;
    for (int round = 0; round < 50; ++round) want += 'a' + round % 26;
    EXPECT_EQ(got, want);
    co_return absl::OkStatus();
  }(std::move(p)));
  EXPECT_TRUE(s.ok()) << s;
}

// A write to a full pipe waits for room; cancelled meanwhile it has written
// nothing, so the reader sees exactly the bytes the writes reported.
TEST_F(ConformanceTest, PipeWriteCancelledOnAFullPipeWritesNothing) {
  Pipe p = OpenPipe();
  absl::Status s = rt().BlockOn([](Pipe p) -> Task<absl::Status> {
    const std::string chunk = Pattern(64 * 1024, 3);
    size_t reported = 0;
    int timed_out = 0;
    for (int i = 0; i < 64 && timed_out < 3; ++i) {
      absl::StatusOr<size_t> n = co_await Timeout(
          milliseconds(20), p.writer.Write(absl::MakeConstSpan(chunk)));
      if (absl::IsDeadlineExceeded(n.status())) {
        ++timed_out;
        continue;
      }
      if (!n.ok()) co_return n.status();
      reported += *n;
    }
    EXPECT_EQ(timed_out, 3) << "the pipe never filled";
    EXPECT_TRUE(p.writer.Close().ok());
    absl::StatusOr<std::string> got =
        co_await ReadAll(&p.reader, microseconds(0));
    if (!got.ok()) co_return got.status();
    EXPECT_EQ(got->size(), reported)
        << "a cancelled write wrote bytes it did not report";
    co_return absl::OkStatus();
  }(std::move(p)));
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, PipeWriteWithTheReaderGoneIsBrokenPipeNotSigpipe) {
  Pipe p = OpenPipe();
  ASSERT_TRUE(p.reader.Close().ok());
  absl::Status s = rt().BlockOn([](PipeWriter w) -> Task<absl::Status> {
    absl::StatusOr<size_t> n = co_await w.Write(absl::MakeConstSpan("x"));
    EXPECT_FALSE(n.ok());
    EXPECT_NE(n.status().message().find("Broken pipe"), absl::string_view::npos)
        << n.status();
    EXPECT_NE(n.status().message().find("write pipe"), absl::string_view::npos)
        << n.status();
    co_return absl::OkStatus();
  }(std::move(p.writer)));
  EXPECT_TRUE(s.ok()) << s;
  // Still alive, and no SIGPIPE left pending for this thread.
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
}

TEST_F(ConformanceTest, PipeFuturesMadeBeforeCloseFailAfterIt) {
  Pipe p = OpenPipe();
  absl::Status s = rt().BlockOn([](Pipe p) -> Task<absl::Status> {
    char buf[8];
    auto stale_read = p.reader.Read(absl::MakeSpan(buf));
    auto stale_write = p.writer.Write(absl::MakeConstSpan("x"));
    EXPECT_TRUE(p.reader.Close().ok());
    EXPECT_TRUE(p.writer.Close().ok());
    // Whatever gets these numbers next must not be touched.
    absl::StatusOr<Pipe> next = Pipe::Open();
    if (!next.ok()) co_return next.status();
    absl::Status w = co_await next->writer.WriteAll(absl::MakeConstSpan("y"));
    if (!w.ok()) co_return w;
    absl::StatusOr<size_t> r = co_await stale_read;
    EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
    absl::StatusOr<size_t> wr = co_await stale_write;
    EXPECT_TRUE(absl::IsFailedPrecondition(wr.status())) << wr.status();
    char got[8];
    absl::StatusOr<size_t> n = co_await next->reader.Read(absl::MakeSpan(got));
    if (!n.ok()) co_return n.status();
    EXPECT_EQ(std::string(got, *n), std::string("y", 2));
    co_return absl::OkStatus();
  }(std::move(p)));
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, PipeCloseEndsAReadInFlight) {
  Pipe p = OpenPipe();
  absl::Status s = rt().BlockOn([](Pipe p) -> Task<absl::Status> {
    JoinHandle<absl::StatusOr<size_t>> reader =
        Spawn([](PipeReader* r) -> Task<absl::StatusOr<size_t>> {
          char buf[8];
          co_return co_await r->Read(absl::MakeSpan(buf));
        }(&p.reader));
    absl::Status slept = co_await Sleep(milliseconds(10));
    if (!slept.ok()) co_return slept;
    EXPECT_TRUE(p.reader.Close().ok());
    absl::StatusOr<size_t> n = co_await reader;
    EXPECT_TRUE(absl::IsCancelled(n.status()) ||
                absl::IsFailedPrecondition(n.status()))
        << (n.ok() ? "a closed pipe read bytes" : n.status().ToString());
    co_return absl::OkStatus();
  }(std::move(p)));
  EXPECT_TRUE(s.ok()) << s;
}

// Copy and ReadToEnd (runtime/bufio) take pipes like any reader/writer.
TEST_F(ConformanceTest, PipeCopyFromPipeToPipe) {
  const std::string data = Pattern(3 << 20, 5);
  Pipe in = OpenPipe();
  Pipe out = OpenPipe();
  absl::StatusOr<std::string> got = rt().BlockOn(
      [](Pipe in, Pipe out,
         const std::string* data) -> Task<absl::StatusOr<std::string>> {
        JoinHandle<absl::Status> writer =
            Spawn(WritePaced(std::move(in.writer), data, 1 << 16));
        JoinHandle<absl::StatusOr<uint64_t>> copier = Spawn(
            [](PipeReader r, PipeWriter w) -> Task<absl::StatusOr<uint64_t>> {
              absl::StatusOr<uint64_t> n = co_await Copy(r, w);
              EXPECT_TRUE(w.Close().ok());
              co_return n;
            }(std::move(in.reader), std::move(out.writer)));
        absl::StatusOr<std::string> got =
            co_await ReadToEnd(out.reader, 16 << 20);
        absl::Status w = co_await writer;
        if (!w.ok()) co_return w;
        absl::StatusOr<uint64_t> copied = co_await copier;
        if (!copied.ok()) co_return copied.status();
        EXPECT_EQ(*copied, data->size());
        co_return got;
      }(std::move(in), std::move(out), &data));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == data);
}

// FromFd takes pipes, FIFOs and sockets; what it refuses stays the caller's.
TEST_F(ConformanceTest, PipeFromFdRefusesWhatIsNotAPipeAndKeepsNothing) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(tmp ? tmp : "/tmp") + "/pipe_regular";
  UniqueFd file(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600));
  ASSERT_TRUE(file);
  absl::StatusOr<PipeReader> r = PipeReader::FromFd(std::move(file));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("PipeReader::FromFd"),
            absl::string_view::npos)
      << r.status();
  EXPECT_NE(r.status().message().find("regular file"), absl::string_view::npos)
      << r.status();
  ASSERT_TRUE(file) << "a refused fd was taken";
  EXPECT_EQ(::fcntl(file.get(), F_GETFL) & O_NONBLOCK, 0)
      << "a refused fd was made non-blocking";

  UniqueFd dir(::open(tmp ? tmp : "/tmp", O_RDONLY | O_DIRECTORY));
  ASSERT_TRUE(dir);
  absl::StatusOr<PipeReader> d = PipeReader::FromFd(std::move(dir));
  EXPECT_TRUE(absl::IsInvalidArgument(d.status())) << d.status();
  EXPECT_TRUE(dir);

  UniqueFd none;
  absl::StatusOr<PipeWriter> n = PipeWriter::FromFd(std::move(none));
  EXPECT_TRUE(absl::IsInvalidArgument(n.status())) << n.status();

  // The wrong end of a pipe.
  UniqueFd ends[2];
  ASSERT_TRUE(internal::MakePipe(ends).ok());
  absl::StatusOr<PipeWriter> wrong = PipeWriter::FromFd(std::move(ends[0]));
  EXPECT_TRUE(absl::IsInvalidArgument(wrong.status())) << wrong.status();
  EXPECT_NE(wrong.status().message().find("read-only"), absl::string_view::npos)
      << wrong.status();
  ASSERT_TRUE(ends[0]);

  // The right ends, adopted, work (and a FIFO is a pipe).
  absl::StatusOr<PipeReader> reader = PipeReader::FromFd(std::move(ends[0]));
  absl::StatusOr<PipeWriter> writer = PipeWriter::FromFd(std::move(ends[1]));
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_TRUE(writer.ok()) << writer.status();
  EXPECT_FALSE(ends[0]);
  absl::Status s =
      rt().BlockOn([](PipeReader r, PipeWriter w) -> Task<absl::Status> {
        absl::Status wr = co_await w.WriteAll(absl::MakeConstSpan("fd"));
        if (!wr.ok()) co_return wr;
        char buf[8];
        absl::StatusOr<size_t> n = co_await r.Read(absl::MakeSpan(buf));
        if (!n.ok()) co_return n.status();
        EXPECT_EQ(std::string(buf, *n), std::string("fd", 3));
        co_return absl::OkStatus();
      }(std::move(*reader), std::move(*writer)));
  EXPECT_TRUE(s.ok()) << s;
}

// A writer takes a regular file (writes complete at once), at its offset.
TEST_F(ConformanceTest, PipeWriterFromFdWritesARegularFile) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(tmp ? tmp : "/tmp") + "/pipe_out";
  UniqueFd file(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
  ASSERT_TRUE(file);
  absl::StatusOr<PipeWriter> w = PipeWriter::FromFd(std::move(file));
  ASSERT_TRUE(w.ok()) << w.status();
  const std::string data = Pattern(1 << 20, 9);
  absl::Status s = rt().BlockOn(
      [](PipeWriter w, const std::string* data) -> Task<absl::Status> {
        absl::Status a = co_await w.WriteAll(absl::MakeConstSpan(*data));
        if (!a.ok()) co_return a;
        co_return w.Close();
      }(std::move(*w), &data));
  ASSERT_TRUE(s.ok()) << s;
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(static_cast<size_t>(st.st_size), data.size());
}

// Stdin() adopts a copy of fd 0 (here a pipe put there for the test) and
// leaves fd 0 itself open.
TEST_F(ConformanceTest, PipeStdinReadsACopyOfFdZero) {
  UniqueFd ends[2];
  ASSERT_TRUE(internal::MakePipe(ends).ok());
  UniqueFd saved(::dup(0));
  ASSERT_TRUE(saved);
  ASSERT_EQ(::dup2(ends[0].get(), 0), 0);
  absl::StatusOr<PipeReader> in = PipeReader::Stdin();
  ASSERT_EQ(::dup2(saved.get(), 0), 0);
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_NE(in->fd(), 0);
  EXPECT_EQ(::fcntl(in->fd(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  ends[0].Reset();
  ASSERT_EQ(::write(ends[1].get(), "in", 2), 2);
  ends[1].Reset();
  absl::StatusOr<std::string> got =
      rt().BlockOn([](PipeReader r) -> Task<absl::StatusOr<std::string>> {
        co_return co_await ReadToEnd(r, 1024);
      }(std::move(*in)));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "in");
}

}  // namespace
}  // namespace polyio::testing
