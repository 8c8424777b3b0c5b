// The shared ping-pong load generator (load_generator.h).
#include "benchmarks/load_generator.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace polyio::bench {

constexpr int kNoProgressTimeoutMs = 5000;

absl::StatusOr<std::unique_ptr<LoadGenerator>> LoadGenerator::Connect(
    uint16_t port, int connections, size_t message_size) {
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return absl::ErrnoToStatus(errno, "epoll_create1");
  auto gen =
      std::unique_ptr<LoadGenerator>(new LoadGenerator(epoll_fd, message_size));
  gen->buf_.resize(message_size);
  gen->conns_.resize(connections);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  for (int i = 0; i < connections; ++i) {
    // Blocking connect: on loopback it completes from the listen backlog,
    // whether or not the server has accepted yet.
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("socket #", i));
    }
    gen->conns_[i].fd = fd;
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return absl::ErrnoToStatus(
          errno, absl::StrCat("connect #", i, " to 127.0.0.1:", port));
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
      return absl::ErrnoToStatus(errno, "epoll_ctl");
    }
  }
  return gen;
}

LoadGenerator::~LoadGenerator() {
  for (Conn& c : conns_) {
    if (c.fd >= 0) close(c.fd);
  }
  close(epoll_fd_);
}

void LoadGenerator::SetWriteInterest(Conn& c, bool on) {
  if (c.want_write == on) return;
  c.want_write = on;
  epoll_event ev{};
  ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
  ev.data.u32 = static_cast<uint32_t>(&c - conns_.data());
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
}

absl::Status LoadGenerator::Send(Conn& c) {
  message_[0] = static_cast<char>(c.seq);
  while (c.sent < message_.size()) {
    ssize_t n = write(c.fd, message_.data() + c.sent, message_.size() - c.sent);
    if (n < 0 && errno == EAGAIN) {
      SetWriteInterest(c, true);
      return absl::OkStatus();
    }
    if (n < 0) return absl::ErrnoToStatus(errno, "load generator: write");
    c.sent += n;
  }
  SetWriteInterest(c, false);
  return absl::OkStatus();
}

absl::Status LoadGenerator::Receive(Conn& c) {
  for (;;) {
    size_t want = message_.size() - c.received;
    ssize_t n = read(c.fd, buf_.data(), want);
    if (n < 0 && errno == EAGAIN) return absl::OkStatus();
    if (n < 0) return absl::ErrnoToStatus(errno, "load generator: read");
    if (n == 0) {
      return absl::UnavailableError("load generator: the server closed");
    }
    if (c.received == 0 && static_cast<uint8_t>(buf_[0]) != c.seq) {
      return absl::DataLossError("load generator: reply out of sequence");
    }
    c.received += n;
    if (c.received < message_.size()) continue;
    if (c.sent < message_.size()) {
      return absl::DataLossError("load generator: reply before request");
    }
    ++completed_;
    ++c.seq;
    c.sent = c.received = 0;
    return Send(c);
  }
}

absl::Status LoadGenerator::Run(uint64_t messages) {
  if (!started_) {
    started_ = true;
    for (Conn& c : conns_) {
      if (absl::Status s = Send(c); !s.ok()) return s;
    }
  }
  uint64_t target = completed_ + messages;
  epoll_event events[1024];
  while (completed_ < target) {
    int n = epoll_wait(epoll_fd_, events, 1024, kNoProgressTimeoutMs);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, "epoll_wait");
    if (n == 0) {
      return absl::DeadlineExceededError(absl::StrCat(
          "load generator: no reply for ", kNoProgressTimeoutMs, " ms"));
    }
    for (int i = 0; i < n; ++i) {
      Conn& c = conns_[events[i].data.u32];
      if (events[i].events & EPOLLOUT) {
        if (absl::Status s = Send(c); !s.ok()) return s;
      }
      if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        if (absl::Status s = Receive(c); !s.ok()) return s;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace polyio::bench
