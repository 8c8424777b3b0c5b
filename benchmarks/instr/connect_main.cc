// instr_connect: the client of tools/bench --instr's per-connection figure,
// a normal (uninstrumented) process pinned to the client core.
//
//   instr_connect PORT SERVER_PID COUNT...
//
// Runs connection cycles against 127.0.0.1:PORT, one at a time, each in
// lockstep with the server: connect; wait until the server has accepted
// (its process holds one socket more than at the start) and is idle (none of
// its threads is running); shutdown(SHUT_WR), so the server reads end of
// file without having been sent a byte; read the server's end of file (it
// has closed its side); close; wait until the server holds no more sockets
// than at the start and is idle again. So every connection costs the server
// the same work: a wake-up, the accept, whatever parks a task in its first
// read, the wake-up at end of file, the read of 0 bytes and the close — and
// none of it overlaps the next connection.
//
// For each COUNT (a count from the start, non-decreasing) it runs cycles
// until that many have completed and prints "connected <n> <seconds>", then
// waits for a line on stdin before the next count (tools/bench has callgrind
// dump the server's counters meanwhile); at end of file it exits. Exit 1
// with the reason on stderr on any error; a server that makes no progress
// for 5 s is one. Reads the server's state from /proc/SERVER_PID (fd/ and
// task/*/stat), so it runs on Linux only.
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "benchmarks/affinity.h"

namespace polyio::bench {
namespace {

using Clock = std::chrono::steady_clock;

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

// The server's sockets (fds that are sockets) and whether any of its
// threads is running or runnable (state R in /proc/PID/task/TID/stat).
struct ServerState {
  int sockets = 0;
  bool running = false;
};

absl::StatusOr<ServerState> ReadServerState(int pid) {
  ServerState state;
  std::string fd_dir = absl::StrCat("/proc/", pid, "/fd");
  DIR* fds = opendir(fd_dir.c_str());
  if (fds == nullptr) return absl::ErrnoToStatus(errno, fd_dir);
  char link[64];
  while (dirent* e = readdir(fds)) {
    if (e->d_name[0] == '.') continue;
    std::string path = absl::StrCat(fd_dir, "/", e->d_name);
    ssize_t n = readlink(path.c_str(), link, sizeof(link) - 1);
    if (n > 0 && std::strncmp(link, "socket:", 7) == 0) ++state.sockets;
  }
  closedir(fds);
  std::string task_dir = absl::StrCat("/proc/", pid, "/task");
  DIR* tasks = opendir(task_dir.c_str());
  if (tasks == nullptr) return absl::ErrnoToStatus(errno, task_dir);
  while (dirent* e = readdir(tasks)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream stat(absl::StrCat(task_dir, "/", e->d_name, "/stat"));
    std::string text((std::istreambuf_iterator<char>(stat)),
                     std::istreambuf_iterator<char>());
    // "tid (comm) S ...": the state follows the last ')'.
    size_t close = text.rfind(')');
    if (close != std::string::npos && close + 2 < text.size() &&
        text[close + 2] == 'R') {
      state.running = true;
    }
  }
  closedir(tasks);
  return state;
}

// Waits until the server holds `sockets` sockets and no thread of it runs,
// seen twice in a row 100 us apart (a wake-up in flight is seen as running
// by the second look at the latest).
absl::Status WaitForServer(int pid, int sockets, const char* what) {
  auto deadline = Clock::now() + std::chrono::seconds(5);
  int calm = 0;
  while (calm < 2) {
    if (Clock::now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("the server made no progress for 5 s (", what, ")"));
    }
    absl::StatusOr<ServerState> s = ReadServerState(pid);
    if (!s.ok()) return s.status();
    calm = (s->sockets == sockets && !s->running) ? calm + 1 : 0;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return absl::OkStatus();
}

// Reads the server's end of file: ok when read returns 0.
absl::Status ReadEof(int fd) {
  char byte;
  for (;;) {
    ssize_t n = read(fd, &byte, 1);
    if (n == 0) return absl::OkStatus();
    if (n > 0) return absl::DataLossError("the server sent a byte");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return absl::DeadlineExceededError("the server did not close within 5 s");
    }
    return absl::ErrnoToStatus(errno, "read");
  }
}

// One connection, up to the server's end of file; the caller closes fd.
absl::Status Connected(int fd, uint16_t port, int pid, int base_sockets) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{5, 0};  // no progress for 5 s: an error, not a hang
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return absl::ErrnoToStatus(errno, "connect");
  }
  if (absl::Status s = WaitForServer(pid, base_sockets + 1, "accept");
      !s.ok()) {
    return s;
  }
  if (shutdown(fd, SHUT_WR) != 0) return absl::ErrnoToStatus(errno, "shutdown");
  return ReadEof(fd);
}

// One connection: connect, accepted, end of file both ways, closed.
absl::Status Cycle(uint16_t port, int pid, int base_sockets) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "socket");
  absl::Status s = Connected(fd, port, pid, base_sockets);
  close(fd);
  if (!s.ok()) return s;
  return WaitForServer(pid, base_sockets, "close");
}

absl::Status Run(uint16_t port, int pid, const std::vector<uint64_t>& counts) {
  auto start = Clock::now();
  absl::StatusOr<ServerState> initial = ReadServerState(pid);
  if (!initial.ok()) return initial.status();
  uint64_t done = 0;
  for (uint64_t count : counts) {
    for (; done < count; ++done) {
      if (absl::Status s = Cycle(port, pid, initial->sockets); !s.ok()) {
        return absl::Status(
            s.code(), absl::StrCat("connection ", done, ": ", s.message()));
      }
    }
    std::chrono::duration<double> took = Clock::now() - start;
    std::printf("connected %llu %.3f\n", static_cast<unsigned long long>(done),
                took.count());
    std::fflush(stdout);
    if (!WaitForNext()) break;
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace polyio::bench

int main(int argc, char** argv) {
  int port = 0, pid = 0;
  std::vector<uint64_t> counts;
  bool ok = argc >= 4 && absl::SimpleAtoi(argv[1], &port) &&
            absl::SimpleAtoi(argv[2], &pid) && port > 0 && port <= 65535 &&
            pid > 0;
  for (int i = 3; ok && i < argc; ++i) {
    uint64_t count;
    ok = absl::SimpleAtoi(argv[i], &count) &&
         (counts.empty() || count >= counts.back());
    counts.push_back(count);
  }
  if (!ok) {
    std::fprintf(stderr,
                 "usage: instr_connect PORT SERVER_PID COUNT... "
                 "(non-decreasing counts)\n");
    return 2;
  }
  polyio::bench::PinCurrentThread(polyio::bench::Role::kClient);
  absl::Status s = polyio::bench::Run(static_cast<uint16_t>(port), pid, counts);
  if (!s.ok()) {
    std::fprintf(stderr, "instr_connect: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
