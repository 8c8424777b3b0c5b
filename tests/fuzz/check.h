// FUZZ_CHECK: the one way a fuzz target reports a broken contract.
//
//   FUZZ_CHECK(fired == expected, "timer %d fired early", id);
//
// Prints "FUZZ_CHECK failed at file:line: <condition>: <message>" on stderr
// and abort()s. libFuzzer saves the input that got there as a crash, and
// replay_main (the corpus test) fails on it, so a model mismatch is a crash
// like any other, with the input that reproduces it. Always on (not assert):
// the fuzz builds are not NDEBUG-free by contract.
#ifndef POLYIO_TESTS_FUZZ_CHECK_H_
#define POLYIO_TESTS_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, ...)                                            \
  do {                                                                   \
    if (!(cond)) {                                                       \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s: ", __FILE__, \
                   __LINE__, #cond);                                     \
      std::fprintf(stderr, __VA_ARGS__);                                 \
      std::fprintf(stderr, "\n");                                        \
      std::abort();                                                      \
    }                                                                    \
  } while (0)

#endif  // POLYIO_TESTS_FUZZ_CHECK_H_
