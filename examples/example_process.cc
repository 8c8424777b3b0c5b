// An example server as a child process (example_process.h).
#include "examples/example_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace polyio::examples {
namespace {

// "listening on 127.0.0.1:PORT ..." -> PORT, or 0.
uint16_t PortOf(const std::string& line) {
  const std::string prefix = "listening on 127.0.0.1:";
  if (line.rfind(prefix, 0) != 0) return 0;
  const size_t start = prefix.size();
  size_t end = start;
  while (end < line.size() && line[end] >= '0' && line[end] <= '9') ++end;
  uint32_t port = 0;
  if (!absl::SimpleAtoi(line.substr(start, end - start), &port) || port == 0 ||
      port > 65535) {
    return 0;
  }
  return static_cast<uint16_t>(port);
}

std::string DescribeExit(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return absl::StrCat("exited with status ", WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    return absl::StrCat("died of signal ", WTERMSIG(wait_status), " (",
                        strsignal(WTERMSIG(wait_status)), ")");
  }
  return absl::StrCat("ended with wait status ", wait_status);
}

// waitpid(pid) through EINTR: its wait status, or the error.
absl::StatusOr<int> Reap(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return absl::ErrnoToStatus(errno, "waitpid");
  }
  return status;
}

}  // namespace

std::string RunfilePath(const std::string& path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir ? srcdir : ".", "/",
                      workspace ? workspace : "polyio", "/", path);
}

absl::StatusOr<int> RunToEnd(const std::string& binary,
                             const std::vector<std::string>& args) {
  const std::string path = RunfilePath(binary);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int err =
      posix_spawn(&pid, path.c_str(), nullptr, nullptr, argv.data(), environ);
  if (err != 0)
    return absl::ErrnoToStatus(err, absl::StrCat("posix_spawn ", path));
  absl::StatusOr<int> reaped = Reap(pid);
  if (!reaped.ok()) return reaped.status();
  const int status = *reaped;
  if (!WIFEXITED(status)) {
    return absl::InternalError(absl::StrCat(binary, " ", DescribeExit(status)));
  }
  return WEXITSTATUS(status);
}

absl::StatusOr<std::unique_ptr<ExampleProcess>> ExampleProcess::Start(
    const std::string& binary, const std::vector<std::string>& args,
    std::chrono::seconds deadline) {
  const std::string path = RunfilePath(binary);
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe2");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int err =
      posix_spawn(&pid, path.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (err != 0) {
    close(out[0]);
    return absl::ErrnoToStatus(err, absl::StrCat("posix_spawn ", path));
  }
  auto process =
      std::unique_ptr<ExampleProcess>(new ExampleProcess(pid, out[0]));

  // The first line, a byte at a time: nothing after it is ours to take.
  const auto give_up = std::chrono::steady_clock::now() + deadline;
  std::string line;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        give_up - std::chrono::steady_clock::now());
    pollfd p = {process->stdout_fd_, POLLIN, 0};
    const int ready = left.count() > 0 ? poll(&p, 1, left.count()) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      return absl::DeadlineExceededError(
          absl::StrCat(binary, " printed no \"listening on\" line within ",
                       deadline.count(), " s (so far: \"", line, "\")"));
    }
    char c;
    const ssize_t n = read(process->stdout_fd_, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // it closed stdout: it has exited, or is about to
      int status = 0;
      waitpid(process->pid_, &status, 0);
      process->pid_ = -1;
      return absl::FailedPreconditionError(
          absl::StrCat(binary, " ", DescribeExit(status),
                       " before it listened (stdout: \"", line, "\")"));
    }
    if (c == '\n') break;
    line += c;
  }
  // "listening on ADDRESS" and maybe " (backend, runtime)"
  const std::string prefix = "listening on ";
  const size_t end = std::min(line.find(" ("), line.size());
  if (line.rfind(prefix, 0) != 0 || end <= prefix.size()) {
    return absl::FailedPreconditionError(
        absl::StrCat(binary, ": unexpected first line \"", line, "\""));
  }
  process->address_ = line.substr(prefix.size(), end - prefix.size());
  process->port_ = PortOf(line);
  process->banner_ = line;
  if (process->port_ == 0 && process->address_.rfind("127.0.0.1:", 0) == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(binary, ": no port in its first line \"", line, "\""));
  }
  return process;
}

absl::Status ExampleProcess::Stop() {
  if (pid_ < 0) return absl::FailedPreconditionError("already stopped");
  kill(pid_, SIGTERM);
  absl::StatusOr<int> reaped = Reap(pid_);
  pid_ = -1;
  if (!reaped.ok()) return reaped.status();
  const int status = *reaped;
  if ((WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) ||
      (WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    return absl::OkStatus();
  }
  return absl::InternalError(absl::StrCat(
      "the server was no longer running: it ", DescribeExit(status)));
}

absl::StatusOr<std::string> ExampleProcess::Terminate(int signo) {
  if (pid_ < 0) return absl::FailedPreconditionError("already stopped");
  kill(pid_, signo);
  std::string output;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(stdout_fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buf, static_cast<size_t>(n));
  }
  absl::StatusOr<int> reaped = Reap(pid_);
  pid_ = -1;
  if (!reaped.ok()) return reaped.status();
  const int status = *reaped;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("after signal ", signo, " it ",
                                            DescribeExit(status),
                                            " (stdout: \"", output, "\")"));
  }
  return output;
}

ExampleProcess::~ExampleProcess() {
  if (pid_ >= 0) Stop().IgnoreError();
  close(stdout_fd_);
}

}  // namespace polyio::examples
