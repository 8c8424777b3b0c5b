// The Boost.Asio C++20-coroutine echo server behind //benchmarks/peers:
// asio_coro_echo_bench (StartServerUnderTest, echo_server_under_test.h).
//
// Written as Asio's own example (cpp20/coroutines/echo_server.cpp): a
// listener coroutine co_spawns one awaitable per connection, which loops
// co_await async_read_some / co_await async_write with use_awaitable and a
// buffer in its frame; the end of the stream arrives as an exception, caught
// once per connection, never per message. Epoll reactor (Asio's default on
// Linux), io_context with concurrency hint 1, one thread pinned to the
// server core.
#include <exception>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "benchmarks/affinity.h"
#include "benchmarks/echo_server_under_test.h"
#include "boost/asio.hpp"

namespace polyio::bench {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

awaitable<void> Echo(tcp::socket socket) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  // 64 KiB, as polyio's echo service and the raw servers read at most.
  char data[64 * 1024];
  try {
    for (;;) {
      size_t n =
          co_await socket.async_read_some(asio::buffer(data), use_awaitable);
      co_await asio::async_write(socket, asio::buffer(data, n), use_awaitable);
    }
  } catch (const std::exception&) {
    // End of stream or a connection error: this connection is done.
  }
}

awaitable<void> Listen(tcp::acceptor& acceptor) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
    asio::co_spawn(acceptor.get_executor(), Echo(std::move(socket)),
                   asio::detached);
  }
}

class AsioCoroEchoServer : public BenchEchoServer {
 public:
  AsioCoroEchoServer() : ctx_(BOOST_ASIO_CONCURRENCY_HINT_1), acceptor_(ctx_) {
    tcp::endpoint loopback(asio::ip::address_v4::loopback(), 0);
    acceptor_.open(loopback.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(loopback);
    acceptor_.listen(4096);  // as the raw servers
    port_ = acceptor_.local_endpoint().port();
    // An accept error ends the listener (detached: nothing to report to).
    asio::co_spawn(ctx_, Listen(acceptor_), asio::detached);
    thread_ = std::thread([this] {
      PinCurrentThread(Role::kServer);
      ctx_.run();
    });
  }

  // io_context::stop is thread-safe; the coroutines still suspended are
  // destroyed with ctx_, after the join.
  ~AsioCoroEchoServer() override {
    ctx_.stop();
    thread_.join();
  }

  uint16_t port() const override { return port_; }
  std::string name() const override { return "asio_coro"; }

 private:
  asio::io_context ctx_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<BenchEchoServer>> StartServerUnderTest() {
  try {
    return std::make_unique<AsioCoroEchoServer>();
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("asio_coro server: ", e.what()));
  }
}

}  // namespace polyio::bench
