// ExampleProcess: an example server run the way its users run it, for the
// examples' tests — as a process of its own, on port 0, told apart from a
// broken one by what it prints.
//
//   absl::StatusOr<std::unique_ptr<ExampleProcess>> server =
//       ExampleProcess::Start("examples/http_hello", {"--port", "0"});
//   (*server)->port();     // from its "listening on 127.0.0.1:PORT" line
//   (*server)->address();  // what it listens on: "127.0.0.1:PORT",
//                          // "/tmp/x/echo.sock", "@name" (a Unix socket's
//                          // port() is 0)
//   (*server)->banner();   // that whole line
//   ... connect to it and talk ...
//   absl::Status s = (*server)->Stop();
//
// Start runs the binary (a path inside the test's runfiles, as the BUILD
// file's `data` puts it there) and waits for the server's first line on its
// stdout: the examples print it once their socket listens, so no sleep is
// needed and none is made. The wait has a deadline, which only a server
// that is broken reaches; its exit status and the line it did print are
// then in the error. The server's stderr is the test's.
//
// Stop sends SIGTERM and reaps the process: OK if the server was still
// running until then (it died of that signal, or shut down cleanly and
// exited 0), an error saying how it ended otherwise. Terminate(signo) is
// for servers that shut down on a signal: it sends it, reads the rest of
// the server's stdout to its end, reaps it, and returns that output if the
// server exited 0 (an error with the output otherwise). The destructor
// stops a server not stopped yet.
//
// Thread-compatible. POSIX only (posix_spawn, a pipe).
#ifndef POLYIO_EXAMPLES_EXAMPLE_PROCESS_H_
#define POLYIO_EXAMPLES_EXAMPLE_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace polyio::examples {

class ExampleProcess {
 public:
  // `binary`: relative to the workspace's runfiles directory.
  static absl::StatusOr<std::unique_ptr<ExampleProcess>> Start(
      const std::string& binary, const std::vector<std::string>& args,
      std::chrono::seconds deadline = std::chrono::seconds(30));

  ExampleProcess(const ExampleProcess&) = delete;
  ExampleProcess& operator=(const ExampleProcess&) = delete;
  ~ExampleProcess();

  uint16_t port() const { return port_; }
  const std::string& address() const { return address_; }
  const std::string& banner() const { return banner_; }

  absl::Status Stop();
  absl::StatusOr<std::string> Terminate(int signo);

 private:
  ExampleProcess(pid_t pid, int stdout_fd) : pid_(pid), stdout_fd_(stdout_fd) {}

  pid_t pid_;
  int stdout_fd_;
  uint16_t port_ = 0;
  std::string address_;
  std::string banner_;
};

// Where a runfile is: $TEST_SRCDIR/$TEST_WORKSPACE/<path>.
std::string RunfilePath(const std::string& path);

// Runs a client example (a runfile, as for Start) to its end, its output
// the test's; its exit status, or an error if it did not exit normally.
absl::StatusOr<int> RunToEnd(const std::string& binary,
                             const std::vector<std::string>& args);

}  // namespace polyio::examples

#endif  // POLYIO_EXAMPLES_EXAMPLE_PROCESS_H_
