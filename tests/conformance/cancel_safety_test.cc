// Cancel-safety of reads: a read cancelled at any moment loses no byte.
//
// A peer on its own thread writes a numbered pattern over TCP, paced (small
// chunks with short pauses) or in bursts. The reader keeps only what reads
// that were NOT cancelled returned — the winner of a WhenAny, a Timeout
// that did not expire, a reader task that was not aborted — and must end
// with exactly the bytes that were sent. On a completion backend the kernel
// takes bytes out of the socket when a read completes, so a read that
// completes while it is being cancelled must hand them to the next read of
// the stream (tcp_stream.h, docs/cancellation.md).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

enum class Peer { kPaced, kBursty };

// Cancellation points spread from "at once" to "well after a chunk".
constexpr std::array<Duration, 4> kWaits = {Duration::zero(), microseconds(50),
                                            microseconds(200), milliseconds(1)};

// The peer: a blocking socket on a thread of its own, so that data arrives
// while the runtime is anywhere in a read's life. Every few chunks (paced)
// or after every burst it waits until the reader has caught up, then pauses:
// the reader's next attempts find the socket empty, so some reads are
// always cancelled — however loaded the machine — and the test cannot pass
// without exercising what it tests.
class PatternWriter {
 public:
  PatternWriter(SocketAddress addr, const std::string* data, Peer peer,
                const std::atomic<size_t>* received)
      : received_(received),
        thread_([this, addr, data, peer] { Run(addr, *data, peer); }) {}
  ~PatternWriter() { thread_.join(); }
  bool ok() const { return ok_; }

 private:
  void Run(const SocketAddress& addr, const std::string& data, Peer peer) {
    int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, addr.data(), addr.size()) != 0) {
      if (fd >= 0) ::close(fd);
      return;
    }
    const size_t chunk = peer == Peer::kPaced ? 4096 : 256 << 10;
    const auto pause =
        peer == Peer::kPaced ? microseconds(50) : microseconds(1000);
    const int chunks_per_catch_up = peer == Peer::kPaced ? 16 : 1;
    size_t sent = 0;
    int chunks = 0;
    while (sent < data.size()) {
      size_t n = std::min(chunk, data.size() - sent);
      size_t done = 0;
      while (done < n) {
        ssize_t w =
            ::send(fd, data.data() + sent + done, n - done, MSG_NOSIGNAL);
        if (w <= 0) {
          ::close(fd);
          return;
        }
        done += static_cast<size_t>(w);
      }
      sent += n;
      if (++chunks % chunks_per_catch_up == 0) WaitForReader(sent);
      std::this_thread::sleep_for(pause);
    }
    ::shutdown(fd, SHUT_WR);
    // Wait for the reader to finish (it closes): then nothing is in flight.
    char sink[64];
    while (::recv(fd, sink, sizeof(sink), 0) > 0) {
    }
    ::close(fd);
    ok_ = true;
  }

  // Until the reader has `sent` bytes, or 10 s (bytes lost: the reader then
  // reports what is missing).
  void WaitForReader(size_t sent) const {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (received_->load(std::memory_order_acquire) < sent &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(microseconds(20));
    }
  }

  const std::atomic<size_t>* received_;
  bool ok_ = false;
  std::thread thread_;  // last: starts once the rest exists
};

// Where the first difference is, for a message a person can act on.
std::string Compare(const std::string& got, const std::string& want) {
  if (got == want) return "";
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  return absl::StrCat("received ", got.size(), " of ", want.size(),
                      " bytes; the first difference is at offset ", i);
}

// How a test reads: `read_some(stream, buf, round)` returns the bytes of
// one attempt (0 bytes when it was cancelled), or end of stream / an error.
struct ReadOutcome {
  size_t bytes = 0;
  bool eof = false;
  absl::Status error;
  int cancelled = 0;  // attempts that were cancelled
};

Task<ReadOutcome> ReadWithWhenAny(TcpStream* stream, absl::Span<char> buf,
                                  int round) {
  ReadOutcome out;
  auto r =
      co_await WhenAny(stream->Read(buf), Sleep(kWaits[round % kWaits.size()]));
  if (r.index() == 1) {
    out.cancelled = 1;
    co_return out;
  }
  absl::StatusOr<size_t> n = std::get<0>(std::move(r));
  if (!n.ok()) {
    out.error = n.status();
  } else if (*n == 0) {
    out.eof = true;
  } else {
    out.bytes = *n;
  }
  co_return out;
}

Task<ReadOutcome> ReadWithTimeout(TcpStream* stream, absl::Span<char> buf,
                                  int round) {
  ReadOutcome out;
  absl::StatusOr<size_t> n =
      co_await Timeout(kWaits[round % kWaits.size()], stream->Read(buf));
  if (absl::IsDeadlineExceeded(n.status())) {
    out.cancelled = 1;
  } else if (!n.ok()) {
    out.error = n.status();
  } else if (*n == 0) {
    out.eof = true;
  } else {
    out.bytes = *n;
  }
  co_return out;
}

// A reader task that appends whatever it reads, aborted after a while: what
// it appended before the abort counts, the read it was in does not.
Task<absl::Status> AppendUntilAborted(TcpStream* stream, std::string* got,
                                      bool* eof) {
  std::vector<char> buf(8192);
  for (;;) {
    absl::StatusOr<size_t> n = co_await stream->Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    if (*n == 0) {
      *eof = true;
      co_return absl::OkStatus();
    }
    got->append(buf.data(), *n);
  }
}

Task<ReadOutcome> ReadWithAbort(TcpStream* stream, std::string* got,
                                int round) {
  ReadOutcome out;
  size_t before = got->size();
  bool eof = false;
  JoinHandle<absl::Status> reader =
      Spawn(AppendUntilAborted(stream, got, &eof));
  absl::Status slept = co_await Sleep(kWaits[round % kWaits.size()]);
  if (!slept.ok()) out.error = slept;
  reader.Abort();
  absl::Status ended = co_await reader;
  if (absl::IsCancelled(ended)) {
    out.cancelled = 1;
  } else if (!ended.ok()) {
    out.error = ended;
  }
  out.eof = eof;
  out.bytes = got->size() - before;
  co_return out;
}

enum class Canceller { kWhenAny, kTimeout, kAbort };

Task<absl::Status> ReceiveEverything(Canceller how, Peer peer, size_t size) {
  absl::StatusOr<TcpListener> listener =
      TcpListener::Bind(SocketAddress::Loopback4(0));
  if (!listener.ok()) co_return listener.status();
  const std::string data = Pattern(size, 7);
  std::atomic<size_t> received{0};
  PatternWriter writer(*listener->LocalAddress(), &data, peer, &received);
  absl::StatusOr<TcpStream> stream = co_await listener->Accept();
  if (!stream.ok()) co_return stream.status();

  std::string got;
  std::vector<char> buf(16384);
  int cancelled = 0;
  absl::Status error;
  for (int round = 0;; ++round) {
    ReadOutcome r;
    switch (how) {
      case Canceller::kWhenAny:
        r = co_await ReadWithWhenAny(&*stream, absl::MakeSpan(buf), round);
        break;
      case Canceller::kTimeout:
        r = co_await ReadWithTimeout(&*stream, absl::MakeSpan(buf), round);
        break;
      case Canceller::kAbort:
        r = co_await ReadWithAbort(&*stream, &got, round);
        break;
    }
    if (how != Canceller::kAbort) got.append(buf.data(), r.bytes);
    received.store(got.size(), std::memory_order_release);
    cancelled += r.cancelled;
    if (!r.error.ok()) {
      error = r.error;
      break;
    }
    if (r.eof) break;
  }
  stream->Close().IgnoreError();  // lets the writer finish
  if (!error.ok()) co_return error;
  std::string diff = Compare(got, data);
  if (!diff.empty()) {
    co_return absl::DataLossError(
        absl::StrCat(diff, " (", cancelled, " reads were cancelled)"));
  }
  // The test must have exercised cancellation, or it proves nothing.
  if (cancelled == 0) {
    co_return absl::InternalError("no read was ever cancelled");
  }
  co_return absl::OkStatus();
}

constexpr size_t kPacedSize = 2 << 20;
constexpr size_t kBurstySize = 8 << 20;

TEST_F(ConformanceTest, ReadLosingWhenAnyLosesNoBytesWithAPacedPeer) {
  absl::Status s = rt().BlockOn(
      ReceiveEverything(Canceller::kWhenAny, Peer::kPaced, kPacedSize));
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, ReadLosingWhenAnyLosesNoBytesWithABurstyPeer) {
  absl::Status s = rt().BlockOn(
      ReceiveEverything(Canceller::kWhenAny, Peer::kBursty, kBurstySize));
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, ReadUnderTimeoutLosesNoBytesWithAPacedPeer) {
  absl::Status s = rt().BlockOn(
      ReceiveEverything(Canceller::kTimeout, Peer::kPaced, kPacedSize));
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, ReadUnderTimeoutLosesNoBytesWithABurstyPeer) {
  absl::Status s = rt().BlockOn(
      ReceiveEverything(Canceller::kTimeout, Peer::kBursty, kBurstySize));
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, ReadInAnAbortedTaskLosesNoBytesWithAPacedPeer) {
  absl::Status s = rt().BlockOn(
      ReceiveEverything(Canceller::kAbort, Peer::kPaced, kPacedSize));
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, ReadInAnAbortedTaskLosesNoBytesWithABurstyPeer) {
  absl::Status s = rt().BlockOn(
      ReceiveEverything(Canceller::kAbort, Peer::kBursty, kBurstySize));
  EXPECT_TRUE(s.ok()) << s;
}

// Polls `inner` once, then destroys it whatever it returned: a future
// dropped while its operation may be in flight.
template <class F>
class PollOnceAndDrop {
 public:
  using Inner = FutureOutput<F>;
  explicit PollOnceAndDrop(F inner) : inner_(std::move(inner)) {}
  polyio::Poll<std::optional<Inner>> Poll(Context& cx) {
    polyio::Poll<Inner> p = inner_->Poll(cx);
    inner_.reset();
    if (p.pending()) return std::optional<Inner>();
    return std::optional<Inner>(std::move(p).value());
  }

 private:
  std::optional<F> inner_;
};

// Reads cancelled right after their first poll — as the loser of a WhenAny
// whose other side is ready at once, or dropped outright — hand their bytes
// to the next read.
Task<absl::Status> CancelReadsAtTheirFirstPoll(bool drop) {
  // Named, not a structured binding: clang 14 cannot capture those.
  std::pair<TcpStream, TcpStream> pair = StreamPair();
  TcpStream& a = pair.first;
  TcpStream& b = pair.second;
  const std::string data = Pattern(256 << 10, 3);
  std::string got;
  std::vector<char> buf(8192);  // more than a chunk: a read takes it all
  size_t offered = 0;
  int cancelled = 0;
  auto offer_chunk = [&]() -> Task<absl::Status> {
    if (offered == data.size()) co_return absl::OkStatus();
    size_t n = std::min<size_t>(4096, data.size() - offered);
    absl::Status w =
        co_await b.WriteAll(absl::MakeConstSpan(data.data() + offered, n));
    offered += n;
    co_return w;
  };
  for (int round = 0; got.size() < data.size(); ++round) {
    // Even rounds: the data is there when the read starts (a readiness
    // backend reads it at once; io_uring's read completes as it is being
    // cancelled). Odd rounds: it comes after the cancellation.
    const bool data_first = round % 2 == 0;
    if (data_first) {
      absl::Status w = co_await offer_chunk();
      if (!w.ok()) co_return w;
    }
    if (drop) {
      std::optional<absl::StatusOr<size_t>> r =
          co_await PollOnceAndDrop(a.Read(absl::MakeSpan(buf)));
      if (r.has_value()) {
        if (!r->ok()) co_return r->status();
        got.append(buf.data(), **r);
      } else {
        ++cancelled;
      }
    } else {
      auto r = co_await WhenAny(a.Read(absl::MakeSpan(buf)),
                                Sleep(Duration::zero()));
      if (r.index() == 0) {
        absl::StatusOr<size_t> n = std::get<0>(std::move(r));
        if (!n.ok()) co_return n.status();
        got.append(buf.data(), *n);
      } else {
        ++cancelled;
      }
    }
    if (!data_first) {
      absl::Status w = co_await offer_chunk();
      if (!w.ok()) co_return w;
    }
    if (got.size() == offered) continue;
    // Whatever is left of this chunk is there now (in the socket, or kept
    // by the stream): a read that finds nothing means bytes went missing.
    absl::StatusOr<size_t> n =
        co_await Timeout(std::chrono::seconds(5), a.Read(absl::MakeSpan(buf)));
    if (absl::IsDeadlineExceeded(n.status())) break;
    if (!n.ok()) co_return n.status();
    got.append(buf.data(), *n);
  }
  std::string diff = Compare(got, data);
  if (!diff.empty()) {
    co_return absl::DataLossError(
        absl::StrCat(diff, " (", cancelled, " reads were cancelled)"));
  }
  if (cancelled == 0) co_return absl::InternalError("no read was cancelled");
  co_return absl::OkStatus();
}

TEST_F(ConformanceTest, ReadLosingWhenAnyAtItsFirstPollLosesNoBytes) {
  absl::Status s = rt().BlockOn(CancelReadsAtTheirFirstPoll(/*drop=*/false));
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, ReadFutureDroppedInFlightLosesNoBytes) {
  absl::Status s = rt().BlockOn(CancelReadsAtTheirFirstPoll(/*drop=*/true));
  EXPECT_TRUE(s.ok()) << s;
}

// A connection accepted while its Accept was being cancelled is handed to
// the next Accept, not closed under the client.
Task<absl::Status> AcceptUnderCancellation() {
  absl::StatusOr<TcpListener> listener =
      TcpListener::Bind(SocketAddress::Loopback4(0));
  if (!listener.ok()) co_return listener.status();
  SocketAddress addr = *listener->LocalAddress();
  constexpr int kClients = 50;
  JoinHandle<absl::Status> clients =
      Spawn([](SocketAddress addr) -> Task<absl::Status> {
        for (int i = 0; i < kClients; ++i) {
          absl::StatusOr<TcpStream> c = co_await TcpStream::Connect(addr);
          if (!c.ok()) co_return c.status();
          char byte = static_cast<char>(i);
          absl::Status w = co_await c->WriteAll(absl::MakeConstSpan(&byte, 1));
          if (!w.ok()) co_return w;
          // The server answers each client with its byte: a connection
          // closed by the server instead reads as end of stream here.
          char echo = 0;
          absl::StatusOr<size_t> n = co_await c->Read(absl::MakeSpan(&echo, 1));
          if (!n.ok()) co_return n.status();
          if (*n != 1 || echo != byte) {
            co_return absl::DataLossError(absl::StrCat(
                "client ", i, ": its connection was dropped by the server"));
          }
        }
        co_return absl::OkStatus();
      }(addr));
  int served = 0;
  for (int round = 0; served < kClients; ++round) {
    auto r = co_await WhenAny(listener->Accept(),
                              Sleep(kWaits[round % kWaits.size()]));
    if (r.index() == 1) continue;
    absl::StatusOr<TcpStream> s = std::get<0>(std::move(r));
    if (!s.ok()) co_return s.status();
    char byte = 0;
    absl::StatusOr<size_t> n = co_await s->Read(absl::MakeSpan(&byte, 1));
    if (!n.ok()) co_return n.status();
    absl::Status w = co_await s->WriteAll(absl::MakeConstSpan(&byte, 1));
    if (!w.ok()) co_return w;
    ++served;
  }
  co_return co_await clients;
}

TEST_F(ConformanceTest, AcceptLosingWhenAnyDropsNoConnection) {
  absl::Status s = rt().BlockOn(AcceptUnderCancellation());
  EXPECT_TRUE(s.ok()) << s;
}

}  // namespace
}  // namespace polyio::testing
