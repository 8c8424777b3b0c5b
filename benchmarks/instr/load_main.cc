// instr_load: the client side of tools/bench --instr, a normal
// (uninstrumented) process around the shared load generator
// (benchmarks/load_generator.h), pinned to the client core.
//
//   instr_load PORT CONNECTIONS SIZE MESSAGES...
//
// Connects CONNECTIONS sockets to 127.0.0.1:PORT, then, for each MESSAGES
// (a count from the start), runs round trips of SIZE bytes until that many
// have completed, waits until the server has answered every message still
// in flight (the generator keeps one per connection), so that the server is
// idle, and prints "echoed <n> <seconds>": n is the exact number of
// messages the server has echoed since the start (the completed round trips
// plus the in-flight ones it answered; a few more than MESSAGES, because the
// generator finishes the batch of replies it is handling). It then waits for
// a line on stdin before the next count; this is when tools/bench has
// callgrind dump the server's counters. At end of file it exits, closing the
// connections. Exit 1 with the reason on stderr on any error (a server that
// makes no progress for 5 s is one).
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "benchmarks/affinity.h"
#include "benchmarks/bench_context.h"
#include "benchmarks/load_generator.h"

namespace polyio::bench {
namespace {

constexpr int kDrainTimeoutMs = 60'000;

// This process's TCP sockets connected to 127.0.0.1:`port`: the load
// generator's connections (it does not hand out its fds).
std::vector<int> ConnectionsTo(uint16_t port) {
  std::vector<int> fds;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  while (dirent* entry = readdir(dir)) {
    int fd;
    if (!absl::SimpleAtoi(entry->d_name, &fd)) continue;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_in peer{};
    socklen_t len = sizeof(peer);
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0 &&
        peer.sin_family == AF_INET && ntohs(peer.sin_port) == port) {
      fds.push_back(fd);
    }
  }
  closedir(dir);
  return fds;
}

// Waits until each connection has a whole reply (`size` bytes) unread: the
// answer to the message the generator left in flight. On loopback the
// server's single write of a reply arrives as one segment, so "size bytes
// queued" means "answered".
absl::Status DrainInFlight(uint16_t port, int connections, size_t size) {
  std::vector<int> waiting = ConnectionsTo(port);
  if (waiting.size() != static_cast<size_t>(connections)) {
    return absl::InternalError(absl::StrCat(
        "found ", waiting.size(), " connections, expected ", connections));
  }
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(kDrainTimeoutMs);
  for (;;) {
    std::vector<int> still;
    for (int fd : waiting) {
      int queued = 0;
      if (ioctl(fd, FIONREAD, &queued) != 0) {
        return absl::ErrnoToStatus(errno, "ioctl FIONREAD");
      }
      if (static_cast<size_t>(queued) < size) still.push_back(fd);
    }
    waiting.swap(still);
    if (waiting.empty()) return absl::OkStatus();
    if (std::chrono::steady_clock::now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(waiting.size(), " replies still missing after ",
                       kDrainTimeoutMs, " ms"));
    }
    // Sleep until one of them has something new (a partly arrived reply
    // makes this return at once; it completes within microseconds).
    std::vector<pollfd> pfds;
    for (int fd : waiting) pfds.push_back({fd, POLLIN, 0});
    if (poll(pfds.data(), pfds.size(), kDrainTimeoutMs) < 0 && errno != EINTR) {
      return absl::ErrnoToStatus(errno, "poll");
    }
  }
}

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
  absl::StatusOr<std::unique_ptr<LoadGenerator>> gen =
      LoadGenerator::Connect(port, connections, size);
  if (!gen.ok()) return gen.status();
  for (uint64_t count : counts) {
    uint64_t done = (*gen)->completed();
    if (count > done) {
      if (absl::Status s = (*gen)->Run(count - done); !s.ok()) return s;
    }
    if (absl::Status s = DrainInFlight(port, connections, size); !s.ok()) {
      return s;
    }
    std::chrono::duration<double> took =
        std::chrono::steady_clock::now() - start;
    std::printf(
        "echoed %llu %.3f\n",
        static_cast<unsigned long long>((*gen)->completed() + connections),
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
