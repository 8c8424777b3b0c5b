// chat: a TCP line chat on 127.0.0.1. Every line a client sends goes to
// every other client, through one polyio::sync::broadcast channel.
//
//   chat --port 7070 [--history 64] [--runtime multi_thread [--workers N]]
//   listening on 127.0.0.1:7070 (epoll, current-thread runtime)
//
//   nc 127.0.0.1 7070          # in two terminals, or more
//   * you are client 1         # the greeting
//   hello                      # typed by client 1; client 2 sees
//                              #   1: hello
//
// A client that reads slower than the others write falls behind, and
// nobody waits for it: a broadcast Send never blocks, so the other clients
// go on at their own pace. The channel keeps the last --history lines
// (default 64). A client more than that many lines behind loses the oldest:
// it is told "* you missed 57 lines" and goes on from the oldest line still
// kept — broadcast's lag (runtime/sync/broadcast.h). The rule is about lines,
// not about time: a burst of more lines than --history from one client,
// sent before another client's writer had its turn, makes that one lag too;
// size --history for the bursts expected. A client's own lines pass through
// its receiver too (it skips them), so they count: a client that sends a
// burst may be told it missed lines, its own among them.
//
// Per client, two tasks: one reads its lines and sends them to the channel,
// the other receives from the channel and writes what the others said.
// Lines longer than kMaxLine bytes arrive cut in pieces of kMaxLine bytes.
//
// The "listening on" line is printed (and flushed) once the socket listens,
// so a script can wait for it and read the port. Serves until SIGTERM or
// SIGINT, then stops accepting, gives the clients 1 s, says how they ended
// and exits 0 (server_main.h). A bad flag, a failed bind or a backend that
// cannot run here prints the reason on stderr and exits with status 1.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "examples/runtime_flags.h"
#include "examples/server_main.h"
#include "polyio.h"

namespace {

using polyio::examples::DescribeRuntime;
using polyio::examples::Flags;
using polyio::examples::IntFlag;
using polyio::examples::PortFlag;
namespace broadcast = polyio::sync::broadcast;
using polyio::JoinHandle;
using polyio::SocketAddress;
using polyio::Task;
using polyio::TcpListener;
using polyio::TcpStream;

constexpr char kUsage[] =
    "usage: chat --port P [--history LINES] [--runtime "
    "current_thread|multi_thread] [--workers N]   (port 0 picks a free port)";

constexpr size_t kMaxLine = 4096;
// A client's writer sends what has piled up in one write, up to this much.
constexpr size_t kMaxBatch = 64 * 1024;

struct ChatLine {
  uint64_t from;     // the client that sent it
  std::string text;  // "3: hello\n", as the others receive it
};
// Every receiver gets its own copy of each value: a shared_ptr makes that
// copy a reference count, whatever the line's length.
using SharedLine = std::shared_ptr<const ChatLine>;

// Appends what `next` brings for client `self` to *batch: a line someone
// else sent, or the notice that lines were missed. False when `next` holds
// no value: nothing new for now (Unavailable), or the end.
bool AppendForClient(const absl::StatusOr<SharedLine>& next, uint64_t self,
                     std::string* batch) {
  if (next.ok()) {
    if ((*next)->from != self) *batch += (*next)->text;
    return true;
  }
  if (broadcast::IsLagged(next.status())) {
    absl::StrAppend(batch, "* you missed ",
                    broadcast::MissedCount(next.status()), " lines\n");
    return true;
  }
  return false;
}

// Writes to the client every line the others send, until cancelled (its
// reader is done) or the connection fails.
Task<absl::Status> WriteOthersLines(TcpStream* stream,
                                    broadcast::Receiver<SharedLine> lines,
                                    uint64_t self) {
  std::string batch;
  for (;;) {
    absl::StatusOr<SharedLine> next = co_await lines.Recv();
    batch.clear();
    // What else is there already goes out in the same write.
    while (AppendForClient(next, self, &batch) && batch.size() < kMaxBatch) {
      next = lines.TryRecv();
    }
    if (!batch.empty()) {
      absl::Status written =
          co_await stream->WriteAll(absl::MakeConstSpan(batch));
      if (!written.ok()) co_return written;
    }
    if (!next.ok() && !absl::IsUnavailable(next.status()) &&
        !broadcast::IsLagged(next.status())) {
      co_return next.status();  // cancelled
    }
  }
}

// Reads the client's lines and sends each to the channel, until the client
// closes its side.
Task<absl::Status> ReadLines(TcpStream* stream, uint64_t self,
                             broadcast::Sender<SharedLine>* lines) {
  const std::string prefix = absl::StrCat(self, ": ");
  auto send = [&](std::string_view line) {
    std::string text;
    text.reserve(prefix.size() + line.size() + 1);
    text.append(prefix).append(line).push_back('\n');
    // Fails only without receivers, and this client's own is one.
    lines
        ->Send(
            std::make_shared<const ChatLine>(ChatLine{self, std::move(text)}))
        .IgnoreError();
  };
  // Uninitialised: only the bytes a read wrote are looked at.
  char buf[kMaxLine];
  size_t kept = 0;  // bytes of an unfinished line at the start of buf
  for (;;) {
    absl::StatusOr<size_t> n =
        co_await stream->Read(absl::MakeSpan(buf + kept, sizeof(buf) - kept));
    if (!n.ok()) co_return n.status();
    if (*n == 0) {
      if (kept > 0) send(std::string_view(buf, kept));  // no final newline
      co_return absl::OkStatus();
    }
    std::string_view pending(buf, kept + *n);
    for (size_t eol; (eol = pending.find('\n')) != std::string_view::npos;) {
      send(pending.substr(0, eol));
      pending.remove_prefix(eol + 1);
    }
    if (pending.size() == sizeof(buf)) {  // a line longer than the buffer
      send(pending);
      pending = {};
    }
    std::memmove(buf, pending.data(), pending.size());
    kept = pending.size();
  }
}

Task<absl::Status> ServeClient(TcpStream stream, uint64_t self,
                               broadcast::Sender<SharedLine> lines) {
  // Each write is whole lines that should go now: Nagle's algorithm would
  // hold a write back until the client acknowledged the one before (tens of
  // milliseconds, with its delayed acknowledgements).
  stream.SetNoDelay(true).IgnoreError();
  // Subscribed before the greeting: once the client has read it, it sees
  // every line sent from then on.
  broadcast::Receiver<SharedLine> received = lines.Subscribe();
  const std::string greeting = absl::StrCat("* you are client ", self, "\n");
  if (absl::Status s = co_await stream.WriteAll(absl::MakeConstSpan(greeting));
      !s.ok()) {
    co_return s;
  }
  JoinHandle<absl::Status> writer =
      polyio::Spawn(WriteOthersLines(&stream, std::move(received), self));
  absl::Status read = co_await ReadLines(&stream, self, &lines);
  // The writer uses the stream: it must be done before the stream goes.
  writer.Abort();
  (co_await writer).IgnoreError();
  co_return read;
}

Task<absl::Status> Serve(uint16_t port, size_t history,
                         std::string runtime_description) {
  absl::StatusOr<TcpListener> listener =
      TcpListener::Bind(SocketAddress::Loopback4(port));
  if (!listener.ok()) co_return listener.status();
  absl::StatusOr<SocketAddress> local = listener->LocalAddress();
  if (!local.ok()) co_return local.status();
  auto [lines, first_receiver] = broadcast::Channel<SharedLine>(history);
  // Only clients receive: a receiver nobody reads would keep `history`
  // lines alive for nothing.
  { broadcast::Receiver<SharedLine> dropped = std::move(first_receiver); }
  std::printf("listening on %s (%s)\n", local->ToString().c_str(),
              runtime_description.c_str());
  std::fflush(stdout);
  for (uint64_t next_client = 1;; ++next_client) {
    absl::StatusOr<TcpStream> stream = co_await listener->Accept();
    if (!stream.ok()) co_return stream.status();
    // Each client's task has its own copy of the sender (a copy per owner).
    polyio::Spawn(ServeClient(std::move(*stream), next_client, lines)).Detach();
  }
}

// Checks this server's flags and makes its serving task (server_main.h).
absl::StatusOr<Task<absl::Status>> MakeServe(const Flags& flags,
                                             polyio::Runtime& rt) {
  absl::StatusOr<uint16_t> port = PortFlag(flags);
  if (!port.ok()) return port.status();
  absl::StatusOr<int64_t> history = IntFlag(flags, "history", 64, 1, 1 << 20);
  if (!history.ok()) return history.status();
  return Serve(*port, static_cast<size_t>(*history), DescribeRuntime(rt));
}

}  // namespace

int main(int argc, char** argv) {
  return polyio::examples::RunServer(
      {.name = "chat", .usage = kUsage, .flags = {"port", "history"}}, argc,
      argv, MakeServe);
}
