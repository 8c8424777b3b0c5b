// echo_server: a TCP echo server on 127.0.0.1, built on the public polyio API
// (Runtime, TcpListener, Spawn) — the smallest complete polyio server.
//
//   echo_server --port 7000      # 0 picks a free port
//   listening on 127.0.0.1:7000
//
// Echoes every connection until SIGTERM or SIGINT: then it stops accepting,
// gives the open connections up to 5 s to end (Runtime::Shutdown), prints
// how they ended and exits 0 (stop_signal.h). The "listening on" line is
// printed (and flushed) once the socket listens, so a script can wait for it
// and read the port. A bad port or a failed bind prints the reason on stderr
// and exits with status 1.
#include <chrono>
#include <cstdio>
#include <string>

#include "examples/echo_service.h"
#include "examples/flags.h"
#include "examples/stop_signal.h"
#include "polyio.h"

namespace {

using polyio::SocketAddress;
using polyio::Task;
using polyio::TcpListener;

constexpr auto kDrainTime = std::chrono::seconds(5);
constexpr char kUsage[] = "usage: echo_server --port P   (0 picks a free port)";

Task<absl::Status> Main(uint16_t port) {
  absl::StatusOr<TcpListener> listener =
      TcpListener::Bind(SocketAddress::Loopback4(port));
  if (!listener.ok()) co_return listener.status();
  absl::StatusOr<SocketAddress> local = listener->LocalAddress();
  if (!local.ok()) co_return local.status();
  std::printf("listening on %s\n", local->ToString().c_str());
  std::fflush(stdout);
  co_return co_await polyio::examples::ServeEcho(&*listener);
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<std::map<std::string, std::string>> flags =
      polyio::examples::ParseFlags(argc, argv, {"port"});
  if (!flags.ok() || !flags->count("port")) {
    std::fprintf(stderr, "echo_server: %s\n%s\n",
                 flags.ok() ? "--port is required"
                            : std::string(flags.status().message()).c_str(),
                 kUsage);
    return 1;
  }
  absl::StatusOr<int64_t> port =
      polyio::examples::ParseInt("port", flags->at("port"), 0, 65535);
  if (!port.ok()) {
    std::fprintf(stderr, "echo_server: %s\n",
                 std::string(port.status().message()).c_str());
    return 1;
  }
  // Before the runtime's threads exist (stop_signal.h).
  if (absl::Status blocked =
          polyio::examples::StopSignals::BlockInEveryThread();
      !blocked.ok()) {
    std::fprintf(stderr, "echo_server: %s\n",
                 std::string(blocked.message()).c_str());
    return 1;
  }
  absl::StatusOr<std::unique_ptr<polyio::Runtime>> rt =
      polyio::Runtime::Create();
  if (!rt.ok()) {
    std::fprintf(stderr, "echo_server: %s\n",
                 std::string(rt.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<polyio::examples::StopSignals> stop =
      polyio::examples::StopSignals::Listen();
  absl::StatusOr<int> signo =
      stop.ok() ? (*rt)->BlockOn(ServeUntilStopped(
                      Main(static_cast<uint16_t>(*port)), &*stop))
                : absl::StatusOr<int>(stop.status());
  if (!signo.ok()) {
    std::fprintf(stderr, "echo_server: %s\n",
                 std::string(signo.status().message()).c_str());
    return 1;
  }
  polyio::examples::ReportShutdown("echo_server", *signo,
                                   (*rt)->Shutdown(kDrainTime));
  return 0;
}
