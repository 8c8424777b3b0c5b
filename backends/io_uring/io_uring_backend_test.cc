// The io_uring backend on its own: each operation kind round-trips, results
// arrive only from Wait, cancellation and Forget complete every operation
// exactly once, and a 4-entry ring carries thousands of operations.
#include "backends/io_uring/io_uring_backend.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
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
  CountedOp op;
  op.kind = OpKind::kRecv;
  op.fd = fd;
  op.buf = buf;
  op.len = len;
  return op;
}

TEST(IoUringBackend, IsACompletionBackendNamedIoUring) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  EXPECT_EQ(b.Name(), "io_uring");
  EXPECT_EQ(b.Model(), CompletionModel::kCompletion);
  std::fprintf(stderr, "features: %s\n", b.features().ToString().c_str());
}

TEST(IoUringBackend, RecvAndSendRoundTripAndCompleteOnlyInWait) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  Pair p;
  char in[16] = {};
  CountedOp recv = RecvOp(p.a, in, sizeof(in));
  EXPECT_FALSE(b.Submit(&recv));  // always in flight, even if data were there
  char out[] = "hello";
  CountedOp send;
  send.kind = OpKind::kSend;
  send.fd = p.b;
  send.buf = out;
  send.len = 5;
  EXPECT_FALSE(b.Submit(&send));
  EXPECT_EQ(recv.completions + send.completions, 0);
  EXPECT_EQ(b.InFlight(), 2u);
  ASSERT_TRUE(
      WaitUntil(b, [&] { return recv.completions && send.completions; }));
  EXPECT_EQ(send.res, 5);
  EXPECT_EQ(recv.res, 5);
  EXPECT_EQ(std::string(in, 5), "hello");
  EXPECT_EQ(b.InFlight(), 0u);
  EXPECT_EQ(recv.completions, 1);
}

TEST(IoUringBackend, ReadAndWriteOnANonBlockingPipe) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  char in[8] = {};
  CountedOp read;
  read.kind = OpKind::kRead;
  read.fd = fds[0];
  read.buf = in;
  read.len = sizeof(in);
  b.Submit(&read);
  b.Wait(0);  // the read is parked in the kernel; EAGAIN must not surface
  EXPECT_EQ(read.completions, 0);
  char out[] = "pipe";
  CountedOp write;
  write.kind = OpKind::kWrite;
  write.fd = fds[1];
  write.buf = out;
  write.len = 4;
  b.Submit(&write);
  ASSERT_TRUE(
      WaitUntil(b, [&] { return read.completions && write.completions; }));
  EXPECT_EQ(write.res, 4);
  EXPECT_EQ(read.res, 4);
  EXPECT_EQ(std::string(in, 4), "pipe");
  close(fds[0]);
  close(fds[1]);
}

TEST(IoUringBackend, RecvMsgAndSendMsg) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  Pair p;
  char in[8] = {};
  iovec in_iov{in, sizeof(in)};
  msghdr in_msg{};
  in_msg.msg_iov = &in_iov;
  in_msg.msg_iovlen = 1;
  CountedOp recv;
  recv.kind = OpKind::kRecvMsg;
  recv.fd = p.a;
  recv.msg = &in_msg;
  b.Submit(&recv);
  char out[] = "msg";
  iovec out_iov{out, 3};
  msghdr out_msg{};
  out_msg.msg_iov = &out_iov;
  out_msg.msg_iovlen = 1;
  CountedOp send;
  send.kind = OpKind::kSendMsg;
  send.fd = p.b;
  send.msg = &out_msg;
  b.Submit(&send);
  ASSERT_TRUE(
      WaitUntil(b, [&] { return recv.completions && send.completions; }));
  EXPECT_EQ(recv.res, 3);
  EXPECT_EQ(std::string(in, 3), "msg");
}

TEST(IoUringBackend, AcceptAndConnectOnLoopback) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
            0);
  ASSERT_EQ(listen(listener, 16), 0);
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);

  sockaddr_in peer{};
  socklen_t peer_len = sizeof(peer);
  CountedOp accept;
  accept.kind = OpKind::kAccept;
  accept.fd = listener;
  accept.addr = reinterpret_cast<sockaddr*>(&peer);
  accept.addrlen_out = &peer_len;
  b.Submit(&accept);

  int client = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  CountedOp connect;
  connect.kind = OpKind::kConnect;
  connect.fd = client;
  connect.addr = reinterpret_cast<sockaddr*>(&addr);
  connect.addrlen = sizeof(addr);
  b.Submit(&connect);
  ASSERT_TRUE(
      WaitUntil(b, [&] { return accept.completions && connect.completions; }));
  EXPECT_EQ(connect.res, 0);
  ASSERT_GE(accept.res, 0);
  EXPECT_EQ(peer.sin_family, AF_INET);
  int flags = fcntl(accept.res, F_GETFL);
  EXPECT_TRUE(flags & O_NONBLOCK);
  EXPECT_TRUE(fcntl(accept.res, F_GETFD) & FD_CLOEXEC);
  close(accept.res);
  close(client);
  close(listener);
}

TEST(IoUringBackend, ConnectRefusedIsANegativeErrno) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  close(listener);  // bound once, now nobody listens there
  int client = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  CountedOp connect;
  connect.kind = OpKind::kConnect;
  connect.fd = client;
  connect.addr = reinterpret_cast<sockaddr*>(&addr);
  connect.addrlen = sizeof(addr);
  b.Submit(&connect);
  ASSERT_TRUE(WaitUntil(b, [&] { return connect.completions > 0; }));
  EXPECT_EQ(connect.res, -ECONNREFUSED);
  close(client);
}

TEST(IoUringBackend, PollFdReportsReadiness) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  Pair p;
  CountedOp poll;
  poll.kind = OpKind::kPollFd;
  poll.fd = p.a;
  poll.poll_events = kPollIn;
  b.Submit(&poll);
  b.Wait(0);
  EXPECT_EQ(poll.completions, 0);
  ASSERT_EQ(write(p.b, "x", 1), 1);
  ASSERT_TRUE(WaitUntil(b, [&] { return poll.completions > 0; }));
  EXPECT_TRUE(poll.res & kPollIn);
}

TEST(IoUringBackend, CloseCancelsPendingThenCloses) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  Pair p;
  char in[4];
  CountedOp recv = RecvOp(p.a, in, sizeof(in));
  b.Submit(&recv);
  CountedOp close_op;
  close_op.kind = OpKind::kClose;
  close_op.fd = p.a;
  b.Submit(&close_op);
  ASSERT_TRUE(
      WaitUntil(b, [&] { return recv.completions && close_op.completions; }));
  EXPECT_EQ(recv.res, -ECANCELED);
  EXPECT_EQ(close_op.res, 0);
  EXPECT_EQ(fcntl(p.a, F_GETFD), -1);  // really closed
  p.a = -1;
}

TEST(IoUringBackend, PositionedFileReadWriteAndFsync) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  char path[] = "/tmp/polyio_io_uring_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  char out[] = "0123456789";
  CountedOp pwrite;
  pwrite.kind = OpKind::kPwrite;
  pwrite.fd = fd;
  pwrite.buf = out;
  pwrite.len = 10;
  pwrite.offset = 100;
  b.Submit(&pwrite);
  ASSERT_TRUE(WaitUntil(b, [&] { return pwrite.completions > 0; }));
  EXPECT_EQ(pwrite.res, 10);
  CountedOp fsync;
  fsync.kind = OpKind::kFsync;
  fsync.fd = fd;
  b.Submit(&fsync);
  char in[4] = {};
  CountedOp pread;
  pread.kind = OpKind::kPread;
  pread.fd = fd;
  pread.buf = in;
  pread.len = 4;
  pread.offset = 103;
  b.Submit(&pread);
  ASSERT_TRUE(
      WaitUntil(b, [&] { return pread.completions && fsync.completions; }));
  EXPECT_EQ(fsync.res, 0);
  EXPECT_EQ(pread.res, 4);
  EXPECT_EQ(std::string(in, 4), "3456");
  close(fd);
}

TEST(IoUringBackend, BadFdFinishesInlineWithEbadf) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  char in[4];
  CountedOp recv = RecvOp(-1, in, sizeof(in));
  EXPECT_TRUE(b.Submit(&recv));
  EXPECT_EQ(recv.res, -EBADF);
  EXPECT_EQ(recv.completions, 0);
}

TEST(IoUringBackend, CancelEndsAPendingRecvOnceWithEcanceled) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  Pair p;
  char in[4];
  CountedOp recv = RecvOp(p.a, in, sizeof(in));
  CountedOp never_submitted = RecvOp(p.a, in, sizeof(in));
  b.Cancel(&never_submitted);  // a no-op
  b.Submit(&recv);
  b.Wait(0);
  b.Cancel(&recv);
  b.Cancel(&recv);                 // twice is once
  EXPECT_EQ(recv.completions, 0);  // never inside Cancel
  ASSERT_TRUE(WaitUntil(b, [&] { return recv.completions > 0; }));
  EXPECT_EQ(recv.res, -ECANCELED);
  b.Wait(20'000'000);
  EXPECT_EQ(recv.completions, 1);
  EXPECT_EQ(never_submitted.completions, 0);
  b.Cancel(&recv);  // after completion: a no-op
  b.Wait(0);
  EXPECT_EQ(recv.completions, 1);
  EXPECT_EQ(b.InFlight(), 0u);
}

TEST(IoUringBackend, CancelRacingDataKeepsTheDataOrCancels) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  Pair p;
  for (int i = 0; i < 200; ++i) {
    char in[4] = {};
    CountedOp recv = RecvOp(p.a, in, sizeof(in));
    b.Submit(&recv);
    if (i % 2) b.Wait(0);
    ASSERT_EQ(write(p.b, "abcd", 4), 4);
    b.Cancel(&recv);
    ASSERT_TRUE(WaitUntil(b, [&] { return recv.completions > 0; }));
    EXPECT_EQ(recv.completions, 1);
    if (recv.res == -ECANCELED) {
      char drain[4];
      ASSERT_EQ(read(p.a, drain, 4), 4);  // the data was not consumed
    } else {
      EXPECT_EQ(recv.res, 4);
      EXPECT_EQ(std::string(in, 4), "abcd");
    }
  }
}

TEST(IoUringBackend, ForgetEndsEveryPendingOperationOnTheFd) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  Pair p;
  char in1[4], in2[4];
  CountedOp recv1 = RecvOp(p.a, in1, sizeof(in1));
  CountedOp recv2 = RecvOp(p.a, in2, sizeof(in2));
  CountedOp poll;
  poll.kind = OpKind::kPollFd;
  poll.fd = p.a;
  poll.poll_events = kPollIn;
  Pair unrelated;
  char in3[4];
  CountedOp other = RecvOp(unrelated.a, in3, sizeof(in3));  // another fd
  b.Submit(&recv1);
  b.Wait(0);  // recv1 reaches the kernel; recv2 and poll are still queued
  b.Submit(&recv2);
  b.Submit(&poll);
  b.Submit(&other);
  b.Forget(p.a);
  EXPECT_EQ(recv1.completions + recv2.completions + poll.completions, 0);
  close(p.a);
  // The number is reused at once: nothing queued for the old fd may reach
  // the new file.
  Pair q;
  ASSERT_TRUE(WaitUntil(b, [&] {
    return recv1.completions && recv2.completions && poll.completions;
  }));
  EXPECT_EQ(recv1.res, -ECANCELED);
  EXPECT_EQ(recv2.res, -ECANCELED);
  EXPECT_EQ(poll.res, -ECANCELED);
  EXPECT_EQ(other.completions, 0);
  EXPECT_EQ(b.InFlight(), 1u);
  p.a = -1;
  b.Cancel(&other);
  ASSERT_TRUE(WaitUntil(b, [&] { return other.completions > 0; }));
}

TEST(IoUringBackend, CancelAllEndsEverything) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  std::vector<Pair> pairs(64);
  std::vector<CountedOp> ops(64);
  char buf[64][4];
  for (int i = 0; i < 64; ++i) {
    ops[i] = RecvOp(pairs[i].a, buf[i], 4);
    b.Submit(&ops[i]);
  }
  b.Wait(0);
  b.CancelAll();
  while (b.InFlight() > 0) b.Wait(-1);
  for (auto& op : ops) {
    EXPECT_EQ(op.completions, 1);
    EXPECT_EQ(op.res, -ECANCELED);
  }
}

TEST(IoUringBackend, WakeInterruptsAWaitFromAnotherThread) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  for (int round = 0; round < 3; ++round) {
    std::atomic<bool> woke{false};
    std::thread t([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      woke = true;
      b.Wake();
    });
    auto start = std::chrono::steady_clock::now();
    while (!woke.load()) b.Wait(-1);
    EXPECT_LT(std::chrono::steady_clock::now() - start,
              std::chrono::seconds(2));
    t.join();
  }
  b.Wake();  // before the Wait: that Wait returns promptly
  auto start = std::chrono::steady_clock::now();
  b.Wait(-1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(IoUringBackend, WaitTimesOutNoEarlierThanAsked) {
  POLYIO_MAKE_BACKEND_OR_SKIP(b, BackendOptions{});
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(b.Wait(5'000'000), 0);
  EXPECT_GE(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(5));
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
    ASSERT_EQ(recvs[i].completions, 1) << i;
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
    ASSERT_EQ(op.completions, 1);
    ASSERT_EQ(op.res, -ECANCELED);
  }
}

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
  ASSERT_TRUE(WaitUntil(b, [&] { return recv.completions > 0; }));
  EXPECT_EQ(recv.res, 4);
  CountedOp recv2 = RecvOp(p.a, in, sizeof(in));
  b.Submit(&recv2);
  b.Forget(p.a);
  ASSERT_TRUE(WaitUntil(b, [&] { return recv2.completions > 0; }));
  EXPECT_EQ(recv2.res, -ECANCELED);
}

TEST(IoUringBackend, ModernFeaturesOffProbesNothingOptional) {
  BackendOptions options;
  options.modern_features = false;
  POLYIO_MAKE_BACKEND_OR_SKIP(b, options);
  EXPECT_FALSE(b.features().registered_ring_fd);
  EXPECT_FALSE(b.features().provided_buffer_ring);
  EXPECT_FALSE(b.features().coop_taskrun);
}

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

}  // namespace
}  // namespace polyio::testing
