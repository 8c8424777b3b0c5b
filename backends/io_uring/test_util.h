// Helpers for the io_uring backend's own tests: a backend that skips the
// test where io_uring is refused (unless POLYIO_REQUIRE_IO_URING=1), and a
// loop that waits for completions. CountedOp is backends/counted_op.h.
//
// Thread-hostile, like the backend.
#ifndef POLYIO_BACKENDS_IO_URING_TEST_UTIL_H_
#define POLYIO_BACKENDS_IO_URING_TEST_UTIL_H_

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "backends/counted_op.h"
#include "backends/io_uring/io_uring_backend.h"
#include "gtest/gtest.h"

namespace polyio::testing {

inline bool IoUringRequired() {
  const char* v = std::getenv("POLYIO_REQUIRE_IO_URING");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

// Creates a backend, or skips (fails, if required) the calling test.
#define POLYIO_MAKE_BACKEND_OR_SKIP(var, options)                           \
  absl::StatusOr<std::unique_ptr<IoUringBackend>> var##_or =                \
      IoUringBackend::Create(options);                                      \
  if (!var##_or.ok()) {                                                     \
    if (::polyio::testing::IoUringRequired()) {                             \
      FAIL() << "io_uring required but unavailable: " << var##_or.status(); \
    }                                                                       \
    GTEST_SKIP() << var##_or.status();                                      \
  }                                                                         \
  IoUringBackend& var = **var##_or

// Calls Wait until `done()` or five seconds pass; returns done().
template <class Done>
bool WaitUntil(IoUringBackend& backend, Done done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    backend.Wait(10'000'000);
  }
  return true;
}

}  // namespace polyio::testing

#endif  // POLYIO_BACKENDS_IO_URING_TEST_UTIL_H_
