#include "examples/stop_signal.h"

#include <signal.h>

#include <cstdio>
#include <utility>
#include <variant>

namespace polyio::examples {

absl::Status StopSignals::BlockInEveryThread() {
  return BlockSignals({SIGTERM, SIGINT});
}

absl::StatusOr<StopSignals> StopSignals::Listen() {
  absl::StatusOr<SignalStream> term = Signal(SIGTERM);
  if (!term.ok()) return term.status();
  absl::StatusOr<SignalStream> interrupt = CtrlC();
  if (!interrupt.ok()) return interrupt.status();
  return StopSignals(std::move(*term), std::move(*interrupt));
}

Task<int> StopSignals::Next() {
  // Recv fails only when cancelled; either way the answer is "stop".
  std::variant<absl::StatusOr<uint64_t>, absl::StatusOr<uint64_t>> first =
      co_await WhenAny(term_.Recv(), interrupt_.Recv());
  co_return first.index() == 0 ? SIGTERM : SIGINT;
}

Task<absl::StatusOr<int>> ServeUntilStopped(Task<absl::Status> serve,
                                            StopSignals* stop) {
  std::variant<absl::Status, int> first =
      co_await WhenAny(std::move(serve), stop->Next());
  if (first.index() == 1) co_return std::get<1>(first);
  absl::Status served = std::get<0>(std::move(first));
  if (served.ok()) served = absl::InternalError("the server stopped serving");
  co_return served;
}

void ReportShutdown(const char* server, int signo,
                    const ShutdownReport& report) {
  std::printf(
      "%s: %s: stopped accepting; %lld tasks finished, %lld cancelled, "
      "%lld unfinished\n",
      server, signo == SIGTERM ? "SIGTERM" : "SIGINT",
      static_cast<long long>(report.finished),
      static_cast<long long>(report.cancelled),
      static_cast<long long>(report.unfinished));
  std::fflush(stdout);
}

}  // namespace polyio::examples
