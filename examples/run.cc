// run: runs a command with its stdout piped through polyio, and kills it if
// it takes too long — timeout(1), on polyio's Command, Child and signals.
//
//   run --timeout 2s -- make test
//   run --timeout 500ms -- /bin/sleep 10
//   run: /bin/sleep timed out after 500 ms; killed
//
// - The child's stdout comes through a pipe that a task copies to run's own
//   stdout as it arrives; its stderr and stdin are run's.
// - --timeout D (500ms, 2s, 1m; default: none): once D has passed the child
//   gets SIGKILL (or --signal's), and run exits with 124 once it is gone.
// - Ctrl-C and SIGTERM sent to run are passed on to the child; run then
//   exits as the child does.
// - Exit status, as timeout(1)'s: the child's code, 128+N if signal N ended
//   it, 124 after a timeout, 125 if run itself failed (bad flags), 126 if
//   the program cannot be run, 127 if it does not exist.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "examples/flags.h"
#include "polyio.h"

namespace {

using polyio::Child;
using polyio::ChildStdout;
using polyio::Command;
using polyio::Duration;
using polyio::ExitStatus;
using polyio::SignalStream;
using polyio::Stdio;
using polyio::Task;

constexpr char kUsage[] =
    "usage: run [--timeout D] [--signal N] -- PROGRAM [ARG...]\n"
    "  D: 500ms, 2s, 1m (default: no timeout); N: the signal a timeout "
    "sends (default 9)";

constexpr int kTimedOut = 124;
constexpr int kRunFailed = 125;
constexpr int kCannotRun = 126;
constexpr int kNotFound = 127;

// "500ms", "2s", "1m", or a plain number of seconds.
absl::StatusOr<Duration> ParseDuration(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  const std::string unit = text.substr(digits);
  absl::StatusOr<int64_t> n = polyio::examples::ParseInt(
      "timeout", text.substr(0, digits), 0, int64_t{1} << 32);
  if (!n.ok() || digits == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--timeout=", text, ": expected 500ms, 2s or 1m"));
  }
  if (unit == "ms") return std::chrono::milliseconds(*n);
  if (unit == "s" || unit.empty()) return std::chrono::seconds(*n);
  if (unit == "m") return std::chrono::minutes(*n);
  return absl::InvalidArgumentError(
      absl::StrCat("--timeout=", text, ": unknown unit '", unit, "'"));
}

// Copies the child's stdout to ours until it closes its end. Our stdout is
// written with plain blocking writes: it is a terminal or a file in the
// common case, and this is the only task that writes it.
Task<absl::Status> CopyToStdout(ChildStdout* from) {
  std::vector<char> buf(64 * 1024);
  for (;;) {
    absl::StatusOr<size_t> n = co_await from->Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return absl::OkStatus();
    for (size_t done = 0; done < *n;) {
      ssize_t w = ::write(STDOUT_FILENO, buf.data() + done, *n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) co_return absl::ErrnoToStatus(errno, "write stdout");
      done += static_cast<size_t>(w);
    }
  }
}

int ExitCodeOf(const ExitStatus& status) {
  if (status.code()) return *status.code();
  return 128 + status.signal().value_or(0);
}

Task<int> Run(std::vector<std::string> argv, std::optional<Duration> timeout,
              int kill_signal) {
  // The streams exist before the child: a Ctrl-C from the moment it runs is
  // passed on, never taken by the default action.
  absl::StatusOr<SignalStream> interrupt = polyio::CtrlC();
  absl::StatusOr<SignalStream> terminate = polyio::Signal(SIGTERM);
  if (!interrupt.ok() || !terminate.ok()) {
    std::fprintf(stderr, "run: %s\n",
                 (interrupt.ok() ? terminate.status() : interrupt.status())
                     .ToString()
                     .c_str());
    co_return kRunFailed;
  }
  absl::StatusOr<Child> child = Command(argv[0])
                                    .Args(absl::MakeConstSpan(argv).subspan(1))
                                    .Stdout(Stdio::Piped())
                                    .KillOnDrop(true)
                                    .Spawn();
  if (!child.ok()) {
    std::fprintf(stderr, "run: %s\n", child.status().ToString().c_str());
    if (absl::IsNotFound(child.status())) co_return kNotFound;
    if (absl::IsPermissionDenied(child.status())) co_return kCannotRun;
    co_return kRunFailed;
  }
  std::optional<ChildStdout> out = child->TakeStdout();
  polyio::JoinHandle<absl::Status> copier = polyio::Spawn(CopyToStdout(&*out));

  // Without a timeout the sleep is a day long and simply starts again.
  constexpr Duration kNoTimeout = std::chrono::hours(24);
  polyio::Instant deadline = polyio::Now() + (timeout ? *timeout : kNoTimeout);
  bool timed_out = false;
  absl::StatusOr<ExitStatus> status;
  for (;;) {
    if (timed_out) {
      status = co_await child->Wait();
      break;
    }
    // Every branch is cancel-safe: the losers lose nothing (a signal stays
    // in its stream, the exit in the Child).
    std::variant<absl::StatusOr<ExitStatus>, absl::Status,
                 absl::StatusOr<uint64_t>, absl::StatusOr<uint64_t>>
        event = co_await polyio::WhenAny(child->Wait(),
                                         polyio::SleepUntil(deadline),
                                         interrupt->Recv(), terminate->Recv());
    if (event.index() == 0) {
      status = std::get<0>(std::move(event));
      break;
    }
    if (event.index() == 1 && !timeout) {
      deadline = polyio::Now() + kNoTimeout;
      continue;
    }
    int forward = kill_signal;
    if (event.index() == 1) {
      timed_out = true;
      std::fprintf(
          stderr, "run: %s timed out after %lld ms; killed\n", argv[0].c_str(),
          static_cast<long long>(
              std::chrono::duration_cast<std::chrono::milliseconds>(*timeout)
                  .count()));
    } else {
      forward = event.index() == 2 ? SIGINT : SIGTERM;
      std::fprintf(stderr, "run: forwarded %s to %s\n",
                   forward == SIGINT ? "SIGINT" : "SIGTERM", argv[0].c_str());
    }
    absl::Status killed = child->Kill(forward);
    if (!killed.ok()) {
      std::fprintf(stderr, "run: %s\n", killed.ToString().c_str());
    }
  }
  absl::Status copied = co_await copier;
  if (!copied.ok()) {
    std::fprintf(stderr, "run: %s\n", copied.ToString().c_str());
  }
  if (!status.ok()) {
    std::fprintf(stderr, "run: %s\n", status.status().ToString().c_str());
    co_return kRunFailed;
  }
  if (timed_out) co_return kTimedOut;
  co_return ExitCodeOf(*status);
}

}  // namespace

int main(int argc, char** argv) {
  // Flags before "--", the command after it.
  int split = 1;
  while (split < argc && std::string(argv[split]) != "--") ++split;
  if (split + 1 >= argc) {
    std::fprintf(stderr, "%s\n", kUsage);
    return kRunFailed;
  }
  absl::StatusOr<std::map<std::string, std::string>> flags =
      polyio::examples::ParseFlags(split, argv, {"timeout", "signal"});
  if (!flags.ok()) {
    std::fprintf(stderr, "run: %s\n%s\n", flags.status().ToString().c_str(),
                 kUsage);
    return kRunFailed;
  }
  std::optional<Duration> timeout;
  if (auto it = flags->find("timeout"); it != flags->end()) {
    absl::StatusOr<Duration> d = ParseDuration(it->second);
    if (!d.ok()) {
      std::fprintf(stderr, "run: %s\n", d.status().ToString().c_str());
      return kRunFailed;
    }
    timeout = *d;
  }
  int kill_signal = SIGKILL;
  if (auto it = flags->find("signal"); it != flags->end()) {
    absl::StatusOr<int64_t> n =
        polyio::examples::ParseInt("signal", it->second, 1, 64);
    if (!n.ok()) {
      std::fprintf(stderr, "run: %s\n", n.status().ToString().c_str());
      return kRunFailed;
    }
    kill_signal = static_cast<int>(*n);
  }
  std::vector<std::string> command(argv + split + 1, argv + argc);

  // Blocked before any thread exists, so that every thread inherits the
  // mask and none can take a signal meant for the child past polyio: over
  // libkqueue a delivery the kernel handed to a thread that did not block
  // it (libkqueue's own, made with the runtime's kqueue) was lost, and run
  // never passed SIGTERM on (docs/signals.md). The child starts with an
  // empty mask (Command), so it gets the signal as if run were not there.
  if (absl::Status blocked = polyio::BlockSignals({SIGTERM, SIGINT});
      !blocked.ok()) {
    std::fprintf(stderr, "run: %s\n", blocked.ToString().c_str());
    return kRunFailed;
  }
  absl::StatusOr<std::unique_ptr<polyio::Runtime>> rt =
      polyio::Runtime::Create();
  if (!rt.ok()) {
    std::fprintf(stderr, "run: %s\n", rt.status().ToString().c_str());
    return kRunFailed;
  }
  return (*rt)->BlockOn(Run(std::move(command), timeout, kill_signal));
}
