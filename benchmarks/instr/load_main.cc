// instr_load: the client side of tools/bench --instr, a normal
// (uninstrumented) process pinned to the client core, driving echo round
// trips in lockstep rounds (lockstep_client.h says why not the shared
// LoadGenerator here).
//
//   instr_load PORT CONNECTIONS SIZE MESSAGES...
//
// Connects CONNECTIONS sockets to 127.0.0.1:PORT, then, for each MESSAGES
// (a count from the start), runs whole rounds until at least that many round
// trips have completed — nothing is in flight then, so the server is idle —
// and prints "echoed <n> <seconds>": n is the exact number of messages the
// server has echoed since the start (a multiple of CONNECTIONS). It then
// waits for a line on stdin before the next count; this is when tools/bench
// has callgrind dump the server's counters. At end of file it exits, closing
// the connections. Exit 1 with the reason on stderr on any error (a server
// that makes no progress for 5 s is one).
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "benchmarks/affinity.h"
#include "benchmarks/bench_context.h"
#include "benchmarks/instr/lockstep_client.h"

namespace polyio::bench {
namespace {

// Reads one line of stdin; false at end of file.
bool WaitForNext() {
  char c;
  for (;;) {
    ssize_t n = read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (c == '\n') return true;
  }
}

absl::Status Run(uint16_t port, int connections, size_t size,
                 const std::vector<uint64_t>& counts) {
  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<LockstepClient>> client =
      LockstepClient::Connect(port, connections, size);
  if (!client.ok()) return client.status();
  for (uint64_t count : counts) {
    if (absl::Status s = (*client)->RunUntil(count); !s.ok()) return s;
    std::chrono::duration<double> took =
        std::chrono::steady_clock::now() - start;
    std::printf("echoed %llu %.3f\n",
                static_cast<unsigned long long>((*client)->completed()),
                took.count());
    std::fflush(stdout);
    if (!WaitForNext()) break;
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace polyio::bench

int main(int argc, char** argv) {
  int port = 0, connections = 0, size = 0;
  std::vector<uint64_t> counts;
  bool ok = argc >= 5 && absl::SimpleAtoi(argv[1], &port) &&
            absl::SimpleAtoi(argv[2], &connections) &&
            absl::SimpleAtoi(argv[3], &size) && port > 0 && port <= 65535 &&
            connections > 0 && size > 0;
  for (int i = 4; ok && i < argc; ++i) {
    uint64_t count;
    ok = absl::SimpleAtoi(argv[i], &count) &&
         (counts.empty() || count > counts.back());
    counts.push_back(count);
  }
  if (!ok) {
    std::fprintf(stderr,
                 "usage: instr_load PORT CONNECTIONS SIZE MESSAGES... "
                 "(increasing counts)\n");
    return 2;
  }
  polyio::bench::RaiseFdLimit();
  polyio::bench::PinCurrentThread(polyio::bench::Role::kClient);
  absl::Status s = polyio::bench::Run(static_cast<uint16_t>(port), connections,
                                      static_cast<size_t>(size), counts);
  if (!s.ok()) {
    std::fprintf(stderr, "instr_load: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
