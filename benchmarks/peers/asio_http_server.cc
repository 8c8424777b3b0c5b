// asio_http_server: examples/http_hello's answers (http_hello_handler.h,
// the same code) served by Boost.Asio — rows of tools/bench's HTTP table.
//
//   asio_epoll_http_server        (or asio_io_uring_http_server)
//   listening on 127.0.0.1:PORT (asio_epoll)
//
// No arguments; listens on 127.0.0.1, an ephemeral port, prints the line
// above once it does, serves until killed. tools/bench pins the process to
// the server core.
//
// Written as asio_echo_server.cc is, after Asio's own examples: one session
// object per connection, shared by its handlers through shared_from_this,
// with its input and output buffers; async_read_some, every complete
// request answered into the output buffer, async_write, then the next read
// (or the requests still in the buffer first). A connection that must close
// is shut down for sending and closed when the client closes. One
// io_context with concurrency hint 1, run by the main thread.
//
// Compiled twice, as the echo server is: with Asio's defaults (the epoll
// reactor) and with BOOST_ASIO_HAS_IO_URING + BOOST_ASIO_DISABLE_EPOLL
// (BUILD.bazel); the #if checks that each build gets its backend.
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string_view>

#include "boost/asio.hpp"
#include "examples/http_hello_handler.h"
#include "examples/http_request.h"

#if defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#define POLYIO_ASIO_SERVER_NAME "asio_io_uring"
#elif defined(BOOST_ASIO_HAS_EPOLL) && !defined(BOOST_ASIO_HAS_IO_URING)
#define POLYIO_ASIO_SERVER_NAME "asio_epoll"
#else
#error "build with Asio's epoll reactor, or with io_uring as its default"
#endif

namespace {

namespace asio = boost::asio;
namespace http = polyio::examples::http;
using asio::ip::tcp;
using boost::system::error_code;

constexpr size_t kOutputSize = 16 * 1024;  // as http_hello's

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : socket_(std::move(socket)) {}

  void Start() { Read(); }

 private:
  void Read() {
    auto self = shared_from_this();
    socket_.async_read_some(
        asio::buffer(in_ + have_, sizeof(in_) - have_),
        [this, self](error_code ec, size_t n) {
          if (ec) return;  // the client closed, or an error: the session ends
          have_ += n;
          Answer();
        });
  }

  // Answers the requests in in_; one write at a time.
  void Answer() {
    std::string_view pending(in_, have_);
    const http::Answered a = http::AnswerRequests(pending, out_);
    pending.remove_prefix(a.consumed);
    std::memmove(in_, pending.data(), pending.size());
    have_ = pending.size();
    if (a.produced == 0) return Next(a.next);
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(out_, a.produced),
                      [this, self, next = a.next](error_code ec, size_t) {
                        if (!ec) Next(next);
                      });
  }

  void Next(http::Next next) {
    switch (next) {
      case http::Next::kRead:
        return Read();
      case http::Next::kOutputFull:
        return Answer();
      case http::Next::kClose: {
        error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_send, ignored);
        return Drain();
      }
    }
  }

  // Discards until the client closes; the session then ends.
  void Drain() {
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(in_),
                            [this, self](error_code ec, size_t) {
                              if (!ec) Drain();
                            });
  }

  tcp::socket socket_;
  // Uninitialised (the constructor does not name them): only bytes a read
  // or an answer wrote are looked at.
  char in_[http::kMaxRequestSize];
  char out_[kOutputSize];
  size_t have_ = 0;  // bytes in in_
};

void Accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](error_code ec, tcp::socket socket) {
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(socket))->Start();
    }
    Accept(acceptor);
  });
}

}  // namespace

int main() {
  try {
    asio::io_context ctx(BOOST_ASIO_CONCURRENCY_HINT_1);
    tcp::acceptor acceptor(ctx);
    tcp::endpoint loopback(asio::ip::address_v4::loopback(), 0);
    acceptor.open(loopback.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(loopback);
    acceptor.listen(4096);
    std::printf("listening on 127.0.0.1:%u (%s)\n",
                static_cast<unsigned>(acceptor.local_endpoint().port()),
                POLYIO_ASIO_SERVER_NAME);
    std::fflush(stdout);
    Accept(acceptor);
    ctx.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s_http_server: %s\n", POLYIO_ASIO_SERVER_NAME,
                 e.what());
  }
  return 1;
}
