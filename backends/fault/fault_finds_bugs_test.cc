// The fault layer finds bugs that the polite kernel hides. Each case runs a
// deliberately broken piece of code — built only here — next to its correct
// twin, twice: with every rate at 0 (the layer then passes each call
// through unchanged: the plain backend) and with the conformance runs'
// faults (the default rates, a fixed seed). Each case asserts both facts:
// the broken code passes without faults and is caught with them; the
// correct code passes both ways.
//
// - NaiveWriteAll assumes one Write sends everything (a consumer of the
//   backend that assumes full writes): on loopback with room in the socket
//   buffer it always does, until a write comes back short.
// - NaiveReadFrame reads a length-prefixed frame with one Read and does not
//   retry after a short read: a frame written whole arrives whole, until a
//   read comes back short.
// - NaiveCancelledRecv, below the runtime: a recv whose cancel it assumes
//   always wins, so a cancelled recv's result is dropped unread. On epoll
//   and poll a cancel of a parked recv always wins; the fault layer's late
//   cancel makes it lose, and the bytes are gone. (io_uring loses that race
//   for real, now and then, so there only the "caught with faults" half is
//   asserted.)
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backends/counted_op.h"
#include "backends/fault/fault_config.h"
#include "backends/fault/fault_test_support.h"
#include "gtest/gtest.h"
#include "polyio.h"

namespace polyio {
namespace {

static_assert(kFaultInjection, "build with the fault layer on");

using fault::FaultConfig;
using fault::FaultRates;
using fault_testing::NoFaults;
using fault_testing::RuntimeWith;

// The seed of the "with faults" runs (any seed finds these bugs; fixed so
// that the case is the same every run).
constexpr uint64_t kSeed = 3;

// The conformance runs' rates (fault_config.h's defaults).
FaultRates ConformanceFaults() { return FaultRates(); }

std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (char& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// ---- Assumes full writes ------------------------------------------------

// BROKEN: one Write, and whatever it sent is taken for everything.
Task<absl::Status> NaiveWriteAll(UnixStream& s, absl::Span<const char> data) {
  absl::StatusOr<size_t> n = co_await s.Write(data);
  if (!n.ok()) co_return n.status();
  co_return absl::OkStatus();  // the bug: *n may be less than data.size()
}

Task<absl::Status> CorrectWriteAll(UnixStream& s, absl::Span<const char> data) {
  co_return co_await s.WriteAll(data);
}

using WriteAllFn = Task<absl::Status> (*)(UnixStream&, absl::Span<const char>);

// 64 messages of 512 bytes (32 KiB: always room in the socket buffer, so a
// plain kernel never writes short), then close; the peer reads to the end.
// True when every byte arrived, in order.
bool MessagesArriveIntact(const FaultRates& rates, WriteAllFn write_all) {
  absl::StatusOr<std::unique_ptr<Runtime>> made = RuntimeWith(rates, kSeed);
  if (!made.ok()) {
    ADD_FAILURE() << made.status();
    return false;
  }
  Runtime* rt = made->get();
  const std::string data = Pattern(64 * 512, 1);
  absl::StatusOr<std::string> got = rt->BlockOn(
      [](const std::string* data,
         WriteAllFn write_all) -> Task<absl::StatusOr<std::string>> {
        absl::StatusOr<std::pair<UnixStream, UnixStream>> pair =
            UnixStream::Pair();
        if (!pair.ok()) co_return pair.status();
        JoinHandle<absl::Status> writer =
            Spawn([](UnixStream s, const std::string* data,
                     WriteAllFn write_all) -> Task<absl::Status> {
              for (size_t at = 0; at < data->size(); at += 512) {
                absl::Status w = co_await write_all(
                    s, absl::MakeConstSpan(data->data() + at, 512));
                if (!w.ok()) co_return w;
              }
              co_return absl::OkStatus();  // closes s
            }(std::move(pair->first), data, write_all));
        std::string got;
        std::vector<char> buf(4096);
        for (;;) {
          absl::StatusOr<size_t> n =
              co_await pair->second.Read(absl::MakeSpan(buf));
          if (!n.ok()) co_return n.status();
          if (*n == 0) break;
          got.append(buf.data(), *n);
        }
        absl::Status w = co_await writer;
        if (!w.ok()) co_return w;
        co_return got;
      }(&data, write_all));
  EXPECT_TRUE(got.ok()) << got.status();
  return got.ok() && *got == data;
}

TEST(FaultFindsBugs, AWriterThatAssumesFullWrites) {
  POLYIO_FAULT_SKIP_UNLESS_OK(RuntimeWith(NoFaults(), kSeed).status());
  EXPECT_TRUE(MessagesArriveIntact(NoFaults(), &NaiveWriteAll))
      << "without faults the broken writer happens to work";
  EXPECT_FALSE(MessagesArriveIntact(ConformanceFaults(), &NaiveWriteAll))
      << "under faults (seed " << kSeed << ") it must be caught";
  EXPECT_TRUE(MessagesArriveIntact(NoFaults(), &CorrectWriteAll));
  EXPECT_TRUE(MessagesArriveIntact(ConformanceFaults(), &CorrectWriteAll));
}

// ---- Forgets to retry after a short read ---------------------------------

// Frames: a 4-byte length, then that many bytes.
std::string Frame(const std::string& payload) {
  uint32_t len = static_cast<uint32_t>(payload.size());
  std::string f(reinterpret_cast<const char*>(&len), 4);
  return f + payload;
}

// BROKEN: one Read for a whole frame; a short read is taken for the frame.
Task<absl::StatusOr<std::string>> NaiveReadFrame(UnixStream& s) {
  char buf[1024];
  absl::StatusOr<size_t> n = co_await s.Read(absl::MakeSpan(buf));
  if (!n.ok()) co_return n.status();
  if (*n == 0) co_return absl::OutOfRangeError("end of stream");
  if (*n < 4) co_return absl::DataLossError("short header");
  uint32_t len;
  std::memcpy(&len, buf, 4);
  // The bug: the payload is whatever this one read brought.
  co_return std::string(buf + 4, std::min<size_t>(len, *n - 4));
}

Task<absl::StatusOr<std::string>> CorrectReadFrame(UnixStream& s) {
  char header[4];
  absl::Status h = co_await ReadExact(s, absl::MakeSpan(header));
  if (!h.ok()) co_return h;
  uint32_t len;
  std::memcpy(&len, header, 4);
  std::string payload(len, '\0');
  absl::Status p = co_await ReadExact(s, absl::MakeSpan(payload));
  if (!p.ok()) co_return p;
  co_return payload;
}

using ReadFrameFn = Task<absl::StatusOr<std::string>> (*)(UnixStream&);

// A client sends 100 frames of 1-1000 bytes, each whole in one write, and
// waits for the server's answer (the frame the server read) before the
// next, then closes. The server answers each frame it reads until the end
// of the stream. True when the server read every frame right (an error on
// the way counts as wrong: a server reading out of step can be ahead of the
// client and close first).
bool FramesReadRight(const FaultRates& rates, ReadFrameFn read_frame) {
  absl::StatusOr<std::unique_ptr<Runtime>> made = RuntimeWith(rates, kSeed);
  if (!made.ok()) {
    ADD_FAILURE() << made.status();
    return false;
  }
  Runtime* rt = made->get();
  absl::StatusOr<int> right = rt->BlockOn([](ReadFrameFn read_frame)
                                              -> Task<absl::StatusOr<int>> {
    absl::StatusOr<std::pair<UnixStream, UnixStream>> pair = UnixStream::Pair();
    if (!pair.ok()) co_return pair.status();
    JoinHandle<absl::Status> server =
        Spawn([](UnixStream s, ReadFrameFn read_frame) -> Task<absl::Status> {
          for (;;) {
            absl::StatusOr<std::string> frame = co_await read_frame(s);
            if (absl::IsOutOfRange(frame.status())) break;  // the end
            std::string answer = frame.ok() ? Frame(*frame) : Frame("error");
            absl::Status w = co_await s.WriteAll(absl::MakeConstSpan(answer));
            if (!w.ok()) break;  // the client is gone
          }
          co_return absl::OkStatus();
        }(std::move(pair->second), read_frame));
    UnixStream& c = pair->first;
    int right = 0;
    for (int i = 0; i < 100; ++i) {
      std::string payload = Pattern(1 + (i * 37) % 1000, i);
      std::string frame = Frame(payload);
      absl::Status w = co_await c.WriteAll(absl::MakeConstSpan(frame));
      if (!w.ok()) co_return w;
      absl::StatusOr<std::string> echo = co_await CorrectReadFrame(c);
      if (!echo.ok()) co_return echo.status();
      if (*echo == payload) ++right;
    }
    c.Close().IgnoreError();
    absl::Status s = co_await server;
    if (!s.ok()) co_return s;
    co_return right;
  }(read_frame));
  if (!right.ok()) {
    std::printf("frames: %s\n", std::string(right.status().message()).c_str());
  }
  return right.ok() && *right == 100;
}

TEST(FaultFindsBugs, AReaderThatForgetsToRetryAfterAShortRead) {
  POLYIO_FAULT_SKIP_UNLESS_OK(RuntimeWith(NoFaults(), kSeed).status());
  EXPECT_TRUE(FramesReadRight(NoFaults(), &NaiveReadFrame))
      << "without faults the broken reader happens to work";
  EXPECT_FALSE(FramesReadRight(ConformanceFaults(), &NaiveReadFrame))
      << "under faults (seed " << kSeed << ") it must be caught";
  EXPECT_TRUE(FramesReadRight(NoFaults(), &CorrectReadFrame));
  EXPECT_TRUE(FramesReadRight(ConformanceFaults(), &CorrectReadFrame));
}

// ---- Assumes a cancel always wins -------------------------------------------

// Below the runtime: 20 rounds of "a recv parks; the peer writes a chunk;
// the consumer changes its mind and cancels; it waits for the completion".
// Then everything left in the socket is read. `naive`: a cancelled recv's
// result is dropped unread (the bug); else its bytes are kept. True when
// every byte was received.
bool NoByteLostToCancels(const FaultRates& rates, bool naive) {
  fault::SetConfigForTesting(FaultConfig{kSeed, rates});
  absl::StatusOr<std::unique_ptr<Backend>> made = Backend::Create({});
  fault::SetConfigForTesting(std::nullopt);
  if (!made.ok()) {
    ADD_FAILURE() << made.status();
    return false;
  }
  Backend& b = **made;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) !=
      0) {
    ADD_FAILURE() << "socketpair";
    return false;
  }
  const std::string sent = Pattern(20 * 100, 7);
  std::string got;
  char buf[4096];
  auto wait_for = [&b](CountedOp& op) {
    for (int i = 0; i < 100000 && op.completions() == 0; ++i) {
      b.Wait(1'000'000);
    }
  };
  for (int round = 0; round < 20; ++round) {
    CountedOp recv = TransferOp(OpKind::kRecv, sv[0], buf, sizeof(buf));
    recv.byte_stream = true;
    recv.finished_inline = b.Submit(&recv);
    if (recv.finished_inline) {
      got.append(buf, recv.res > 0 ? recv.res : 0);
    } else {
      b.Wait(0);  // parked (or, if data was there, maybe done)
      if (recv.completions() > 0) {
        got.append(buf, recv.res > 0 ? recv.res : 0);
      } else {
        EXPECT_EQ(write(sv[1], sent.data() + round * 100, 100), 100);
        // Still pending as far as the consumer knows: it changes its mind.
        b.Cancel(&recv);
        wait_for(recv);
        // The bug: a recv it cancelled is taken to have read nothing.
        if (recv.res > 0 && !naive) got.append(buf, recv.res);
        continue;
      }
    }
    EXPECT_EQ(write(sv[1], sent.data() + round * 100, 100), 100);
  }
  // The rest, straight from the socket.
  for (;;) {
    ssize_t n = read(sv[0], buf, sizeof(buf));
    if (n <= 0) break;
    got.append(buf, n);
  }
  b.Forget(sv[0]);
  b.Forget(sv[1]);
  b.CancelAll();
  while (b.InFlight() > 0) b.Wait(1'000'000);
  close(sv[0]);
  close(sv[1]);
  return got == sent;
}

TEST(FaultFindsBugs, AConsumerThatAssumesACancelAlwaysWins) {
  POLYIO_FAULT_SKIP_UNLESS_OK(RuntimeWith(NoFaults(), kSeed).status());
  const char* inner = std::getenv("POLYIO_FAULT_INNER");
  const bool uring = inner != nullptr && std::string(inner) == "io_uring";
  if (!uring) {
    EXPECT_TRUE(NoByteLostToCancels(NoFaults(), /*naive=*/true))
        << "without faults a cancel of a parked recv always wins here";
  }
  EXPECT_FALSE(NoByteLostToCancels(ConformanceFaults(), /*naive=*/true))
      << "under faults (seed " << kSeed << ") it must be caught";
  EXPECT_TRUE(NoByteLostToCancels(NoFaults(), /*naive=*/false));
  EXPECT_TRUE(NoByteLostToCancels(ConformanceFaults(), /*naive=*/false));
}

}  // namespace
}  // namespace polyio
