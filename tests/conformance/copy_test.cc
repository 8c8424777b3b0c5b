// Copy (runtime/bufio/read_write.h) by splice(2) where the descriptors
// allow it — a pipe into a TCP socket and a TCP socket into a pipe, 64 MiB
// intact, the bytes counted exactly, the splice path taken (SplicedBytes
// grows by the bytes copied) — and by its read/write loop where they do
// not: an in-memory reader, a regular file as the writer. A Copy by splice
// cancelled again and again loses and repeats nothing.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "polyio.h"
#include "runtime/io/splice.h"
#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr size_t k64MiB = size_t{64} << 20;

// A connected TCP pair over 127.0.0.1 (splice needs real stream sockets;
// TCP is the case that matters most).
Task<absl::StatusOr<std::pair<TcpStream, TcpStream>>> TcpPair() {
  absl::StatusOr<TcpListener> listener =
      TcpListener::Bind(SocketAddress::Loopback4(0));
  if (!listener.ok()) co_return listener.status();
  absl::StatusOr<SocketAddress> addr = listener->LocalAddress();
  if (!addr.ok()) co_return addr.status();
  auto [connected, accepted] =
      co_await WhenAll(TcpStream::Connect(*addr), listener->Accept());
  if (!connected.ok()) co_return connected.status();
  if (!accepted.ok()) co_return accepted.status();
  co_return std::make_pair(std::move(*connected), std::move(*accepted));
}

// Writes `data` in 1 MiB pieces, then closes the writer (end of data).
template <class Writer>
Task<absl::Status> Feed(Writer* w, const std::string* data) {
  for (size_t at = 0; at < data->size(); at += 1 << 20) {
    const size_t n = std::min<size_t>(1 << 20, data->size() - at);
    absl::Status s =
        co_await WriteAllTo(*w, absl::MakeConstSpan(*data).subspan(at, n));
    if (!s.ok()) co_return s;
  }
  co_return w->Close();
}

Pipe OpenPipe() {
  absl::StatusOr<Pipe> p = Pipe::Open();
  EXPECT_TRUE(p.ok()) << p.status();
  return std::move(*p);
}

TEST_F(ConformanceTest, CopySplicesAPipeIntoATcpSocket) {
#ifndef __linux__
  GTEST_SKIP() << "splice(2) is Linux's";
#endif
  const std::string data = Pattern(k64MiB, 11);
  const uint64_t spliced_before = SplicedBytes();
  absl::Status s = rt().BlockOn([](const std::string* data)
                                    -> Task<absl::Status> {
    absl::StatusOr<std::pair<TcpStream, TcpStream>> tcp = co_await TcpPair();
    if (!tcp.ok()) co_return tcp.status();
    Pipe pipe = OpenPipe();
    JoinHandle<absl::Status> feed = Spawn(Feed(&pipe.writer, data));
    JoinHandle<absl::StatusOr<std::string>> sink =
        Spawn([](TcpStream* r) -> Task<absl::StatusOr<std::string>> {
          co_return co_await ReadToEnd(*r, 80 << 20);
        }(&tcp->second));
    EXPECT_TRUE(CanSplice(*pipe.reader.io_handle(), *tcp->first.io_handle()));
    absl::StatusOr<uint64_t> copied = co_await Copy(pipe.reader, tcp->first);
    if (!copied.ok()) co_return copied.status();
    EXPECT_EQ(*copied, data->size());
    EXPECT_TRUE(tcp->first.ShutdownWrite().ok());
    absl::StatusOr<std::string> got = co_await sink;
    if (!got.ok()) co_return got.status();
    EXPECT_EQ(got->size(), data->size());
    EXPECT_TRUE(*got == *data) << "the bytes differ";
    co_return co_await feed;
  }(&data));
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_GE(SplicedBytes() - spliced_before, data.size())
      << "Copy did not splice";
}

TEST_F(ConformanceTest, CopySplicesATcpSocketIntoAPipe) {
#ifndef __linux__
  GTEST_SKIP() << "splice(2) is Linux's";
#endif
  const std::string data = Pattern(k64MiB, 12);
  const uint64_t spliced_before = SplicedBytes();
  absl::Status s =
      rt().BlockOn([](const std::string* data) -> Task<absl::Status> {
        absl::StatusOr<std::pair<TcpStream, TcpStream>> tcp =
            co_await TcpPair();
        if (!tcp.ok()) co_return tcp.status();
        Pipe pipe = OpenPipe();
        JoinHandle<absl::Status> feed = Spawn(Feed(&tcp->first, data));
        JoinHandle<absl::StatusOr<std::string>> sink =
            Spawn([](PipeReader* r) -> Task<absl::StatusOr<std::string>> {
              co_return co_await ReadToEnd(*r, 80 << 20);
            }(&pipe.reader));
        absl::StatusOr<uint64_t> copied =
            co_await Copy(tcp->second, pipe.writer);
        if (!copied.ok()) co_return copied.status();
        EXPECT_EQ(*copied, data->size());
        EXPECT_TRUE(pipe.writer.Close().ok());
        absl::StatusOr<std::string> got = co_await sink;
        if (!got.ok()) co_return got.status();
        EXPECT_EQ(got->size(), data->size());
        EXPECT_TRUE(*got == *data) << "the bytes differ";
        co_return co_await feed;
      }(&data));
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_GE(SplicedBytes() - spliced_before, data.size())
      << "Copy did not splice";
}

// A Copy by splice under a short Timeout, again and again, while the feed
// comes in paced pieces: every byte arrives once, in order, although many
// Copies were cancelled while they waited for data.
TEST_F(ConformanceTest, CopyBySpliceCancelledLosesNothing) {
#ifndef __linux__
  GTEST_SKIP() << "splice(2) is Linux's";
#endif
  const std::string data = Pattern(4 << 20, 13);
  absl::Status s =
      rt().BlockOn([](const std::string* data) -> Task<absl::Status> {
        absl::StatusOr<std::pair<TcpStream, TcpStream>> tcp =
            co_await TcpPair();
        if (!tcp.ok()) co_return tcp.status();
        Pipe pipe = OpenPipe();
        JoinHandle<absl::Status> feed = Spawn(
            [](PipeWriter* w, const std::string* d) -> Task<absl::Status> {
              for (size_t at = 0; at < d->size(); at += 100000) {
                const size_t n = std::min<size_t>(100000, d->size() - at);
                absl::Status s = co_await w->WriteAll(
                    absl::MakeConstSpan(*d).subspan(at, n));
                if (!s.ok()) co_return s;
                absl::Status slept = co_await Sleep(milliseconds(1));
                if (!slept.ok()) co_return slept;
              }
              co_return w->Close();
            }(&pipe.writer, data));
        JoinHandle<absl::StatusOr<std::string>> sink =
            Spawn([](TcpStream* r) -> Task<absl::StatusOr<std::string>> {
              co_return co_await ReadToEnd(*r, 8 << 20);
            }(&tcp->second));
        int cancelled = 0;
        for (;;) {
          absl::StatusOr<uint64_t> copied =
              co_await Timeout(milliseconds(2), Copy(pipe.reader, tcp->first));
          if (absl::IsDeadlineExceeded(copied.status())) {
            ++cancelled;
            continue;
          }
          if (!copied.ok()) co_return copied.status();
          break;  // the end of the feed
        }
        EXPECT_TRUE(tcp->first.ShutdownWrite().ok());
        absl::StatusOr<std::string> got = co_await sink;
        if (!got.ok()) co_return got.status();
        EXPECT_EQ(got->size(), data->size());
        EXPECT_TRUE(*got == *data) << "bytes lost or repeated";
        EXPECT_GT(cancelled, 0);
        co_return co_await feed;
      }(&data));
  EXPECT_TRUE(s.ok()) << s;
}

// A reader that is no descriptor: its bytes from memory, in 1000-byte
// reads. Copy takes its read/write loop.
class MemoryReader {
 public:
  explicit MemoryReader(std::string data) : data_(std::move(data)) {}
  Task<absl::StatusOr<size_t>> Read(absl::Span<char> buf) {
    const size_t n = std::min({buf.size(), data_.size() - at_, size_t{1000}});
    std::copy_n(data_.data() + at_, n, buf.data());
    at_ += n;
    co_return n;
  }

 private:
  std::string data_;
  size_t at_ = 0;
};

TEST_F(ConformanceTest, CopyFromAnInMemoryReaderIntoAPipe) {
  const std::string data = Pattern(1 << 20, 14);
  const uint64_t spliced_before = SplicedBytes();
  absl::Status s =
      rt().BlockOn([](const std::string* data) -> Task<absl::Status> {
        Pipe pipe = OpenPipe();
        JoinHandle<absl::StatusOr<std::string>> sink =
            Spawn([](PipeReader* r) -> Task<absl::StatusOr<std::string>> {
              co_return co_await ReadToEnd(*r, 8 << 20);
            }(&pipe.reader));
        MemoryReader in(*data);
        absl::StatusOr<uint64_t> copied = co_await Copy(in, pipe.writer);
        if (!copied.ok()) co_return copied.status();
        EXPECT_EQ(*copied, data->size());
        EXPECT_TRUE(pipe.writer.Close().ok());
        absl::StatusOr<std::string> got = co_await sink;
        if (!got.ok()) co_return got.status();
        EXPECT_TRUE(*got == *data);
        co_return absl::OkStatus();
      }(&data));
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(SplicedBytes(), spliced_before) << "nothing to splice from";
}

// A regular file as the writer (PipeWriter::FromFd takes one): not a pipe
// or a socket, so no splice; the loop writes it all.
TEST_F(ConformanceTest, CopyFromAPipeIntoARegularFile) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(tmp ? tmp : "/tmp") + "/copy_target";
  UniqueFd file(
      ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  ASSERT_TRUE(file);
  UniqueFd check(::dup(file.get()));
  absl::StatusOr<PipeWriter> out = PipeWriter::FromFd(std::move(file));
  ASSERT_TRUE(out.ok()) << out.status();
  const std::string data = Pattern(3 << 20, 15);
  const uint64_t spliced_before = SplicedBytes();
  absl::Status s = rt().BlockOn(
      [](PipeWriter out, const std::string* data) -> Task<absl::Status> {
        Pipe pipe = OpenPipe();
        EXPECT_FALSE(CanSplice(*pipe.reader.io_handle(), *out.io_handle()));
        JoinHandle<absl::Status> feed = Spawn(Feed(&pipe.writer, data));
        absl::StatusOr<uint64_t> copied = co_await Copy(pipe.reader, out);
        if (!copied.ok()) co_return copied.status();
        EXPECT_EQ(*copied, data->size());
        co_return co_await feed;
      }(std::move(*out), &data));
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(SplicedBytes(), spliced_before);
  std::string got(data.size() + 1, '\0');
  EXPECT_EQ(::pread(check.get(), got.data(), got.size(), 0),
            static_cast<ssize_t>(data.size()));
  got.resize(data.size());
  EXPECT_TRUE(got == data);
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace polyio::testing
