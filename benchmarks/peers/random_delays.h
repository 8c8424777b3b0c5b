// The timer workload the peers' timer benchmarks share with polyio's
// benchmarks/timer_bench.cc: random delays, uniform over [0, max] with fixed
// seeds, and 1,000,000 timers spread over 10 s for insert+fire.
// Thread-compatible (pure functions and constants).
#ifndef POLYIO_BENCHMARKS_PEERS_RANDOM_DELAYS_H_
#define POLYIO_BENCHMARKS_PEERS_RANDOM_DELAYS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace polyio::bench {

inline std::vector<std::chrono::nanoseconds> RandomDelays(
    size_t n, std::chrono::nanoseconds max, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> d(0, max.count());
  std::vector<std::chrono::nanoseconds> v(n);
  for (std::chrono::nanoseconds& x : v) x = std::chrono::nanoseconds(d(rng));
  return v;
}

constexpr size_t kMillion = 1000000;
constexpr std::chrono::seconds kSpan(10);

}  // namespace polyio::bench

#endif  // POLYIO_BENCHMARKS_PEERS_RANDOM_DELAYS_H_
