// What the stress tests share: the fd limit, a forked peer process, the
// runtime of the backend under test, and a byte pattern.
//
// The peer. Each test puts the other end of its connections in a child
// process (ForkPeer), forked before any runtime or thread exists: a process
// then needs one fd per connection, not two, so 10,000 connections fit a
// host whose RLIMIT_NOFILE hard limit is 20,000 (this machine's). The child
// learns the port through a pipe and reports by its exit status.
//
// The fd limit. ConnectionsAllowed raises the soft limit as far as the hard
// limit allows and says how many connections that leaves; a test that must
// run fewer than it wants prints so on stderr and records it in test.xml
// (never a silent pass with fewer).
//
// Not thread-safe; for tests only.
#ifndef POLYIO_TESTS_STRESS_STRESS_UTIL_H_
#define POLYIO_TESTS_STRESS_STRESS_UTIL_H_

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "polyio.h"

namespace polyio::stress {

// Fds a process uses besides its connections: stdio, the runtime's
// backend and wake fds, the listener, pipes, with room to spare.
inline constexpr int kSpareFds = 64;

// How many of `want` connections one process can hold, after raising
// RLIMIT_NOFILE's soft limit towards want + kSpareFds. Prints and records
// (test.xml property "connections_capped") when it is fewer.
inline int ConnectionsAllowed(int want, const char* test) {
  rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  rlim_t need = static_cast<rlim_t>(want + kSpareFds);
  if (lim.rlim_cur < need) {
    lim.rlim_cur = std::min(need, lim.rlim_max);
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  int allowed = static_cast<int>(std::min<rlim_t>(
      want, lim.rlim_cur > kSpareFds ? lim.rlim_cur - kSpareFds : 0));
  ::testing::Test::RecordProperty("fd_limit_hard",
                                  std::to_string(lim.rlim_max));
  ::testing::Test::RecordProperty("connections", std::to_string(allowed));
  if (allowed < want) {
    std::fprintf(stderr,
                 "STRESS %s: ONLY %d OF %d CONNECTIONS: RLIMIT_NOFILE is "
                 "%llu (hard %llu) on this host\n",
                 test, allowed, want,
                 static_cast<unsigned long long>(lim.rlim_cur),
                 static_cast<unsigned long long>(lim.rlim_max));
    ::testing::Test::RecordProperty("connections_capped", "yes");
  }
  return allowed;
}

// POLYIO_STRESS_CONNECTIONS=N runs N instead (a quick local run); the
// output says so like any other cap.
inline int WantedConnections(int by_default) {
  const char* env = std::getenv("POLYIO_STRESS_CONNECTIONS");
  return env != nullptr ? std::max(1, std::atoi(env)) : by_default;
}

// The Runtime of the backend this binary was built for, or a skip with the
// reason — a failure where POLYIO_REQUIRE_<BACKEND>=1 (as in
// tests/conformance/fixture.h).
inline std::unique_ptr<Runtime> CreateRuntime(std::string* why_not) {
  absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create();
  if (rt.ok()) return std::move(*rt);
  *why_not = std::string(rt.status().message());
  return nullptr;
}
inline bool BackendRequired() {
  const char* expected = std::getenv("POLYIO_EXPECT_BACKEND");
  if (expected == nullptr) return false;
  std::string var = "POLYIO_REQUIRE_";
  for (const char* c = expected; *c; ++c) {
    var += static_cast<char>(std::toupper(static_cast<unsigned char>(*c)));
  }
  const char* value = std::getenv(var.c_str());
  return value != nullptr && std::string(value) == "1";
}

// A child process running `body(port)`, which returns its exit status. The
// parent sends the port with SendPort once it listens, and Signal()s
// whatever the test's protocol needs (one byte each) through a second pipe.
class ForkPeer {
 public:
  explicit ForkPeer(std::function<int(uint16_t port, int signals)> body) {
    int port_pipe[2], signal_pipe[2];
    if (pipe(port_pipe) != 0 || pipe(signal_pipe) != 0) std::abort();
    pid_ = fork();
    if (pid_ < 0) std::abort();
    if (pid_ == 0) {
      close(port_pipe[1]);
      close(signal_pipe[1]);
      uint16_t port = 0;
      if (read(port_pipe[0], &port, sizeof(port)) != sizeof(port)) _exit(3);
      close(port_pipe[0]);
      _exit(body(port, signal_pipe[0]));
    }
    close(port_pipe[0]);
    close(signal_pipe[0]);
    port_fd_ = port_pipe[1];
    signal_fd_ = signal_pipe[1];
  }
  ~ForkPeer() {
    if (pid_ > 0) Wait();
  }

  void SendPort(uint16_t port) {
    if (write(port_fd_, &port, sizeof(port)) != sizeof(port)) std::abort();
    close(port_fd_);
    port_fd_ = -1;
  }
  void Signal() {
    char c = 's';
    if (write(signal_fd_, &c, 1) != 1) std::abort();
  }
  // The child's exit status (128 + signal number if a signal ended it).
  int Wait() {
    if (port_fd_ >= 0) close(port_fd_);  // a child still waiting gives up
    if (signal_fd_ >= 0) close(signal_fd_);
    port_fd_ = signal_fd_ = -1;
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
  }

  // In the child: blocks for the next Signal(); false when the parent
  // closed the pipe instead.
  static bool AwaitSignal(int signals) {
    char c;
    return read(signals, &c, 1) == 1;
  }

 private:
  pid_t pid_ = -1;
  int port_fd_ = -1;
  int signal_fd_ = -1;
};

// The byte at `offset` of connection `conn`'s data: differs with both, so
// a lost, repeated or misrouted chunk shows.
inline char PatternByte(uint32_t conn, uint64_t offset) {
  uint64_t x = (uint64_t{conn} << 32) ^ (offset * 0x9E3779B97F4A7C15ull);
  x ^= x >> 29;
  x *= 0xBF58476D1CE4E5B9ull;
  return static_cast<char>(x >> 56);
}

// Milliseconds since `start`.
inline long long MillisSince(Instant start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Now() - start)
      .count();
}

}  // namespace polyio::stress

#endif  // POLYIO_TESTS_STRESS_STRESS_UTIL_H_
