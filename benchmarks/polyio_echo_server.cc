// The server under test for //benchmarks:echo_bench: examples/echo_service
// (the code of examples/echo_server) on a polyio Runtime in its own thread,
// with the backend this binary was built for (--config=epoll|poll|...).
//
// Stopping: the benchmark thread posts (EventLoop::Post, thread-safe) a
// callback that closes the listener; the pending Accept then completes with
// an error, ServeEcho returns, and BlockOn with it.
#include <future>
#include <thread>

#include "benchmarks/affinity.h"
#include "benchmarks/echo_server_under_test.h"
#include "examples/echo_service.h"
#include "polyio.h"

namespace polyio::bench {
namespace {

class PolyioEchoServer : public BenchEchoServer {
 public:
  static absl::StatusOr<std::unique_ptr<BenchEchoServer>> Start() {
    auto server = std::unique_ptr<PolyioEchoServer>(new PolyioEchoServer);
    std::promise<absl::Status> started;
    std::future<absl::Status> ready = started.get_future();
    server->thread_ =
        std::thread(&PolyioEchoServer::Run, server.get(), std::move(started));
    absl::Status status = ready.get();
    if (!status.ok()) {
      server->thread_.join();
      server->thread_ = std::thread();
      return status;
    }
    return server;
  }

  ~PolyioEchoServer() override {
    if (!thread_.joinable()) return;
    TcpListener* listener = listener_;
    runtime_->loop().Post([listener] { listener->Close(); });
    stop_.set_value();
    thread_.join();
  }

  uint16_t port() const override { return port_; }
  std::string name() const override { return name_; }

 private:
  PolyioEchoServer() = default;

  void Run(std::promise<absl::Status> started) {
    PinCurrentThread(Role::kServer);
    absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create();
    if (!rt.ok()) {
      started.set_value(rt.status());
      return;
    }
    runtime_ = rt->get();
    name_ = std::string(runtime_->backend_name());
    (*rt)->BlockOn(Serve(&started)).IgnoreError();
    // Keep the runtime alive until the destructor's Post is done with it.
    stop_.get_future().wait();
  }

  Task<absl::Status> Serve(std::promise<absl::Status>* started) {
    absl::StatusOr<TcpListener> listener =
        TcpListener::Bind(SocketAddress::Loopback4(0));
    absl::StatusOr<SocketAddress> local =
        listener.ok() ? listener->LocalAddress()
                      : absl::StatusOr<SocketAddress>(listener.status());
    if (!local.ok()) {
      started->set_value(local.status());
      co_return local.status();
    }
    port_ = local->port();
    listener_ = &*listener;
    started->set_value(absl::OkStatus());
    co_return co_await examples::ServeEcho(&*listener);
  }

  std::thread thread_;
  std::promise<void> stop_;
  Runtime* runtime_ = nullptr;
  TcpListener* listener_ = nullptr;
  uint16_t port_ = 0;
  std::string name_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<BenchEchoServer>> StartServerUnderTest() {
  return PolyioEchoServer::Start();
}

}  // namespace polyio::bench
