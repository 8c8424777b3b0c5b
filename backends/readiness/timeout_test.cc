// MillisecondTimeout: rounds up (a wait is never shorter than asked), keeps
// -1 and 0, and stays inside an int for any timeout.
#include "backends/readiness/timeout.h"

#include <cstdint>
#include <limits>

#include "gtest/gtest.h"

namespace polyio {
namespace {

// "No limit" and "do not block" pass through unchanged.
TEST(MillisecondTimeout, KeepsNoLimitAndDoNotBlock) {
  EXPECT_EQ(MillisecondTimeout(-1), -1);
  EXPECT_EQ(MillisecondTimeout(0), 0);
}

// Any part of a millisecond counts as a whole one.
TEST(MillisecondTimeout, RoundsUpToWholeMilliseconds) {
  EXPECT_EQ(MillisecondTimeout(1), 1);
  EXPECT_EQ(MillisecondTimeout(999'999), 1);
  EXPECT_EQ(MillisecondTimeout(1'000'000), 1);
  EXPECT_EQ(MillisecondTimeout(1'000'001), 2);
  EXPECT_EQ(MillisecondTimeout(1'500'000), 2);
}

// No result is shorter than the timeout it came from, up to the cap.
TEST(MillisecondTimeout, IsNeverEarly) {
  for (int64_t ns = 1; ns <= int64_t{1} << 40; ns = ns * 3 + 7) {
    EXPECT_GE(int64_t{MillisecondTimeout(ns)} * 1'000'000, ns) << ns;
  }
}

// Huge timeouts become about 12 days instead of overflowing the int.
TEST(MillisecondTimeout, CapsHugeTimeouts) {
  EXPECT_EQ(MillisecondTimeout((int64_t{1} << 40) + 1), 1 << 30);
  EXPECT_EQ(MillisecondTimeout(std::numeric_limits<int64_t>::max()), 1 << 30);
}

}  // namespace
}  // namespace polyio
