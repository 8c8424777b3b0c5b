// What the fault-injecting backend (fault_backend.h) does, and how often:
// one seed and one rate per kind of fault, from the environment or set by a
// test. Process-wide; read by each FaultBackend when it is created.
//
//   POLYIO_FAULT_SEED=<n>        the seed (decimal, or 0x... hex). Unset: the
//                                default below (1). Every choice the layer
//                                makes comes from it.
//   POLYIO_FAULT_RATES=k=v,...   rates to change, e.g.
//                                "short_io=0.5,hold=0,send_reset=0.01";
//                                an unknown name or a bad value stops the
//                                program with the list of names.
//
// Each backend draws from its own stream, derived from the seed, the name
// of the test that is running (set by the test listener, gtest_listener.cc:
// so one test replays alone with --gtest_filter) and how many backends that
// test created before it. What replays exactly is the layer's decisions at
// each call, not the kernel's timing: a failure that needs both is found
// again with the same seed, not always at the first run.
//
// Thread-safe.
#ifndef POLYIO_BACKENDS_FAULT_FAULT_CONFIG_H_
#define POLYIO_BACKENDS_FAULT_FAULT_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace polyio::fault {

// Probabilities in [0, 1], per chance the layer gets.
struct FaultRates {
  // Transparent faults: a correct program cannot tell them from a slow or
  // unlucky kernel. On in the conformance runs.
  //
  // A byte-stream transfer (read, recv, recvmsg, write, send, sendmsg on a
  // stream socket or a pipe) is cut to 1..len-1 bytes before the kernel
  // sees it.
  double short_io = 0.25;
  // A completion is held back for 1..max_hold_turns Waits; completions of
  // different fds then come out in a shuffled order (one fd's keep theirs).
  double hold = 0.2;
  int max_hold_turns = 3;
  // An operation that finished inside Submit is reported later instead
  // (Submit returns false; held as above).
  double defer_inline = 0.2;
  // A Cancel reaches the inner backend only 1..max_hold_turns Waits later,
  // so the operation often completes first with its real result (the cancel
  // loses the race). A Cancel of a completion being held loses always.
  double cancel_late = 0.5;
  // A Wait that would block returns at once, with nothing.
  double spurious_return = 0.05;
  // A Submit also calls Wake() (so the next Wait returns early).
  double spurious_wake = 0.02;
  // A Wait that blocks is interrupted by a signal (kInterruptSignal, sent
  // to the waiting thread 20-500 us in): the inner backend's system call
  // fails with EINTR, which must not escape.
  double eintr = 0.05;
  // An accept fails with ENOBUFS or ECONNABORTED without taking the
  // connection, which stays queued (the listener backs off and retries).
  double accept_error = 0.05;

  // Visible faults: the program sees an error it must handle, which the
  // conformance suite's cases do not expect. 0 unless asked for; each has
  // its own test (fault_visible_test.cc).
  //
  // A byte-stream send resets the connection for real (TCP: an RST to the
  // peer; a Unix stream: shut down both ways) and fails with ECONNRESET,
  // or EPIPE on a Unix stream.
  double send_reset = 0;
  // A datagram send fails with ENOBUFS (nothing is sent).
  double dgram_enobufs = 0;
};

struct FaultConfig {
  uint64_t seed = kDefaultSeed;
  FaultRates rates;

  static constexpr uint64_t kDefaultSeed = 1;
};

// Parses POLYIO_FAULT_RATES-style text over `rates`. On error returns a
// message naming the bad item and the known names.
std::optional<std::string> ParseRates(std::string_view text, FaultRates* rates);
// "short_io=0.25,hold=0.2,...": every rate, in ParseRates's syntax.
std::string DescribeRates(const FaultRates& rates);

// The configuration new backends use: SetConfigForTesting's, else the
// environment's (read once; a bad value stops the program with a message).
FaultConfig CurrentConfig();
// Replaces the configuration for backends created from now on (nullopt:
// back to the environment's). For tests that compare runs with and without
// faults in one process.
void SetConfigForTesting(std::optional<FaultConfig> config);

// The seed of the next backend's stream (see the top of this file).
uint64_t NextStreamSeed(uint64_t seed);
// Names the test now running: streams restart their count (the test
// listener calls it at each test's start; empty: none).
void SetStreamName(std::string_view name);

// Prints, once per process, that fault injection is on, with the seed and
// the rates, to stderr.
void AnnounceOnce(std::string_view inner_name, const FaultConfig& config);

// SplitMix64: a small, fast generator; each backend owns one.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // True with probability p.
  bool Chance(double p) {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p;
  }
  // Uniform in [lo, hi] (lo <= hi).
  uint64_t Between(uint64_t lo, uint64_t hi) {
    return lo + Next() % (hi - lo + 1);
  }

 private:
  uint64_t state_;
};

}  // namespace polyio::fault

#endif  // POLYIO_BACKENDS_FAULT_FAULT_CONFIG_H_
