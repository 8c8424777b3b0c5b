// KqueueSignalRecorder: a process-wide record of signal deliveries, kept by
// EVFILT_SIGNAL in a kqueue of its own (the SignalRecorder of the kqueue
// backend, backends/backend.h's kNativeSignals).
//
// Why a kqueue of its own, and not the drivers': every kqueue with an
// EVFILT_SIGNAL knote records every delivery of its signal to the process,
// so the drivers' kqueues would each count each delivery once (two
// runtimes would double it), and a driver records nothing before its first
// registration (a delivery between two awaits would be lost). The signal
// registry (runtime/signal/signal_registry.h) keeps one recorder for the
// process, registers a signal here from its first listener to its last,
// and is its only reader; the drivers' kqueues only wake the tasks that
// wait (OpKind::kSignal).
//
// What kqueue records: every attempt to deliver the signal to the process,
// also while it is blocked or ignored (SIG_IGN), whatever handler runs
// (EVFILT_SIGNAL has a lower precedence than signal(): a handler still
// runs). Repeats before a Take are coalesced into a count. Through
// libkqueue on Linux, only the deliveries its signalfd dequeues: see
// docs/signals.md (kqueue).
//
// Thread-compatible: the registry calls it under its lock.
#ifndef POLYIO_BACKENDS_KQUEUE_KQUEUE_SIGNAL_RECORDER_H_
#define POLYIO_BACKENDS_KQUEUE_KQUEUE_SIGNAL_RECORDER_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "platform/unique_fd.h"

namespace polyio {

class KqueueSignalRecorder {
 public:
  // Opens the recorder's kqueue (close-on-exec).
  static absl::StatusOr<KqueueSignalRecorder> Create();

  // Starts recording `signo` (EV_ADD EVFILT_SIGNAL); errors name the call.
  absl::Status Add(int signo);
  // Stops recording it (EV_DELETE); what it recorded meanwhile is dropped.
  void Remove(int signo);
  // Adds the deliveries recorded since the last Take to counts[signo], for
  // each signo below `limit`. Never blocks.
  void Take(uint64_t* counts, int limit);

 private:
  explicit KqueueSignalRecorder(UniqueFd kq) : kq_(std::move(kq)) {}

  UniqueFd kq_;
};

}  // namespace polyio

#endif  // POLYIO_BACKENDS_KQUEUE_KQUEUE_SIGNAL_RECORDER_H_
