// The main of every <server>_instr_server binary (BUILD.bazel): one echo
// server of the benchmarks (echo_server_under_test.h) as a process of its
// own, so that tools/bench --instr can run it under callgrind and count this
// process's instructions while the load generator runs uninstrumented in
// another process.
//
// Protocol, over the standard streams: once the server listens, one line
// "port <port> <name>" on stdout; the server then runs until stdin reaches
// end of file, is stopped (its destructor joins its thread) and the process
// exits 0. A server that cannot start here (io_uring refused, ...) exits 3
// with the reason on stderr, as echo_bench does, so the row is reported as
// skipped. The main thread only waits in read(2), which costs no
// instructions while the server runs.
//
// tools/bench --instr does not rely on the port line or on stopping through
// stdin: under valgrind 3.19 a thread blocked in io_uring_enter keeps
// valgrind's lock, so with an io_uring server this main thread may not run
// until a connection arrives. It reads the port from /proc, has callgrind
// dump the counters (callgrind_control) and kills the process.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>

#include "absl/status/statusor.h"
#include "benchmarks/bench_context.h"
#include "benchmarks/echo_server_under_test.h"

int main() {
  using polyio::bench::BenchEchoServer;
  // 1000 connections need 1000 fds in this process (valgrind keeps a few of
  // the soft limit for itself).
  polyio::bench::RaiseFdLimit();
  absl::StatusOr<std::unique_ptr<BenchEchoServer>> server =
      polyio::bench::StartServerUnderTest();
  if (!server.ok()) {
    std::fprintf(stderr, "instr_server: server unavailable: %s\n",
                 server.status().ToString().c_str());
    return 3;
  }
  std::printf("port %u %s\n", static_cast<unsigned>((*server)->port()),
              (*server)->name().c_str());
  std::fflush(stdout);
  char buf[256];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n == 0 || (n < 0 && errno != EINTR)) break;
  }
  server->reset();
  return 0;
}
