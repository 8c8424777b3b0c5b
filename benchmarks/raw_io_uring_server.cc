// The raw io_uring echo server (raw_io_uring_server.h).
#include "benchmarks/raw_io_uring_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "benchmarks/affinity.h"
#include "benchmarks/raw_epoll_server.h"

namespace polyio::bench {
namespace {

constexpr uint64_t kAcceptTag = 1;
constexpr uint64_t kStopTag = 2;
constexpr unsigned kEntries = 4096;

}  // namespace

struct RawIoUringEchoServer::Conn {
  int fd;
  bool sending = false;
  size_t len = 0;   // bytes received, to send back
  size_t sent = 0;  // of them, sent
  // Not zero-filled (new char[]): see examples/echo_service.cc.
  static constexpr size_t kBufSize = 64 * 1024;
  std::unique_ptr<char[]> buf{new char[kBufSize]};
};

absl::StatusOr<std::unique_ptr<RawIoUringEchoServer>>
RawIoUringEchoServer::Start() {
  auto server = std::unique_ptr<RawIoUringEchoServer>(new RawIoUringEchoServer);
  if (int err = io_uring_queue_init(kEntries, &server->ring_, 0); err < 0) {
    return absl::ErrnoToStatus(-err, "io_uring_queue_init");
  }
  server->ring_ok_ = true;
  absl::StatusOr<int> fd = ListenLoopback(&server->port_);
  if (!fd.ok()) return fd.status();
  server->listen_fd_ = *fd;
  server->stop_fd_ = eventfd(0, EFD_CLOEXEC);
  if (server->stop_fd_ < 0) return absl::ErrnoToStatus(errno, "eventfd");
  server->thread_ = std::thread(&RawIoUringEchoServer::Run, server.get());
  return server;
}

RawIoUringEchoServer::~RawIoUringEchoServer() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(stop_fd_, &one, sizeof(one));
    thread_.join();
  }
  if (ring_ok_) io_uring_queue_exit(&ring_);
  for (int fd : {listen_fd_, stop_fd_}) {
    if (fd >= 0) close(fd);
  }
}

io_uring_sqe* RawIoUringEchoServer::Sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (sqe == nullptr) {  // the SQ is full: hand the batch over now
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

void RawIoUringEchoServer::Recv(Conn* c) {
  c->sending = false;
  io_uring_sqe* sqe = Sqe();
  io_uring_prep_recv(sqe, c->fd, c->buf.get(), Conn::kBufSize, 0);
  io_uring_sqe_set_data(sqe, c);
}

void RawIoUringEchoServer::Send(Conn* c) {
  c->sending = true;
  io_uring_sqe* sqe = Sqe();
  io_uring_prep_send(sqe, c->fd, c->buf.get() + c->sent, c->len - c->sent,
                     MSG_NOSIGNAL);
  io_uring_sqe_set_data(sqe, c);
}

void RawIoUringEchoServer::Run() {
  PinCurrentThread(Role::kServer);
  std::unordered_set<Conn*> conns;
  auto submit_accept = [&] {
    io_uring_sqe* sqe = Sqe();
    io_uring_prep_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, kAcceptTag);
  };
  submit_accept();
  io_uring_sqe* stop = Sqe();
  io_uring_prep_read(stop, stop_fd_, &stop_value_, sizeof(stop_value_), 0);
  io_uring_sqe_set_data64(stop, kStopTag);
  bool stopping = false;
  while (!stopping) {
    int err = io_uring_submit_and_wait(&ring_, 1);
    if (err < 0 && err != -EINTR) break;
    io_uring_cqe* cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++seen;
      uint64_t tag = io_uring_cqe_get_data64(cqe);
      int res = cqe->res;
      if (tag == kStopTag) {
        stopping = true;
      } else if (tag == kAcceptTag) {
        if (res >= 0) {
          int one = 1;
          setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          Conn* c = new Conn{res};
          conns.insert(c);
          Recv(c);
        }
        submit_accept();
      } else {
        Conn* c = reinterpret_cast<Conn*>(tag);
        if (res <= 0) {  // end of stream or error: the connection is done
          close(c->fd);
          conns.erase(c);
          delete c;
        } else if (!c->sending) {
          c->len = res;
          c->sent = 0;
          Send(c);
        } else {
          c->sent += res;
          if (c->sent < c->len) {
            Send(c);
          } else {
            Recv(c);
          }
        }
      }
    }
    io_uring_cq_advance(&ring_, seen);
  }
  // Operations still in flight reference connections and their buffers:
  // closing the ring (in the destructor) cancels them; free after that.
  io_uring_queue_exit(&ring_);
  ring_ok_ = false;
  for (Conn* c : conns) {
    close(c->fd);
    delete c;
  }
}

}  // namespace polyio::bench
