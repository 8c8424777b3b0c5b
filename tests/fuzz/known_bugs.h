// Known library bugs that the fuzz targets step around, so that tools/test
// stays green until they are fixed in the library. Each has a reproducer
// in tests/fuzz/known_bugs/ (tagged manual and known_bug, so CI does not
// run it) and an entry in docs/reliability.md:
//   - SocketAddress::Parse stops at a NUL byte inside the text
//     (socket_address_nul_test.cc);
//   - a oneshot Receiver dropped after a pending poll leaves a clone of the
//     task's waker in the channel until the Sender goes
//     (oneshot_waker_test.cc);
//   - a deadline more than ~2^36 ticks ahead makes TimerWheel::Advance
//     loop forever (timer_wheel_horizon_test.cc); the timer target keeps
//     its deadlines inside the horizon instead.
//
// POLYIO_FUZZ_KNOWN_BUGS=1 stops stepping around them: with a fix in, run
// `POLYIO_FUZZ_KNOWN_BUGS=1 tools/fuzz TARGET` (and the reproducers) and
// delete the step-around.
#ifndef POLYIO_TESTS_FUZZ_KNOWN_BUGS_H_
#define POLYIO_TESTS_FUZZ_KNOWN_BUGS_H_

#include <cstdlib>

namespace polyio::fuzz {

inline bool StepAroundKnownBugs() {
  static const bool step_around =
      std::getenv("POLYIO_FUZZ_KNOWN_BUGS") == nullptr;
  return step_around;
}

}  // namespace polyio::fuzz

#endif  // POLYIO_TESTS_FUZZ_KNOWN_BUGS_H_
