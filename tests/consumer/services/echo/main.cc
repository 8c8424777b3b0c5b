// echo: the example monorepo's echo server on 127.0.0.1.
//
//   echo [PORT]        # default 0: the kernel picks a free port
//   echo: listening on 127.0.0.1:40123 (backend epoll)
//
// Serves until killed; exits 1 with the reason on stderr if the runtime
// cannot start (a backend this host cannot run) or the port cannot be bound.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "polyio.h"
#include "services/echo/echo_service.h"

namespace {

polyio::Task<absl::Status> Run(uint16_t port, std::string_view backend) {
  absl::StatusOr<polyio::TcpListener> listener =
      polyio::TcpListener::Bind(polyio::SocketAddress::Loopback4(port));
  if (!listener.ok()) co_return listener.status();
  absl::StatusOr<polyio::SocketAddress> local = listener->LocalAddress();
  if (!local.ok()) co_return local.status();
  std::printf("echo: listening on %s (backend %.*s)\n",
              local->ToString().c_str(), static_cast<int>(backend.size()),
              backend.data());
  std::fflush(stdout);
  co_return co_await services::echo::Serve(&*listener);
}

}  // namespace

int main(int argc, char** argv) {
  long port = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 0;
  if (argc > 2 || port < 0 || port > 65535) {
    std::fprintf(stderr, "usage: echo [PORT]\n");
    return 1;
  }
  absl::StatusOr<std::unique_ptr<polyio::Runtime>> rt =
      polyio::Runtime::Create();
  if (!rt.ok()) {
    std::fprintf(stderr, "echo: %s\n", rt.status().ToString().c_str());
    return 1;
  }
  absl::Status status =
      (*rt)->BlockOn(Run(static_cast<uint16_t>(port), (*rt)->backend_name()));
  std::fprintf(stderr, "echo: %s\n", status.ToString().c_str());
  return 1;
}
