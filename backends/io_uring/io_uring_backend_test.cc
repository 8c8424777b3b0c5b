// What is io_uring's own, beyond the contract that
// backends/backend_contract_test.cc checks on every backend: every Submit
// leaves the operation in flight, the features the kernel offered, a
// 4-entry ring under thousands of operations, SQPOLL, the optional setup
// flags, the way Create refuses, and the path operations (SQEs, a FIFO
// open cancelled in io-wq, the opcodes switched off). (seccomp_test.cc and
// cancel_stress_test.cc are io_uring's too.)
#include "backends/io_uring/io_uring_backend.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "backends/io_uring/test_util.h"
#include "gtest/gtest.h"

namespace polyio::testing {
namespace {

struct Pair {
  int a = -1;
  int b = -1;
  Pair() {
    int sv[2];
    EXPECT_EQ(
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
        0);
    a = sv[0];
    b = sv[1];
  }
  ~Pair() {
    if (a >= 0) close(a);
    if (b >= 0) close(b);
  }
};

CountedOp RecvOp(int fd, char* buf, size_t len) {
  return TransferOp(OpKind::kRecv, fd, buf, len);
}

// The features the kernel offered are reported, and the ring has a size.
TEST(IoUringBackend, ReportsWhatTheKernelOffered) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  std::fprintf(stderr, "features: %s\n", b.features().ToString().c_str());
  EXPECT_GT(b.features().sq_entries, 0u);
  EXPECT_GE(b.features().cq_entries, b.features().sq_entries);
}

// Submit only queues an SQE, so it never finishes inline, even with data.
TEST(IoUringBackend, SubmitLeavesEveryOperationInFlight) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  Pair p;
  ASSERT_EQ(write(p.b, "ready", 5), 5);
  char in[16] = {};
  CountedOp recv = RecvOp(p.a, in, sizeof(in));
  EXPECT_FALSE(b.Submit(&recv));
  EXPECT_EQ(b.InFlight(), 1u);
  EXPECT_EQ(recv.completions(), 0);
  ASSERT_TRUE(WaitUntil(b, [&] { return recv.completions() > 0; }));
  EXPECT_EQ(recv.res, 5);
}

// A 4-entry SQ and 8-entry CQ under 3,000 operations in flight: the SQ
// fills on every fourth Submit and the CQ overflows when the data lands.
TEST(IoUringBackend, TinyRingCarriesThousandsOfOperations) {
  BackendOptions options;
  options.ring_entries = 4;
  POLYIO_MAKE_BACKEND_OR_SKIP(b, options);
  EXPECT_EQ(b.features().sq_entries, 4u);
  EXPECT_EQ(b.features().cq_entries, 8u);
  constexpr int kPairs = 1500;
  std::vector<Pair> pairs(kPairs);
  std::vector<CountedOp> recvs(2 * kPairs);
  std::vector<std::array<char, 8>> bufs(2 * kPairs);
  for (int i = 0; i < 2 * kPairs; ++i) {
    recvs[i] = RecvOp(pairs[i / 2].a, bufs[i].data(), 4);
    EXPECT_FALSE(b.Submit(&recvs[i]));
  }
  b.Wait(0);
  EXPECT_EQ(b.InFlight(), 2u * kPairs);
  for (int i = 0; i < kPairs; ++i) {
    char data[8];
    std::snprintf(data, sizeof(data), "%04d", i % 10000);
    ASSERT_EQ(write(pairs[i].b, data, 4), 4);
    ASSERT_EQ(write(pairs[i].b, data, 4), 4);
  }
  ASSERT_TRUE(WaitUntil(b, [&] { return b.InFlight() == 0; }));
  for (int i = 0; i < 2 * kPairs; ++i) {
    ASSERT_EQ(recvs[i].completions(), 1) << i;
    ASSERT_EQ(recvs[i].res, 4) << i;
    char want[8];
    std::snprintf(want, sizeof(want), "%04d", (i / 2) % 10000);
    ASSERT_EQ(std::string(bufs[i].data(), 4), want) << i;
  }
  // And the same ring cancels thousands at once.
  for (int i = 0; i < 2 * kPairs; ++i) {
    recvs[i] = RecvOp(pairs[i / 2].a, bufs[i].data(), 4);
    b.Submit(&recvs[i]);
  }
  b.Wait(0);
  for (int i = 0; i < kPairs; ++i) b.Forget(pairs[i].a);
  ASSERT_TRUE(WaitUntil(b, [&] { return b.InFlight() == 0; }));
  for (auto& op : recvs) {
    ASSERT_EQ(op.completions(), 1);
    ASSERT_EQ(op.res, -ECANCELED);
  }
}

// sqpoll=true gets a kernel SQ thread, or a normal ring where refused.
TEST(IoUringBackend, SqpollOptionWorksOrFallsBack) {
  BackendOptions options;
  options.sqpoll = true;
  options.sqpoll_idle_ms = 10;
  POLYIO_MAKE_BACKEND_OR_SKIP(b, options);
  std::fprintf(stderr, "features: %s\n", b.features().ToString().c_str());
  Pair p;
  char in[4] = {};
  CountedOp recv = RecvOp(p.a, in, sizeof(in));
  b.Submit(&recv);
  ASSERT_EQ(write(p.b, "sqpl", 4), 4);
  ASSERT_TRUE(WaitUntil(b, [&] { return recv.completions() > 0; }));
  EXPECT_EQ(recv.res, 4);
  CountedOp recv2 = RecvOp(p.a, in, sizeof(in));
  b.Submit(&recv2);
  b.Forget(p.a);
  ASSERT_TRUE(WaitUntil(b, [&] { return recv2.completions() > 0; }));
  EXPECT_EQ(recv2.res, -ECANCELED);
}

// modern_features=false sets up a plain ring and probes nothing optional.
TEST(IoUringBackend, ModernFeaturesOffProbesNothingOptional) {
  BackendOptions options;
  options.modern_features = false;
  POLYIO_MAKE_BACKEND_OR_SKIP(b, options);
  EXPECT_FALSE(b.features().registered_ring_fd);
  EXPECT_FALSE(b.features().provided_buffer_ring);
  EXPECT_FALSE(b.features().coop_taskrun);
}

bool KernelAtLeast(int want_major, int want_minor) {
  utsname u{};
  int major = 0;
  int minor = 0;
  if (uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2) {
    return false;
  }
  return major > want_major || (major == want_major && minor >= want_minor);
}

// A child that exits with `code` after `delay_us`, and its pidfd.
struct ForkedChild {
  pid_t pid = -1;
  int pidfd = -1;
  ForkedChild(int code, useconds_t delay_us) {
    pid = fork();
    if (pid == 0) {
      usleep(delay_us);
      _exit(code);
    }
    EXPECT_GT(pid, 0);
    pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    EXPECT_GE(pidfd, 0);
  }
  ~ForkedChild() {
    if (pidfd >= 0) close(pidfd);
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};

CountedOp WaitIdOp(int pidfd, siginfo_t* info) {
  CountedOp op;
  op.kind = OpKind::kWaitId;
  op.fd = pidfd;
  op.buf = info;
  return op;
}

// kWaitId is one IORING_OP_WAITID SQE (filled by hand: waitid_sqe.h): it
// waits for the pidfd's child, reaps it and fills the siginfo.
TEST(IoUringBackend, WaitIdReapsThePidfdsChild) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  // The probe must find it on every kernel that has it.
  EXPECT_EQ(b.features().waitid, KernelAtLeast(6, 7));
  if (!b.features().waitid) GTEST_SKIP() << "no IORING_OP_WAITID (< 6.7)";
  for (useconds_t delay : {0u, 50'000u}) {  // exited already; still running
    ForkedChild child(5, delay);
    siginfo_t info{};
    CountedOp op = WaitIdOp(child.pidfd, &info);
    EXPECT_FALSE(b.Submit(&op));
    ASSERT_TRUE(WaitUntil(b, [&] { return op.completions() > 0; }));
    EXPECT_EQ(op.res, 0);
    EXPECT_EQ(info.si_pid, child.pid);
    EXPECT_EQ(info.si_code, CLD_EXITED);
    EXPECT_EQ(info.si_status, 5);
    // Reaped by the kernel: nothing left to wait for.
    siginfo_t again{};
    EXPECT_EQ(
        waitid(P_PID, static_cast<id_t>(child.pid), &again, WEXITED | WNOHANG),
        -1);
    EXPECT_EQ(errno, ECHILD);
    if (op.res == 0) child.pid = -1;  // freed: never signal it again
  }
}

// A cancelled kWaitId ends with -ECANCELED and leaves the child to reap.
TEST(IoUringBackend, ACancelledWaitIdReapsNothing) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  if (!b.features().waitid) GTEST_SKIP() << "no IORING_OP_WAITID (< 6.7)";
  ForkedChild child(0, 10'000'000);
  siginfo_t info{};
  CountedOp op = WaitIdOp(child.pidfd, &info);
  EXPECT_FALSE(b.Submit(&op));
  b.Wait(0);
  b.Cancel(&op);
  ASSERT_TRUE(WaitUntil(b, [&] { return op.completions() > 0; }));
  EXPECT_EQ(op.res, -ECANCELED);
  kill(child.pid, SIGKILL);
  siginfo_t reaped{};
  EXPECT_EQ(waitid(P_PID, static_cast<id_t>(child.pid), &reaped, WEXITED), 0);
  EXPECT_EQ(reaped.si_status, SIGKILL);
  child.pid = -1;
}

// A plain ring probes nothing optional: kWaitId is refused inline, and the
// runtime polls the pidfd instead (backend.h's kNativeWaitId).
TEST(IoUringBackend, WaitIdWithoutTheProbeIsRefusedInline) {
  BackendOptions options;
  options.modern_features = false;
  POLYIO_MAKE_BACKEND_OR_SKIP(b, options);
  EXPECT_FALSE(b.features().waitid);
  ForkedChild child(0, 0);
  siginfo_t info{};
  CountedOp op = WaitIdOp(child.pidfd, &info);
  EXPECT_TRUE(b.Submit(&op));
  EXPECT_EQ(op.res, -EOPNOTSUPP);
  EXPECT_EQ(b.InFlight(), 0u);
}

// A refused Create is Unavailable, says why, and names the other configs.
TEST(IoUringBackend, ForcedUnavailableSaysWhyAndWhatToDo) {
  setenv("POLYIO_IO_URING_FORCE_UNAVAILABLE", "1", 1);
  absl::StatusOr<std::unique_ptr<IoUringBackend>> b =
      IoUringBackend::Create(BackendOptions{});
  unsetenv("POLYIO_IO_URING_FORCE_UNAVAILABLE");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kUnavailable);
  std::string message(b.status().message());
  EXPECT_NE(message.find("io_uring unavailable: "), std::string::npos);
  EXPECT_NE(message.find("--config=epoll or --config=auto"), std::string::npos);
}

// The path operations are SQEs where the probe found them (every kernel
// this test runs on has them: 5.15+), each with the result the system
// call gives.
TEST(IoUringBackend, PathOperationsRunAsSqes) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  const auto& f = b.features();
  if (!(f.openat && f.statx && f.renameat && f.unlinkat && f.mkdirat)) {
    GTEST_SKIP() << "kernel lacks a path opcode: " << f.ToString();
  }
  char tmpl[] = "/tmp/polyio_uring_path_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string sub = dir + "/d", moved = dir + "/e", file = dir + "/f";
  auto run = [&b](OpKind kind, int at, PathArgs& args) {
    CountedOp op;
    op.kind = kind;
    op.fd = at;
    op.buf = &args;
    EXPECT_FALSE(b.Submit(&op)) << static_cast<int>(kind);
    EXPECT_TRUE(WaitUntil(b, [&] { return op.completions() > 0; }));
    EXPECT_EQ(op.completions(), 1);
    return op.res;
  };
  PathArgs mkdir_args;
  mkdir_args.path = sub.c_str();
  mkdir_args.mode = 0750;
  EXPECT_EQ(run(OpKind::kMkdirAt, AT_FDCWD, mkdir_args), 0);
  EXPECT_EQ(run(OpKind::kMkdirAt, AT_FDCWD, mkdir_args), -EEXIST);
  struct statx stx {};
  PathArgs stat_args;
  stat_args.path = sub.c_str();
  stat_args.mask = STATX_BASIC_STATS;
  stat_args.statx_buf = &stx;
  EXPECT_EQ(run(OpKind::kStatx, AT_FDCWD, stat_args), 0);
  EXPECT_TRUE(S_ISDIR(stx.stx_mode));
  PathArgs rename_args;
  rename_args.path = sub.c_str();
  rename_args.new_path = moved.c_str();
  EXPECT_EQ(run(OpKind::kRenameAt, AT_FDCWD, rename_args), 0);
  EXPECT_EQ(run(OpKind::kStatx, AT_FDCWD, stat_args), -ENOENT);
  PathArgs open_args;
  open_args.path = file.c_str();
  open_args.flags = O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC;
  open_args.mode = 0600;
  int fd = run(OpKind::kOpenAt, AT_FDCWD, open_args);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "abc", 3), 3);
  // statx of the open file itself: "" with AT_EMPTY_PATH.
  PathArgs fstat_args;
  fstat_args.path = "";
  fstat_args.flags = AT_EMPTY_PATH;
  fstat_args.mask = STATX_BASIC_STATS;
  fstat_args.statx_buf = &stx;
  EXPECT_EQ(run(OpKind::kStatx, fd, fstat_args), 0);
  EXPECT_EQ(stx.stx_size, 3u);
  close(fd);
  PathArgs unlink_args;
  unlink_args.path = file.c_str();
  EXPECT_EQ(run(OpKind::kUnlinkAt, AT_FDCWD, unlink_args), 0);
  PathArgs rmdir_args;
  rmdir_args.path = moved.c_str();
  rmdir_args.flags = AT_REMOVEDIR;
  EXPECT_EQ(run(OpKind::kUnlinkAt, AT_FDCWD, rmdir_args), 0);
  EXPECT_EQ(b.InFlight(), 0u);
  EXPECT_EQ(rmdir(dir.c_str()), 0);
}

// An open of a FIFO waits for the other end as open(2) does (io-wq, not
// the inline attempt that would open it at once), and Cancel and
// CancelAll end the wait with -ECANCELED: path operations are tracked
// although they have no fd.
TEST(IoUringBackend, AnOpenWaitingForAFifoIsCancelled) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  if (!b.features().openat) GTEST_SKIP() << "no IORING_OP_OPENAT";
  char tmpl[] = "/tmp/polyio_uring_fifo_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string fifo = std::string(tmpl) + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  PathArgs args;
  args.path = fifo.c_str();
  args.flags = O_RDONLY | O_CLOEXEC;
  CountedOp one, two;
  for (CountedOp* op : {&one, &two}) {
    op->kind = OpKind::kOpenAt;
    op->fd = AT_FDCWD;
    op->buf = &args;
    ASSERT_FALSE(b.Submit(op));
  }
  for (int i = 0; i < 5; ++i) b.Wait(10'000'000);
  EXPECT_EQ(one.completions() + two.completions(), 0)
      << "a FIFO opened for reading without a writer: " << one.res;
  b.Cancel(&one);
  ASSERT_TRUE(WaitUntil(b, [&] { return one.completions() > 0; }));
  EXPECT_EQ(one.res, -ECANCELED);
  EXPECT_EQ(two.completions(), 0);
  b.CancelAll();
  ASSERT_TRUE(WaitUntil(b, [&] { return two.completions() > 0; }));
  EXPECT_EQ(two.res, -ECANCELED);
  EXPECT_EQ(b.InFlight(), 0u);
  unlink(fifo.c_str());
  rmdir(tmpl);
}

// POLYIO_IO_URING_NO_PATH_OPS=1 acts as a kernel without the opcodes:
// each path kind finishes inline with -EOPNOTSUPP, without an SQE.
TEST(IoUringBackend, WithoutThePathOpcodesPathKindsAreRefusedInline) {
  setenv("POLYIO_IO_URING_NO_PATH_OPS", "1", 1);
  absl::StatusOr<std::unique_ptr<IoUringBackend>> made =
      IoUringBackend::Create(BackendOptions{});
  unsetenv("POLYIO_IO_URING_NO_PATH_OPS");
  if (!made.ok()) {
    if (IoUringRequired()) FAIL() << made.status();
    GTEST_SKIP() << made.status();
  }
  IoUringBackend& b = **made;
  EXPECT_FALSE(b.features().openat || b.features().statx ||
               b.features().renameat || b.features().unlinkat ||
               b.features().mkdirat);
  PathArgs args;
  args.path = "/";
  for (OpKind kind : {OpKind::kOpenAt, OpKind::kStatx, OpKind::kRenameAt,
                      OpKind::kUnlinkAt, OpKind::kMkdirAt}) {
    CountedOp op;
    op.kind = kind;
    op.fd = AT_FDCWD;
    op.buf = &args;
    EXPECT_TRUE(b.Submit(&op)) << static_cast<int>(kind);
    EXPECT_EQ(op.res, -EOPNOTSUPP) << static_cast<int>(kind);
  }
  EXPECT_EQ(b.InFlight(), 0u);
}

}  // namespace
}  // namespace polyio::testing
