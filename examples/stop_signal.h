// The example servers' way to stop: serve until the first SIGTERM or SIGINT
// (Ctrl-C), then let the runtime drain, as a service manager expects.
//
//   StopSignals::BlockInEveryThread();  // first thing in main
//   ... Runtime::Create ...
//   absl::StatusOr<StopSignals> stop = StopSignals::Listen();
//   absl::StatusOr<int> signo =
//       rt->BlockOn(ServeUntilStopped(Serve(...), &*stop));
//   ReportShutdown("http_hello", *signo, rt->Shutdown(kDrainTime));
//
// Listen before the server says it listens: a SIGTERM sent after the
// "listening on" line then always reaches polyio's handler, never the
// default action. ServeUntilStopped races the serving task against the
// signals (WhenAny): on a signal the serving task is cancelled (its accept
// loop ends and its listener closes: no new connections) and the signal's
// number is returned; if serving ends first, its error is. The connections
// it spawned run on; Runtime::Shutdown gives them the drain time and
// reports how they ended, which ReportShutdown prints on stdout:
//
//   http_hello: SIGTERM: stopped accepting; 3 tasks finished, 1 cancelled,
//   0 unfinished
//
// Thread-compatible; StopSignals is move-only (it owns two SignalStreams).
#ifndef POLYIO_EXAMPLES_STOP_SIGNAL_H_
#define POLYIO_EXAMPLES_STOP_SIGNAL_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "polyio.h"

namespace polyio::examples {

class StopSignals {
 public:
  // Blocks SIGTERM and SIGINT in the calling thread (BlockSignals). Called
  // before the runtime starts a thread, every thread inherits the mask, and
  // no thread can take a stop signal past polyio: on Linux the deliveries
  // then come through the signalfd, and over libkqueue it is the only way a
  // multi-thread server sees them at all (its workers, made before Listen,
  // would not block them, and a delivery the kernel handed one was lost:
  // the server never stopped; docs/signals.md).
  static absl::Status BlockInEveryThread();

  static absl::StatusOr<StopSignals> Listen();

  // The number of the first signal to arrive.
  Task<int> Next();

 private:
  StopSignals(SignalStream term, SignalStream interrupt)
      : term_(std::move(term)), interrupt_(std::move(interrupt)) {}

  SignalStream term_;
  SignalStream interrupt_;
};

Task<absl::StatusOr<int>> ServeUntilStopped(Task<absl::Status> serve,
                                            StopSignals* stop);

void ReportShutdown(const char* server, int signo,
                    const ShutdownReport& report);

}  // namespace polyio::examples

#endif  // POLYIO_EXAMPLES_STOP_SIGNAL_H_
