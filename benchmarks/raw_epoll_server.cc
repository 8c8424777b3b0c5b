// The raw epoll echo server (raw_epoll_server.h).
#include "benchmarks/raw_epoll_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "benchmarks/affinity.h"

namespace polyio::bench {

absl::StatusOr<int> ListenLoopback(uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      listen(fd, 4096) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    close(fd);
    return absl::ErrnoToStatus(err, "listen 127.0.0.1:0");
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

absl::StatusOr<std::unique_ptr<RawEpollEchoServer>>
RawEpollEchoServer::Start() {
  auto server = std::unique_ptr<RawEpollEchoServer>(new RawEpollEchoServer);
  absl::StatusOr<int> fd = ListenLoopback(&server->port_);
  if (!fd.ok()) return fd.status();
  server->listen_fd_ = *fd;
  server->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  server->stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (server->epoll_fd_ < 0 || server->stop_fd_ < 0) {
    return absl::ErrnoToStatus(errno, "epoll_create1/eventfd");
  }
  for (int f : {server->listen_fd_, server->stop_fd_}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = f;
    epoll_ctl(server->epoll_fd_, EPOLL_CTL_ADD, f, &ev);
  }
  server->thread_ = std::thread(&RawEpollEchoServer::Run, server.get());
  return server;
}

RawEpollEchoServer::~RawEpollEchoServer() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(stop_fd_, &one, sizeof(one));
    thread_.join();
  }
  for (int fd : {listen_fd_, epoll_fd_, stop_fd_}) {
    if (fd >= 0) close(fd);
  }
}

void RawEpollEchoServer::Run() {
  PinCurrentThread(Role::kServer);
  // Bytes a partial write left behind, per fd.
  std::vector<std::string> pending;
  std::vector<bool> open;
  std::vector<char> buf(64 * 1024);
  epoll_event events[256];
  auto set_interest = [&](int fd, uint32_t interest) {
    epoll_event ev{};
    ev.events = interest;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
  };
  auto drop = [&](int fd) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    pending[fd].clear();
    open[fd] = false;
  };
  for (;;) {
    int n = epoll_wait(epoll_fd_, events, 256, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == stop_fd_) {
        // Connections still open at shutdown (normally none: the load
        // generator closes its side first).
        for (size_t c = 0; c < open.size(); ++c) {
          if (open[c]) close(static_cast<int>(c));
        }
        return;
      }
      if (fd == listen_fd_) {
        for (;;) {
          int c = accept4(listen_fd_, nullptr, nullptr,
                          SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          int one = 1;
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          if (static_cast<size_t>(c) >= pending.size()) {
            pending.resize(c + 1);
            open.resize(c + 1);
          }
          open[c] = true;
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.fd = c;
          epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c, &ev);
        }
        continue;
      }
      std::string& rest = pending[fd];
      if (!rest.empty()) {  // EPOLLOUT: finish the partial write
        ssize_t w = write(fd, rest.data(), rest.size());
        if (w < 0 && errno != EAGAIN) {
          drop(fd);
        } else if (w > 0) {
          rest.erase(0, w);
          if (rest.empty()) set_interest(fd, EPOLLIN);
        }
        continue;
      }
      ssize_t r = read(fd, buf.data(), buf.size());
      if (r < 0 && errno == EAGAIN) continue;
      if (r <= 0) {
        drop(fd);
        continue;
      }
      ssize_t w = write(fd, buf.data(), r);
      if (w < 0 && errno != EAGAIN) {
        drop(fd);
        continue;
      }
      if (w < r) {
        rest.assign(buf.data() + (w > 0 ? w : 0), r - (w > 0 ? w : 0));
        set_interest(fd, EPOLLOUT);
      }
    }
  }
}

}  // namespace polyio::bench
