// The libuv echo server behind //benchmarks/peers:libuv_echo_bench
// (StartServerUnderTest, benchmarks/echo_server_under_test.h).
//
// libuv's own echo example (docs/code/tcp-echo-server) mallocs a buffer per
// read and a request per uv_write. Written for speed instead, the way
// Node.js drives libuv: a 64 KiB buffer per connection, handed out by the
// alloc callback, and each reply sent with uv_try_write, which writes at
// once and queues nothing. Only what the kernel did not take goes out with
// uv_write (one request per connection, from the same buffer), and the
// connection stops reading until that write is done: the backpressure the
// raw servers have too. Why not uv_write for every reply: it makes the same
// write(2) at once, but its callback runs a loop turn later, and on the way
// libuv drains the stream's write queue with uv__io_stop(POLLOUT), which
// re-queues the fd's epoll watcher even though its mask did not change:
// one extra epoll_ctl(EPOLL_CTL_MOD) per message (strace of the server
// thread, libuv 1.44). uv_try_write makes neither.
// libuv 1.44 uses epoll on Linux. One loop on one thread, pinned to the
// server core; uv_async_send stops it.
#include <arpa/inet.h>
#include <uv.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "benchmarks/affinity.h"
#include "benchmarks/echo_server_under_test.h"

namespace polyio::bench {
namespace {

struct Conn {
  uv_tcp_t tcp;          // tcp.data points back here
  uv_write_t write_req;  // in flight only while reading is stopped
  // 64 KiB, as polyio's echo service and the raw servers read at most; not
  // zero-filled (new char[], as examples/echo_service.cc), which would cost
  // ~65,000 instructions per connection under callgrind.
  static constexpr size_t kBufSize = 64 * 1024;
  std::unique_ptr<char[]> buf{new char[kBufSize]};
};

void OnClosed(uv_handle_t* handle) { delete static_cast<Conn*>(handle->data); }

void Close(Conn* c) {
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&c->tcp))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), OnClosed);
  }
}

void OnAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  Conn* c = static_cast<Conn*>(handle->data);
  *buf = uv_buf_init(c->buf.get(), static_cast<unsigned>(Conn::kBufSize));
}

void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t*);

// Runs before the close callback, also for a write cancelled by uv_close
// (UV_ECANCELED), so the connection is still alive here.
void OnWritten(uv_write_t* req, int status) {
  Conn* c = static_cast<Conn*>(req->data);
  if (status < 0) {
    Close(c);
    return;
  }
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), OnAlloc, OnRead);
}

void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
  Conn* c = static_cast<Conn*>(stream->data);
  if (nread < 0) {  // UV_EOF or an error
    Close(c);
    return;
  }
  if (nread == 0) return;  // EAGAIN
  uv_buf_t out = uv_buf_init(c->buf.get(), static_cast<unsigned>(nread));
  int sent = uv_try_write(stream, &out, 1);
  if (sent == nread) return;  // the common case: all of it in the kernel
  if (sent == UV_EAGAIN) sent = 0;
  if (sent < 0) {
    Close(c);
    return;
  }
  out = uv_buf_init(c->buf.get() + sent, static_cast<unsigned>(nread - sent));
  c->write_req.data = c;
  if (uv_write(&c->write_req, stream, &out, 1, OnWritten) != 0) {
    Close(c);
    return;
  }
  uv_read_stop(stream);
}

void OnConnection(uv_stream_t* server, int status) {
  if (status < 0) return;
  Conn* c = new Conn;
  uv_tcp_init(server->loop, &c->tcp);
  c->tcp.data = c;
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
    Close(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), OnAlloc, OnRead);
}

// Closes every handle (connections free themselves in OnClosed); uv_run
// then returns, having no active handle left.
void OnStop(uv_async_t* async) {
  uv_walk(
      async->loop,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h))
          uv_close(h, h->data != nullptr ? OnClosed : nullptr);
      },
      nullptr);
}

class LibuvEchoServer : public BenchEchoServer {
 public:
  static absl::StatusOr<std::unique_ptr<LibuvEchoServer>> Start() {
    auto s = std::unique_ptr<LibuvEchoServer>(new LibuvEchoServer);
    if (int err = uv_loop_init(&s->loop_); err != 0) {
      return absl::UnavailableError(
          absl::StrCat("libuv server: uv_loop_init: ", uv_strerror(err)));
    }
    s->loop_ok_ = true;
    uv_tcp_init(&s->loop_, &s->listener_);
    uv_async_init(&s->loop_, &s->stop_, OnStop);
    s->listener_.data = nullptr;
    s->stop_.data = nullptr;
    sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    int err = uv_tcp_bind(&s->listener_, reinterpret_cast<sockaddr*>(&addr), 0);
    if (err == 0) {
      // as the raw servers
      err = uv_listen(reinterpret_cast<uv_stream_t*>(&s->listener_), 4096,
                      OnConnection);
    }
    int len = sizeof(addr);
    if (err == 0) {
      err = uv_tcp_getsockname(&s->listener_,
                               reinterpret_cast<sockaddr*>(&addr), &len);
    }
    if (err != 0) {
      return absl::UnavailableError(
          absl::StrCat("libuv server: listen 127.0.0.1:0: ", uv_strerror(err)));
    }
    s->port_ = ntohs(addr.sin_port);
    s->thread_ = std::thread([loop = &s->loop_] {
      PinCurrentThread(Role::kServer);
      uv_run(loop, UV_RUN_DEFAULT);
    });
    return s;
  }

  ~LibuvEchoServer() override {
    if (!loop_ok_) return;
    if (thread_.joinable()) {
      uv_async_send(&stop_);  // the one libuv call that is thread-safe
      thread_.join();
    } else {  // Start failed: close the handles on this thread
      OnStop(&stop_);
      uv_run(&loop_, UV_RUN_DEFAULT);
    }
    uv_loop_close(&loop_);
  }

  uint16_t port() const override { return port_; }
  std::string name() const override { return "libuv"; }

 private:
  LibuvEchoServer() = default;

  uv_loop_t loop_;
  bool loop_ok_ = false;
  uv_tcp_t listener_;
  uv_async_t stop_;
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<BenchEchoServer>> StartServerUnderTest() {
  absl::StatusOr<std::unique_ptr<LibuvEchoServer>> s = LibuvEchoServer::Start();
  if (!s.ok()) return s.status();
  return std::unique_ptr<BenchEchoServer>(std::move(*s));
}

}  // namespace polyio::bench
