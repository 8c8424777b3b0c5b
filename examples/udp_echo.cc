// udp_echo: a UDP echo server on the loopback addresses, IPv4 and IPv6.
// Every datagram it receives goes back to its sender, byte for byte.
//
//   udp_echo --port 7000 [--buffer 2048] [--runtime multi_thread [--workers N]]
//   listening on 127.0.0.1:7000 and [::1]:7000 (epoll, current-thread runtime)
//
//   nc -u 127.0.0.1 7000      # each line typed comes back
//   nc -u ::1 7000
//
// What it shows: UdpSocket::Bind, RecvFrom (which tells who sent the
// datagram) and SendTo back to that sender; two sockets served at once by
// WhenAll inside one task; and truncation. A datagram longer than --buffer
// bytes (default 65535, the largest UDP payload over IPv4) does not fit:
// RecvFrom fills the buffer and says `truncated`, the rest of the datagram
// is gone. The server sends nothing back for it — the echo would not be the
// datagram sent — and prints a line saying so on stdout:
//
//   udp_echo: a datagram from 127.0.0.1:40000 was longer than the 2048-byte
//   buffer: dropped, not echoed
//
// IPv6 is served when the host has ::1 (a host without IPv6 prints why on
// stderr and serves IPv4 alone), on the port IPv4 got.
//
// The "listening on" line is printed (and flushed) once both sockets are
// bound, so a script can wait for it and read the port. Serves until
// SIGTERM or SIGINT, then closes its sockets, prints a line saying so and
// exits 0 (stop_signal.h). A bad flag, a failed bind or a backend that
// cannot run here prints the reason on stderr and exits with status 1.
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "examples/runtime_flags.h"
#include "examples/server_main.h"
#include "polyio.h"

namespace {

using polyio::SocketAddress;
using polyio::Task;
using polyio::UdpDatagram;
using polyio::UdpSocket;
using polyio::examples::DescribeRuntime;
using polyio::examples::Flags;
using polyio::examples::IntFlag;
using polyio::examples::PortFlag;

constexpr char kUsage[] =
    "usage: udp_echo --port P [--buffer BYTES] [--runtime "
    "current_thread|multi_thread] [--workers N]   (port 0 picks a free port)";

// Receives datagrams on `socket` and sends each back to its sender, until
// cancelled (a stop signal) or the socket fails.
Task<absl::Status> Echo(UdpSocket* socket, size_t buffer_size) {
  // One buffer for the socket's whole life, not zero-filled: only the bytes
  // a receive stored are sent back.
  std::unique_ptr<char[]> buf(new char[buffer_size]);
  const absl::Span<char> space(buf.get(), buffer_size);
  for (;;) {
    absl::StatusOr<UdpDatagram> d = co_await socket->RecvFrom(space);
    if (!d.ok()) co_return d.status();
    if (d->truncated) {
      std::printf(
          "udp_echo: a datagram from %s was longer than the %zu-byte buffer: "
          "dropped, not echoed\n",
          d->peer.ToString().c_str(), buffer_size);
      std::fflush(stdout);
      continue;
    }
    absl::StatusOr<size_t> sent =
        co_await socket->SendTo(space.first(d->bytes), d->peer);
    // A failed send (a full send buffer, a sender the host cannot reach
    // back) loses that one echo, as UDP may; the server goes on.
    if (!sent.ok()) {
      std::fprintf(stderr, "udp_echo: %s\n",
                   std::string(sent.status().message()).c_str());
    }
  }
}

Task<absl::Status> Serve(uint16_t port, size_t buffer_size,
                         std::string runtime_description) {
  absl::StatusOr<UdpSocket> v4 =
      UdpSocket::Bind(SocketAddress::Loopback4(port));
  if (!v4.ok()) co_return v4.status();
  absl::StatusOr<SocketAddress> local = v4->LocalAddress();
  if (!local.ok()) co_return local.status();
  // IPv6 on the same port; a host without ::1 gets IPv4 alone.
  absl::StatusOr<UdpSocket> v6 =
      UdpSocket::Bind(SocketAddress::Loopback6(local->port()));
  std::string listening = local->ToString();
  if (v6.ok()) {
    absl::StatusOr<SocketAddress> local6 = v6->LocalAddress();
    if (local6.ok()) listening += " and " + local6->ToString();
  } else {
    std::fprintf(stderr, "udp_echo: no IPv6: %s\n",
                 std::string(v6.status().message()).c_str());
  }
  std::printf("listening on %s (%s)\n", listening.c_str(),
              runtime_description.c_str());
  std::fflush(stdout);
  if (!v6.ok()) co_return co_await Echo(&*v4, buffer_size);
  // Both sockets served by this one task: cancelling it (a stop signal)
  // ends both receives, and the sockets close as it returns.
  auto [from_v4, from_v6] = co_await polyio::WhenAll(Echo(&*v4, buffer_size),
                                                     Echo(&*v6, buffer_size));
  co_return from_v4.ok() ? from_v6 : from_v4;
}

// Checks this server's flags and makes its serving task (server_main.h).
absl::StatusOr<Task<absl::Status>> MakeServe(const Flags& flags,
                                             polyio::Runtime& rt) {
  absl::StatusOr<uint16_t> port = PortFlag(flags);
  if (!port.ok()) return port.status();
  absl::StatusOr<int64_t> buffer =
      IntFlag(flags, "buffer", 65535, 1, 65535, /*allow_suffix=*/true);
  if (!buffer.ok()) return buffer.status();
  return Serve(*port, static_cast<size_t>(*buffer), DescribeRuntime(rt));
}

}  // namespace

int main(int argc, char** argv) {
  return polyio::examples::RunServer(
      {.name = "udp_echo", .usage = kUsage, .flags = {"port", "buffer"}}, argc,
      argv, MakeServe);
}
