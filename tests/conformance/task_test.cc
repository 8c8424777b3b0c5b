// Tasks: values, nesting without stack growth, spawning at scale, exceptions.
#include <stdexcept>
#include <vector>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

Task<int> Answer() { co_return 42; }

TEST_F(ConformanceTest, BlockOnReturnsTheTaskValue) {
  EXPECT_EQ(rt().BlockOn(Answer()), 42);
}

Task<int> Nested(int depth) {
  if (depth == 0) co_return 0;
  int below = co_await Nested(depth - 1);
  co_return below + 1;
}

TEST_F(ConformanceTest, HundredThousandNestedAwaitsDoNotGrowTheStack) {
  // A chain this deep would need far more than the default 8 MiB of stack
  // (and overflow under ASan) if each level took a native frame.
  EXPECT_EQ(rt().BlockOn(Nested(100000)), 100000);
}

Task<int64_t> Square(int64_t i) { co_return i* i; }

Task<int64_t> SpawnMany(int n) {
  std::vector<JoinHandle<int64_t>> handles;
  handles.reserve(n);
  for (int i = 0; i < n; ++i) handles.push_back(Spawn(Square(i)));
  int64_t wrong = 0;
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<int64_t> v = co_await handles[i];
    if (!v.ok() || *v != int64_t{i} * i) ++wrong;
  }
  co_return wrong;
}

TEST_F(ConformanceTest, HundredThousandSpawnedTasksAllCompleteWithTheirValues) {
  EXPECT_EQ(rt().BlockOn(SpawnMany(100000)), 0);
}

Task<int> Throws() {
  throw std::runtime_error("boom");
  co_return 0;
}

Task<std::string> CatchesFromChild() {
  try {
    co_await Throws();
  } catch (const std::runtime_error& e) {
    co_return e.what();
  }
  co_return "no exception";
}

Task<std::string> CatchesFromSpawned() {
  JoinHandle<int> h = Spawn(Throws());
  try {
    (void)co_await h;  // throws
  } catch (const std::runtime_error& e) {
    co_return e.what();
  }
  co_return "no exception";
}

TEST_F(ConformanceTest, ExceptionsReachTheAwaiter) {
  EXPECT_EQ(rt().BlockOn(CatchesFromChild()), "boom");
  EXPECT_EQ(rt().BlockOn(CatchesFromSpawned()), "boom");
  EXPECT_THROW(rt().BlockOn(Throws()), std::runtime_error);
}

Task<void> SetFlag(bool* flag) {
  *flag = true;
  co_return;
}

TEST_F(ConformanceTest, TasksAreLazyAndDetachedTasksStillRun) {
  bool ran = false;
  Task<void> t = SetFlag(&ran);
  EXPECT_FALSE(ran);  // creating a task runs nothing
  rt().BlockOn(std::move(t));
  EXPECT_TRUE(ran);

  bool detached_ran = false;
  rt().BlockOn([](bool* flag) -> Task<void> {
    Spawn(SetFlag(flag)).Detach();
    EXPECT_TRUE((co_await Sleep(std::chrono::milliseconds(1))).ok());
  }(&detached_ran));
  EXPECT_TRUE(detached_ran);
}

}  // namespace
}  // namespace polyio::testing
