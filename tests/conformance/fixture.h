// The conformance suite's fixture: one Runtime on the backend this binary
// was built for (//tools/bazel:backend_test.bzl builds the suite once per
// backend), of the flavor POLYIO_TEST_RUNTIME names: "current_thread" (the
// default) or "multi_thread" (two workers; the BUILD runs every backend's
// suite both ways).
//
// A backend that builds but cannot run on this host (io_uring refused by the
// kernel, a sysctl or seccomp) makes Runtime::Create fail with a status that
// says why; the tests are then SKIPPED with that reason — unless
// POLYIO_REQUIRE_<BACKEND>=1 is set (tools/test sets it where the host has
// the backend), so that CI cannot pass by skipping.
#ifndef POLYIO_TESTS_CONFORMANCE_FIXTURE_H_
#define POLYIO_TESTS_CONFORMANCE_FIXTURE_H_

#include <sys/resource.h>
#include <sys/socket.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "polyio.h"

namespace polyio::testing {

class ConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create(Options());
    if (!rt.ok()) {
      if (RequiredByEnvironment()) {
        FAIL() << "backend required but unavailable: " << rt.status();
      }
      GTEST_SKIP() << "backend unavailable on this host: " << rt.status();
    }
    rt_ = std::move(*rt);
  }

  static bool MultiThread() {
    const char* flavor = std::getenv("POLYIO_TEST_RUNTIME");
    return flavor != nullptr && std::string(flavor) == "multi_thread";
  }
  static RuntimeOptions Options() {
    RuntimeOptions options;
    if (MultiThread()) {
      options.flavor = RuntimeFlavor::kMultiThread;
      options.worker_threads = 2;
    }
    return options;
  }

  // POLYIO_REQUIRE_<EXPECTED BACKEND>=1, e.g. POLYIO_REQUIRE_IO_URING=1.
  static bool RequiredByEnvironment() {
    const char* expected = std::getenv("POLYIO_EXPECT_BACKEND");
    if (expected == nullptr) return false;
    std::string var = "POLYIO_REQUIRE_";
    for (const char* c = expected; *c; ++c) {
      var += static_cast<char>(std::toupper(static_cast<unsigned char>(*c)));
    }
    const char* value = std::getenv(var.c_str());
    return value != nullptr && std::string(value) == "1";
  }

  Runtime& rt() { return *rt_; }

  std::unique_ptr<Runtime> rt_;
};

// A connected AF_UNIX stream pair, both ends non-blocking and close-on-exec,
// as TcpStreams (the stream type needs only a connected stream socket).
// Portable: SOCK_NONBLOCK in socketpair's type is Linux and BSD only.
inline std::pair<TcpStream, TcpStream> StreamPair() {
  int sv[2] = {-1, -1};
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  EXPECT_TRUE(MakeNonBlocking(sv[0]).ok());
  EXPECT_TRUE(MakeNonBlocking(sv[1]).ok());
  return {TcpStream(UniqueFd(sv[0])), TcpStream(UniqueFd(sv[1]))};
}

// Echoes everything it reads until the peer closes (a TcpStream, a
// UnixStream: any stream with Read and WriteAll).
template <class Stream>
Task<absl::Status> EchoConnection(Stream stream) {
  std::vector<char> buf(16384);
  for (;;) {
    absl::StatusOr<size_t> n = co_await stream.Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return absl::OkStatus();
    absl::Status s =
        co_await stream.WriteAll(absl::MakeConstSpan(buf.data(), *n));
    if (!s.ok()) co_return s;
  }
}

// Accepts `count` connections and spawns an echo task for each.
inline Task<absl::Status> EchoServer(TcpListener* listener, int count) {
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<TcpStream> s = co_await listener->Accept();
    if (!s.ok()) co_return s.status();
    Spawn(EchoConnection(std::move(*s))).Detach();
  }
  co_return absl::OkStatus();
}

// Bytes that differ at every offset, so that a lost or reordered chunk shows.
inline std::string Pattern(size_t size, uint32_t seed) {
  std::string data(size, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < size; ++i) {
    x = x * 1664525u + 1013904223u;
    data[i] = static_cast<char>(x >> 24);
  }
  return data;
}

// Sends `data` through an echo connection to `addr` (writing and reading
// concurrently) and returns what came back.
inline Task<absl::StatusOr<std::string>> EchoRoundTrip(
    SocketAddress addr, const std::string* data) {
  absl::StatusOr<TcpStream> stream = co_await TcpStream::Connect(addr);
  if (!stream.ok()) co_return stream.status();
  JoinHandle<absl::Status> writer =
      Spawn([](TcpStream* s, const std::string* d) -> Task<absl::Status> {
        co_return co_await s->WriteAll(absl::MakeConstSpan(*d));
      }(&*stream, data));
  std::string got;
  std::vector<char> buf(65536);
  while (got.size() < data->size()) {
    absl::StatusOr<size_t> n = co_await stream->Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    if (*n == 0) break;
    got.append(buf.data(), *n);
  }
  absl::Status written = co_await writer;
  if (!written.ok()) co_return written;
  co_return got;
}

// Runs the task `make` returns on a second current-thread Runtime on its
// own thread: the other side of a cross-thread test.
class OtherThread {
 public:
  explicit OtherThread(std::function<Task<absl::Status>()> make)
      : thread_([this, make = std::move(make)] {
          absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create();
          if (!rt.ok()) {
            status_ = rt.status();
            return;
          }
          status_ = (*rt)->BlockOn(make());
        }) {}
  absl::Status Join() {
    thread_.join();
    return status_;
  }

 private:
  absl::Status status_;
  std::thread thread_;  // last: starts once status_ exists
};

// Yields until `*counter` reaches `target`: true when it did, false when
// the task was cancelled or 10 s passed. A deadline, not a number of
// yields or a sleep: on the multi-thread runtime the task being waited for
// may sit on another worker that a loaded machine has not scheduled for a
// while. Tests wait for the condition they mean, with this as a hang guard.
inline Task<bool> YieldUntil(const std::atomic<int>* counter, int target) {
  const Instant deadline = Now() + std::chrono::seconds(10);
  while (counter->load(std::memory_order_acquire) < target) {
    if (Now() >= deadline) co_return false;
    absl::Status yielded = co_await Yield();
    if (!yielded.ok()) co_return false;
  }
  co_return true;
}

// Wraps a future and counts, in `*pending`, each poll of it that returned
// Pending the first time. Once the count is positive the operation has
// started — it is parked in the backend, in the kernel, or on its way to its
// driver's mailbox — and its task waits on it: what "blocked in Read by now"
// used to mean, observed instead of slept for.
template <class F>
class StartedFuture {
 public:
  StartedFuture(F inner, std::atomic<int>* pending)
      : inner_(std::move(inner)), pending_(pending) {}
  polyio::Poll<FutureOutput<F>> Poll(Context& cx) {
    polyio::Poll<FutureOutput<F>> p = inner_.Poll(cx);
    if (p.pending() && !counted_) {
      counted_ = true;
      pending_->fetch_add(1, std::memory_order_acq_rel);
    }
    return p;
  }

 private:
  F inner_;
  std::atomic<int>* pending_;
  bool counted_ = false;
};

template <class F>
StartedFuture<std::decay_t<F>> CountWhenStarted(F&& inner,
                                                std::atomic<int>* pending) {
  return StartedFuture<std::decay_t<F>>(std::forward<F>(inner), pending);
}

// Polls `inner` once, then destroys it: an operation dropped in flight (a
// select that gives up at once, a "try" that never waits). Its output: the
// inner output if that first poll completed, else nullopt.
template <class F>
class PollOnceThenDrop {
 public:
  explicit PollOnceThenDrop(F inner) : inner_(std::move(inner)) {}
  polyio::Poll<std::optional<FutureOutput<F>>> Poll(Context& cx) {
    polyio::Poll<FutureOutput<F>> p = inner_->Poll(cx);
    inner_.reset();
    if (p.pending()) return std::optional<FutureOutput<F>>();
    return std::optional<FutureOutput<F>>(std::move(p).value());
  }

 private:
  std::optional<F> inner_;
};

// Raises the soft fd limit to at least `want` (up to the hard limit) for the
// test's duration.
class FdLimit {
 public:
  explicit FdLimit(rlim_t want) {
    getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit raised = saved_;
    if (raised.rlim_cur < want)
      raised.rlim_cur = std::min(want, raised.rlim_max);
    setrlimit(RLIMIT_NOFILE, &raised);
  }
  ~FdLimit() { setrlimit(RLIMIT_NOFILE, &saved_); }
  static rlim_t Current() {
    rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    return r.rlim_cur;
  }

 private:
  rlimit saved_;
};

}  // namespace polyio::testing

#endif  // POLYIO_TESTS_CONFORMANCE_FIXTURE_H_
