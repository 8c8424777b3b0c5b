// What the examples' tests need to know about the backend they were built
// for. Each test runs once per backend (polyio_backend_test, which sets
// POLYIO_EXPECT_BACKEND), and the example binary in its runfiles is built
// with that same backend.
//
//   void SetUp() override {
//     if (std::string why = WhyBackendCannotRun(); !why.empty()) {
//       if (BackendRequired()) FAIL() << why;
//       GTEST_SKIP() << why;
//     }
//     ... start the example; EXPECT_TRUE(NamesExpectedBackend(banner)) ...
//   }
//
// Thread-compatible.
#ifndef POLYIO_EXAMPLES_EXAMPLE_TEST_SUPPORT_H_
#define POLYIO_EXAMPLES_EXAMPLE_TEST_SUPPORT_H_

#include <string>

namespace polyio::examples {

// "" if a Runtime on this build's backend can be created here; otherwise
// why not (io_uring refused by the kernel or seccomp, ...).
std::string WhyBackendCannotRun();

// POLYIO_REQUIRE_<BACKEND>=1 for the expected backend (tools/test sets it
// where the host has the backend): then a test must not pass by skipping.
bool BackendRequired();

// Whether an example's "listening on ... (BACKEND, ...)" line names the
// backend POLYIO_EXPECT_BACKEND expects (auto: epoll or io_uring). True when
// nothing is expected (the test run by hand).
bool NamesExpectedBackend(const std::string& banner);

}  // namespace polyio::examples

#endif  // POLYIO_EXAMPLES_EXAMPLE_TEST_SUPPORT_H_
