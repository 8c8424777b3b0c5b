// raw_epoll_http_server: the floor of tools/bench's HTTP table —
// examples/http_hello's answers (examples/http_hello_handler.h: the same
// code) served by a hand-written, single-thread, level-triggered epoll loop
// with nothing between the syscalls: no futures, no wakers, no timers, no
// run queue.
//
//   raw_epoll_http_server
//   listening on 127.0.0.1:PORT (raw_epoll)
//
// Takes no arguments: listens on 127.0.0.1, an ephemeral port, and prints
// the line above once it does (as http_hello prints its own), then serves
// until killed. tools/bench pins the process to the server core.
//
// Per readable connection, what http_hello does per read: one read into the
// connection's buffer, every complete request answered into one output
// buffer, one write. A partial write keeps the rest for the connection,
// which then waits for EPOLLOUT and reads nothing meanwhile (the
// backpressure of http_hello's read-then-write loop); once it is written,
// the requests still in the buffer are answered before the next read. A
// connection that must close is shut down for writing and closed when the
// client closes (no deadline for that: this is a floor to measure against,
// not a server to deploy).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "examples/http_hello_handler.h"
#include "examples/http_request.h"

namespace {

namespace http = polyio::examples::http;

// As http_hello's.
constexpr size_t kOutputSize = 16 * 1024;

struct Connection {
  // Uninitialised (make_unique_for_overwrite below): only bytes a read
  // wrote are looked at.
  char in[http::kMaxRequestSize];
  size_t have = 0;     // bytes in `in`
  std::string unsent;  // the rest of a partial write
  bool close_after_unsent = false;
  bool draining = false;  // shut down for writing; waiting for the client
};

class Server {
 public:
  Server(int listen_fd, int epoll_fd)
      : listen_fd_(listen_fd), epoll_fd_(epoll_fd) {}

  void Run() {
    epoll_event events[256];
    for (;;) {
      const int n = epoll_wait(epoll_fd_, events, 256, -1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return;
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == listen_fd_) {
          AcceptAll();
        } else {
          OnReady(fd);
        }
      }
    }
  }

 private:
  void AcceptAll() {
    for (;;) {
      const int fd =
          accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      if (static_cast<size_t>(fd) >= connections_.size()) {
        connections_.resize(fd + 1);
      }
      connections_[fd] = std::make_unique_for_overwrite<Connection>();
      Watch(EPOLL_CTL_ADD, fd, EPOLLIN);
    }
  }

  void Watch(int op, int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, op, fd, &ev);
  }

  void Drop(int fd) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    connections_[fd].reset();
  }

  void OnReady(int fd) {
    Connection& c = *connections_[fd];
    if (!c.unsent.empty()) {  // EPOLLOUT: finish the partial write
      const ssize_t w = write(fd, c.unsent.data(), c.unsent.size());
      if (w < 0 && errno != EAGAIN) return Drop(fd);
      if (w > 0) c.unsent.erase(0, w);
      if (!c.unsent.empty()) return;
      Watch(EPOLL_CTL_MOD, fd, EPOLLIN);
      if (c.close_after_unsent) return StartClose(fd, c);
      return Answer(fd, c);
    }
    if (c.draining) {  // discard until the client closes
      const ssize_t r = read(fd, c.in, sizeof(c.in));
      if (r < 0 && errno == EAGAIN) return;
      if (r <= 0) Drop(fd);
      return;
    }
    const ssize_t r = read(fd, c.in + c.have, sizeof(c.in) - c.have);
    if (r < 0 && errno == EAGAIN) return;
    if (r <= 0) return Drop(fd);
    c.have += r;
    Answer(fd, c);
  }

  // Answers the requests in c.in, writing as it goes.
  void Answer(int fd, Connection& c) {
    std::string_view pending(c.in, c.have);
    for (;;) {
      const http::Answered a = http::AnswerRequests(pending, out_);
      pending.remove_prefix(a.consumed);
      if (a.produced > 0) {
        const ssize_t w = write(fd, out_, a.produced);
        if (w < 0 && errno != EAGAIN) return Drop(fd);
        const size_t written = w > 0 ? static_cast<size_t>(w) : 0;
        if (written < a.produced) {
          c.unsent.assign(out_ + written, a.produced - written);
          c.close_after_unsent = a.next == http::Next::kClose;
          Keep(c, pending);
          Watch(EPOLL_CTL_MOD, fd, EPOLLOUT);
          return;
        }
      }
      if (a.next == http::Next::kClose) return StartClose(fd, c);
      if (a.next == http::Next::kRead) return Keep(c, pending);
    }
  }

  // The unanswered bytes move to the start of the buffer.
  static void Keep(Connection& c, std::string_view pending) {
    std::memmove(c.in, pending.data(), pending.size());
    c.have = pending.size();
  }

  void StartClose(int fd, Connection& c) {
    shutdown(fd, SHUT_WR);
    c.draining = true;
  }

  const int listen_fd_;
  const int epoll_fd_;
  std::vector<std::unique_ptr<Connection>> connections_;
  char out_[kOutputSize];  // the answers to one read, shared: one thread
};

}  // namespace

int main() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      listen(fd, 4096) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("raw_epoll_http_server: listen 127.0.0.1:0");
    return 1;
  }
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) {
    std::perror("raw_epoll_http_server: epoll_create1");
    return 1;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  std::printf("listening on 127.0.0.1:%u (raw_epoll)\n",
              static_cast<unsigned>(ntohs(addr.sin_port)));
  std::fflush(stdout);
  Server server(fd, epoll_fd);
  server.Run();
  return 1;
}
