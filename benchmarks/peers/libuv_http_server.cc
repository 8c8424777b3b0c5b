// libuv_http_server: examples/http_hello's answers (http_hello_handler.h,
// the same code) served by libuv — a row of tools/bench's HTTP table.
//
//   libuv_http_server
//   listening on 127.0.0.1:PORT (libuv)
//
// No arguments; listens on 127.0.0.1, an ephemeral port, prints the line
// above once it does, serves until killed. One loop on one thread (libuv
// 1.44: epoll); tools/bench pins the process to the server core.
//
// Written for speed as libuv_echo_server.cc is (read there why): per
// connection one input and one output buffer, the alloc callback hands out
// the free end of the input buffer, and the answers to one read go out with
// uv_try_write; only what the kernel did not take goes out with uv_write,
// and reading stops until it is written (then the requests still in the
// buffer are answered first). A connection that must close is shut down
// (uv_shutdown) and closed when the client closes.
#include <arpa/inet.h>
#include <uv.h>

#include <cstdio>
#include <cstring>
#include <string_view>

#include "examples/http_hello_handler.h"
#include "examples/http_request.h"

namespace {

namespace http = polyio::examples::http;

constexpr size_t kOutputSize = 16 * 1024;  // as http_hello's

struct Conn {
  uv_tcp_t tcp;  // tcp.data points back here
  uv_write_t write_req;
  uv_shutdown_t shutdown_req;
  // Uninitialised (`new Conn`, not `new Conn()`): only bytes a read or an
  // answer wrote are looked at.
  char in[http::kMaxRequestSize];
  char out[kOutputSize];
  size_t have = 0;  // bytes in `in`
  bool reading = false;
  bool close_after_write = false;  // the pending uv_write ends with a close
  bool draining = false;  // shut down; discarding until the client closes
};

uv_stream_t* Stream(Conn* c) { return reinterpret_cast<uv_stream_t*>(&c->tcp); }

void OnClosed(uv_handle_t* handle) { delete static_cast<Conn*>(handle->data); }

void Close(Conn* c) {
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&c->tcp))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), OnClosed);
  }
}

void OnAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  Conn* c = static_cast<Conn*>(handle->data);
  if (c->draining) {
    *buf = uv_buf_init(c->in, sizeof(c->in));
    return;
  }
  *buf = uv_buf_init(c->in + c->have,
                     static_cast<unsigned>(sizeof(c->in) - c->have));
}

void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t*);

void StartReading(Conn* c) {
  if (c->reading) return;
  c->reading = true;
  uv_read_start(Stream(c), OnAlloc, OnRead);
}

void StopReading(Conn* c) {
  c->reading = false;
  uv_read_stop(Stream(c));
}

void OnShutdown(uv_shutdown_t* req, int status) {
  if (status < 0) Close(static_cast<Conn*>(req->data));
}

// After the last answer: shut down, then discard until the client closes.
void StartClose(Conn* c) {
  c->draining = true;
  c->shutdown_req.data = c;
  if (uv_shutdown(&c->shutdown_req, Stream(c), OnShutdown) != 0) {
    return Close(c);
  }
  StartReading(c);
}

void Answer(Conn* c);

// Runs before the close callback, also for a write cancelled by uv_close.
void OnWritten(uv_write_t* req, int status) {
  Conn* c = static_cast<Conn*>(req->data);
  if (status < 0) return Close(c);
  if (c->close_after_write) return StartClose(c);
  Answer(c);  // the requests still in the buffer, then read again
}

// Answers the requests in c->in, writing as it goes.
void Answer(Conn* c) {
  std::string_view pending(c->in, c->have);
  for (;;) {
    const http::Answered a = http::AnswerRequests(pending, c->out);
    pending.remove_prefix(a.consumed);
    if (a.produced > 0) {
      uv_buf_t buf = uv_buf_init(c->out, static_cast<unsigned>(a.produced));
      int sent = uv_try_write(Stream(c), &buf, 1);
      if (sent == UV_EAGAIN) sent = 0;
      if (sent < 0) return Close(c);
      if (static_cast<size_t>(sent) < a.produced) {
        // The rest goes out with uv_write, from the output buffer; reading
        // stops until it is written, and OnWritten goes on from here.
        std::memmove(c->in, pending.data(), pending.size());
        c->have = pending.size();
        c->close_after_write = a.next == http::Next::kClose;
        StopReading(c);
        buf = uv_buf_init(c->out + sent,
                          static_cast<unsigned>(a.produced - sent));
        c->write_req.data = c;
        if (uv_write(&c->write_req, Stream(c), &buf, 1, OnWritten) != 0) {
          Close(c);
        }
        return;
      }
    }
    if (a.next == http::Next::kClose) return StartClose(c);
    if (a.next == http::Next::kRead) {
      std::memmove(c->in, pending.data(), pending.size());
      c->have = pending.size();
      return StartReading(c);
    }
  }
}

void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
  Conn* c = static_cast<Conn*>(stream->data);
  if (nread < 0) return Close(c);         // UV_EOF or an error
  if (nread == 0 || c->draining) return;  // EAGAIN, or discarded
  c->have += static_cast<size_t>(nread);
  Answer(c);
}

void OnConnection(uv_stream_t* server, int status) {
  if (status < 0) return;
  Conn* c = new Conn;
  uv_tcp_init(server->loop, &c->tcp);
  c->tcp.data = c;
  if (uv_accept(server, Stream(c)) != 0) return Close(c);
  uv_tcp_nodelay(&c->tcp, 1);
  StartReading(c);
}

}  // namespace

int main() {
  uv_loop_t* loop = uv_default_loop();
  uv_tcp_t listener;
  uv_tcp_init(loop, &listener);
  sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", 0, &addr);
  int err = uv_tcp_bind(&listener, reinterpret_cast<sockaddr*>(&addr), 0);
  if (err == 0) {
    err = uv_listen(reinterpret_cast<uv_stream_t*>(&listener), 4096,
                    OnConnection);
  }
  int len = sizeof(addr);
  if (err == 0) {
    err =
        uv_tcp_getsockname(&listener, reinterpret_cast<sockaddr*>(&addr), &len);
  }
  if (err != 0) {
    std::fprintf(stderr, "libuv_http_server: listen 127.0.0.1:0: %s\n",
                 uv_strerror(err));
    return 1;
  }
  std::printf("listening on 127.0.0.1:%u (libuv)\n",
              static_cast<unsigned>(ntohs(addr.sin_port)));
  std::fflush(stdout);
  uv_run(loop, UV_RUN_DEFAULT);
  return 1;
}
