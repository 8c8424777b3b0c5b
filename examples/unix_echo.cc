// unix_echo: a line echo server on a Unix-domain socket, which also hands a
// client an open file: the file descriptor itself, passed over the socket
// (SCM_RIGHTS).
//
//   unix_echo --path /tmp/echo.sock [--runtime multi_thread [--workers N]]
//   unix_echo --abstract echo                  # Linux: no file, "@echo"
//   listening on /tmp/echo.sock (epoll, current-thread runtime)
//
//   nc -U /tmp/echo.sock                       # each line typed comes back
//
// The protocol, one line at a time:
//   FILE <path>\n   the server opens <path> read-only and answers
//                   "OK <path>\n" with the open fd attached; the client
//                   reads the file through that fd (a polyio client:
//                   UnixStream::RecvWithFds, which makes it close-on-exec).
//                   A file it cannot open: "ERR open <path>: <reason>\n".
//   anything else   sent back as it came, newline included.
// A line longer than 4096 bytes ends the connection ("ERR ..." first); so
// does a last line without its newline, after it is echoed.
//
// What it shows: UnixListener::Bind (a path, which the listener removes when
// it closes) and BindAbstract; BufferedReader::ReadUntil over a UnixStream;
// File::Open on the blocking pool; UnixStream::SendWithFds. This server
// opens any file it can read for anyone who can connect: a real one would
// check the path, and who asks (UnixStream::PeerCredentials).
//
// The "listening on" line is printed (and flushed) once the socket listens.
// Serves until SIGTERM or SIGINT: then it stops accepting and removes its
// socket file, gives open connections 1 s to end, prints how they ended
// and exits 0 (stop_signal.h). A bad flag, a failed bind (a file already at
// the path: "bind /tmp/echo.sock: Address already in use") or a backend
// that cannot run here prints the reason on stderr and exits with status 1.
#include <fcntl.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "examples/runtime_flags.h"
#include "examples/server_main.h"
#include "polyio.h"

namespace {

using polyio::BufferedReader;
using polyio::File;
using polyio::Task;
using polyio::UnixListener;
using polyio::UnixStream;
using polyio::examples::DescribeRuntime;
using polyio::examples::Flags;

constexpr char kUsage[] =
    "usage: unix_echo --path PATH | --abstract NAME [--runtime "
    "current_thread|multi_thread] [--workers N]";

constexpr size_t kMaxLine = 4096;

// Answers "FILE <path>": the open file goes with the answer's first byte.
Task<absl::Status> SendFile(UnixStream* stream, std::string path) {
  absl::StatusOr<File> file = co_await File::Open(path, O_RDONLY);
  if (!file.ok()) {
    const std::string error =
        absl::StrCat("ERR ", file.status().message(), "\n");
    co_return co_await stream->WriteAll(absl::MakeConstSpan(error));
  }
  const std::string ok = absl::StrCat("OK ", path, "\n");
  const int fds[] = {file->fd()};
  absl::StatusOr<size_t> sent =
      co_await stream->SendWithFds(absl::MakeConstSpan(ok), fds);
  if (!sent.ok()) co_return sent.status();
  // The client has its own fd for the file now; ours closes with `file`.
  // A stream may take fewer bytes than asked: the rest goes as plain bytes.
  co_return co_await stream->WriteAll(absl::MakeConstSpan(ok).subspan(*sent));
}

Task<absl::Status> ServeClient(UnixStream stream) {
  BufferedReader<UnixStream> in(stream);
  for (;;) {
    absl::StatusOr<std::optional<std::string>> line =
        co_await in.ReadUntil('\n', kMaxLine);
    if (absl::IsOutOfRange(line.status())) {
      // The client's last line, without a newline: echoed, then the end.
      co_return co_await stream.WriteAll(
          absl::MakeConstSpan(in.buffered().data(), in.buffered().size()));
    }
    if (absl::IsResourceExhausted(line.status())) {
      const std::string error =
          absl::StrCat("ERR a line longer than ", kMaxLine, " bytes\n");
      co_return co_await stream.WriteAll(absl::MakeConstSpan(error));
    }
    if (!line.ok()) co_return line.status();
    if (!line->has_value()) co_return absl::OkStatus();  // the client left
    const std::string& text = **line;
    absl::Status answered;
    if (absl::StartsWith(text, "FILE ")) {
      // "FILE <path>\n" (or "\r\n", from a terminal) -> <path>
      std::string path = text.substr(5, text.size() - 6);
      if (absl::EndsWith(path, "\r")) path.pop_back();
      answered = co_await SendFile(&stream, std::move(path));
    } else {
      answered = co_await stream.WriteAll(absl::MakeConstSpan(text));
    }
    if (!answered.ok()) co_return answered;
  }
}

// `name`: a path, or an abstract name when `abstract`.
Task<absl::Status> Serve(std::string name, bool abstract,
                         std::string runtime_description) {
  absl::StatusOr<UnixListener> listener =
      abstract ? UnixListener::BindAbstract(name) : UnixListener::Bind(name);
  if (!listener.ok()) co_return listener.status();
  absl::StatusOr<polyio::UnixAddress> local = listener->LocalAddress();
  if (!local.ok()) co_return local.status();
  std::printf("listening on %s (%s)\n", local->ToString().c_str(),
              runtime_description.c_str());
  std::fflush(stdout);
  for (;;) {
    // Cancelled by a stop signal while waiting here: `listener` goes with
    // this task's frame, and with it the socket file.
    absl::StatusOr<UnixStream> stream = co_await listener->Accept();
    if (!stream.ok()) co_return stream.status();
    polyio::Spawn(ServeClient(std::move(*stream))).Detach();
  }
}

// Checks this server's flags and makes its serving task (server_main.h).
absl::StatusOr<Task<absl::Status>> MakeServe(const Flags& flags,
                                             polyio::Runtime& rt) {
  if (flags.count("path") + flags.count("abstract") != 1) {
    return absl::InvalidArgumentError(
        "one of --path and --abstract is required");
  }
  const bool abstract = flags.count("abstract") == 1;
  return Serve(abstract ? flags.at("abstract") : flags.at("path"), abstract,
               DescribeRuntime(rt));
}

}  // namespace

int main(int argc, char** argv) {
  return polyio::examples::RunServer(
      {.name = "unix_echo", .usage = kUsage, .flags = {"path", "abstract"}},
      argc, argv, MakeServe);
}
