// ReadinessPoller: what ReadinessReactor (reactor.h) needs from an OS
// readiness mechanism (epoll, poll, kqueue), as a concept; every poller
// header checks itself with static_assert(ReadinessPoller<ItsPoller>).
// What tells the readiness backends apart is here too, as traits of the
// poller, for ReadinessBackend (readiness_backend.h).
//
//   static constexpr std::string_view kName
//       The backend's Name(): "epoll", "poll", "kqueue".
//
//   static absl::StatusOr<P> Create(const BackendOptions& options)
//       Opens the mechanism, reading the options that concern it
//       (max_events), or says why it cannot.
//
//   static constexpr bool kEdgeTriggered
//       true: the poller reports a direction when it becomes ready (epoll
//       with EPOLLET), and is armed once per fd for both directions, then
//       left alone. false: it reports a direction for as long as it is
//       ready (poll, kqueue without EV_CLEAR), and is armed with exactly
//       the directions that have waiters, so that it never spins on an fd
//       that nobody waits for.
//
//   int Arm(int fd, bool want_read, bool want_write)
//       Asks for reports of these directions of `fd`; 0 or -errno.
//       Edge-triggered pollers are called once per fd, with both true, and
//       again only after Disarm. Level-triggered ones are called whenever
//       the directions with waiters change, (false, false) included: the
//       fd then stays known but is not reported. A poller keeps what it
//       needs to know whether an fd is new (the reactor does not say).
//
//   void Disarm(int fd)
//       The caller is about to close `fd`: forget it now, and never report
//       it again, even if the number is reused before the next Poll.
//
//   template <PollerReportSink Sink> void Poll(int64_t timeout_ns, Sink&&)
//       Waits up to `timeout_ns` (-1: no limit, 0: do not block; never
//       shorter) or until Wake(), then reports what it found, one call per
//       fd: sink.Ready(fd, readable, writable, hung_up), with an error or
//       hang-up counting as both directions, and hung_up true when the peer
//       closed its side or the fd failed (EPOLLRDHUP/EPOLLHUP/EPOLLERR,
//       POLLHUP/POLLERR, EV_EOF): reads will not block again, and the
//       reactor must not take a short read for an empty socket; and
//       sink.ArmFailed(fd, read, write, -errno) for the directions whose
//       registration failed, from pollers that apply registrations late (kqueue
//       batches them into the kevent() call of the next Poll, so Arm returns 0
//       before the kernel has seen them). Pollers that register at once (epoll,
//       poll) return the error from Arm and never call ArmFailed. The sink's
//       calls may Arm and Disarm any fd, also one the poller has not reported
//       yet in this turn.
//
//   void Wake()
//       Makes a blocked (or the next) Poll return promptly; thread-safe.
//
// Optional: native events (backends/backend.h's kNativeSignals and
// kNativeProcExit; kqueue has them). A poller that declares either also has
//   bool Watch(Operation* op)      takes a kSignal / kProcExit operation;
//                                  false: finished at once, op->res set
//   void Unwatch(Operation* op)    takes it back unreported
//   void UnwatchAll(F take)        Unwatch for each, then take(op)
// and reports a watched operation's completion from Poll through
// sink.Fired(op, res), after it has let go of it.
//
// Pollers are thread-hostile except Wake(), and move-constructible (they
// are created by value and moved into their reactor).
#ifndef POLYIO_BACKENDS_READINESS_POLLER_H_
#define POLYIO_BACKENDS_READINESS_POLLER_H_

#include <concepts>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/operation.h"

namespace polyio {

// Where a poller's Poll reports what it learned (see above); the reactor
// implements it.
template <class S>
concept PollerReportSink = requires(const S& sink, int fd, bool read,
                                    bool write, int32_t error) {
  { sink.Ready(fd, read, write, read) } -> std::same_as<void>;
  { sink.ArmFailed(fd, read, write, error) } -> std::same_as<void>;
};

// The least a sink can be: lets ReadinessPoller check Poll without a
// reactor. Declared only; never called.
struct ReportSinkArchetype {
  void Ready(int fd, bool readable, bool writable, bool hung_up) const;
  void ArmFailed(int fd, bool read, bool write, int32_t error) const;
  void Fired(Operation* op, int32_t res) const;
};
static_assert(PollerReportSink<ReportSinkArchetype>);

template <class P>
concept ReadinessPoller = std::move_constructible<P> &&
    requires(P& poller, int fd, bool want_read, bool want_write,
             int64_t timeout_ns, const BackendOptions& options) {
  { P::kName } -> std::convertible_to<std::string_view>;
  { P::Create(options) } -> std::same_as<absl::StatusOr<P>>;
  // A constant, for `if constexpr` in the reactor.
  typename std::bool_constant<P::kEdgeTriggered>;
  { poller.Arm(fd, want_read, want_write) } -> std::same_as<int>;
  { poller.Disarm(fd) } -> std::same_as<void>;
  { poller.Poll(timeout_ns, ReportSinkArchetype{}) } -> std::same_as<void>;
  { poller.Wake() } -> std::same_as<void>;
};

// A poller with native events (the optional members above).
template <class P>
concept NativeEventPoller = requires(P& poller, Operation* op) {
  { poller.Watch(op) } -> std::same_as<bool>;
  { poller.Unwatch(op) } -> std::same_as<void>;
};

}  // namespace polyio

#endif  // POLYIO_BACKENDS_READINESS_POLLER_H_
