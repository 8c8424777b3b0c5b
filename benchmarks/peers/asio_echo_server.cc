// The Boost.Asio callback echo server behind //benchmarks/peers:
// asio_epoll_echo_bench and asio_io_uring_echo_bench (StartServerUnderTest,
// benchmarks/echo_server_under_test.h).
//
// Written as Asio's own example (cpp11/echo/async_tcp_echo_server.cpp): one
// session object per connection, shared by its handlers through
// shared_from_this, a per-connection buffer, async_read_some then
// async_write of what was read. One io_context with concurrency hint 1 (the
// documented hint for an io_context run by one thread), run by one thread
// pinned to the server core. Handler memory comes from Asio's default
// per-thread recycling allocator, which does what the custom allocator of
// the cpp11/allocation example does by hand.
//
// The same file is compiled twice: with Asio's defaults (the epoll reactor
// on Linux) and with BOOST_ASIO_HAS_IO_URING + BOOST_ASIO_DISABLE_EPOLL,
// which makes io_uring the default backend for sockets (BUILD.bazel). The
// #if below makes sure each build really gets the backend it is named for.
#include <array>
#include <exception>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "benchmarks/affinity.h"
#include "benchmarks/echo_server_under_test.h"
#include "boost/asio.hpp"

#if defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#define POLYIO_ASIO_SERVER_NAME "asio_io_uring"
#elif defined(BOOST_ASIO_HAS_EPOLL) && !defined(BOOST_ASIO_HAS_IO_URING)
#define POLYIO_ASIO_SERVER_NAME "asio_epoll"
#else
#error "build with Asio's epoll reactor, or with io_uring as its default"
#endif

namespace polyio::bench {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : socket_(std::move(socket)) {}

  void Start() { Read(); }

 private:
  void Read() {
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(data_),
                            [this, self](error_code ec, size_t n) {
                              if (!ec) Write(n);
                            });
  }

  void Write(size_t n) {
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(data_.data(), n),
                      [this, self](error_code ec, size_t) {
                        if (!ec) Read();
                      });
  }

  tcp::socket socket_;
  // 64 KiB, as polyio's echo service and the raw servers read at most.
  std::array<char, 64 * 1024> data_;
};

class AsioEchoServer : public BenchEchoServer {
 public:
  // Throws boost::system::system_error, e.g. when io_uring is refused.
  AsioEchoServer() : ctx_(BOOST_ASIO_CONCURRENCY_HINT_1), acceptor_(ctx_) {
    tcp::endpoint loopback(asio::ip::address_v4::loopback(), 0);
    acceptor_.open(loopback.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(loopback);
    acceptor_.listen(4096);  // as the raw servers
    port_ = acceptor_.local_endpoint().port();
    Accept();
    thread_ = std::thread([this] {
      PinCurrentThread(Role::kServer);
      ctx_.run();
    });
  }

  // io_context::stop is thread-safe; the sessions still open are destroyed
  // with the handlers that own them when ctx_ is destroyed, after the join.
  ~AsioEchoServer() override {
    ctx_.stop();
    thread_.join();
  }

  uint16_t port() const override { return port_; }
  std::string name() const override { return POLYIO_ASIO_SERVER_NAME; }

 private:
  void Accept() {
    acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        socket.set_option(tcp::no_delay(true), ec);
        std::make_shared<Session>(std::move(socket))->Start();
      }
      Accept();
    });
  }

  asio::io_context ctx_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<BenchEchoServer>> StartServerUnderTest() {
  try {
    return std::make_unique<AsioEchoServer>();
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat(POLYIO_ASIO_SERVER_NAME, " server: ", e.what()));
  }
}

}  // namespace polyio::bench
