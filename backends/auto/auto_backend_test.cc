// AutoBackend picks io_uring where the kernel allows it, epoll otherwise,
// and reports which; its dispatch reaches the chosen backend.
#include "backends/auto/auto_backend.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "gtest/gtest.h"

namespace polyio {
namespace {

struct Counted : Operation {
  int completions = 0;
  Counted() {
    on_complete = [](Operation* op) {
      ++static_cast<Counted*>(op)->completions;
    };
  }
};

// A recv completes through whichever backend auto chose.
void ExpectRoundTrip(AutoBackend& b) {
  int sv[2];
  ASSERT_EQ(
      socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
      0);
  char in[4] = {};
  Counted recv;
  recv.kind = OpKind::kRecv;
  recv.fd = sv[0];
  recv.buf = in;
  recv.len = 4;
  bool inline_done = b.Submit(&recv);
  ASSERT_FALSE(inline_done);  // nothing to read yet, on either backend
  ASSERT_EQ(write(sv[1], "auto", 4), 4);
  for (int i = 0; i < 500 && recv.completions == 0; ++i) b.Wait(10'000'000);
  EXPECT_EQ(recv.completions, 1);
  EXPECT_EQ(recv.res, 4);
  EXPECT_EQ(std::string(in, 4), "auto");
  EXPECT_EQ(b.InFlight(), 0u);
  b.Forget(sv[0]);
  close(sv[0]);
  close(sv[1]);
}

TEST(AutoBackend, ChoosesIoUringWhereTheKernelAllowsIt) {
  bool have_uring = IoUringBackend::Create(BackendOptions{}).ok();
  testing::internal::CaptureStderr();
  absl::StatusOr<std::unique_ptr<AutoBackend>> b =
      AutoBackend::Create(BackendOptions{});
  std::string log = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->Name(), have_uring ? "io_uring" : "epoll");
  EXPECT_EQ(log.rfind("polyio: backend auto -> ", 0), 0u) << log;
  EXPECT_NE(log.find((*b)->Name()), std::string::npos) << log;
  const char* required = std::getenv("POLYIO_REQUIRE_IO_URING");
  if (required != nullptr && std::strcmp(required, "1") == 0) {
    EXPECT_EQ((*b)->Name(), "io_uring");
  }
  ExpectRoundTrip(**b);
}

TEST(AutoBackend, FallsBackToEpollAndSaysWhy) {
  setenv("POLYIO_IO_URING_FORCE_UNAVAILABLE", "1", 1);
  testing::internal::CaptureStderr();
  absl::StatusOr<std::unique_ptr<AutoBackend>> b =
      AutoBackend::Create(BackendOptions{});
  std::string log = testing::internal::GetCapturedStderr();
  unsetenv("POLYIO_IO_URING_FORCE_UNAVAILABLE");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->Name(), "epoll");
  EXPECT_EQ((*b)->Model(), CompletionModel::kReadiness);
  EXPECT_EQ((*b)->io_uring(), nullptr);
  EXPECT_EQ(log,
            "polyio: backend auto -> epoll (io_uring unavailable: forced by "
            "POLYIO_IO_URING_FORCE_UNAVAILABLE=1 (test switch))\n");
  EXPECT_TRUE(absl::IsUnavailable((*b)->io_uring_status()));
  ExpectRoundTrip(**b);
}

static_assert(BackendContract<AutoBackend>);
static_assert(BackendContract<IoUringBackend>);

}  // namespace
}  // namespace polyio
