// The backend contract of backends/backend.h, one behaviour per case, below
// the runtime: polyio_backend_test builds this file once per backend
// (tools/bazel/backend_test.bzl), and each case talks to polyio::Backend
// directly. Nothing here may depend on the model: an operation may finish
// inline (Submit returns true, the readiness backends' fast path) or later
// from Wait (always, on io_uring), and the cases accept either where the
// contract does.
//
// A backend that builds but that this host refuses at run time (io_uring
// under a seccomp filter) skips every case with the reason, unless
// POLYIO_REQUIRE_<BACKEND>=1 is set, which turns the refusal into a failure
// so that a run cannot pass by skipping.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/counted_op.h"
#include "backends/selected.h"
#include "gtest/gtest.h"

namespace polyio {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr int64_t kTurnNs = 10'000'000;       // one Wait while polling
constexpr int64_t kLongNs = 10'000'000'000;   // far longer than any case
constexpr auto kPrompt = milliseconds(2500);  // "promptly", with sanitizers

CountedOp RecvOp(int fd, char* buf, size_t len) {
  return TransferOp(OpKind::kRecv, fd, buf, len);
}

CountedOp PollOp(int fd, uint32_t events) {
  CountedOp op;
  op.kind = OpKind::kPollFd;
  op.fd = fd;
  op.poll_events = events;
  return op;
}

// A message of one buffer, for recvmsg/sendmsg.
struct Message {
  Message(char* buf, size_t len) : iov{buf, len} {
    hdr.msg_iov = &iov;
    hdr.msg_iovlen = 1;
  }
  Message(const Message&) = delete;  // hdr points at iov
  Message& operator=(const Message&) = delete;
  iovec iov;
  msghdr hdr{};
};

CountedOp MessageOp(OpKind kind, int fd, msghdr* msg) {
  CountedOp op;
  op.kind = kind;
  op.fd = fd;
  op.msg = msg;
  return op;
}

CountedOp ConnectOp(int fd, sockaddr_in* addr) {
  CountedOp op;
  op.kind = OpKind::kConnect;
  op.fd = fd;
  op.addr = reinterpret_cast<sockaddr*>(addr);
  op.addrlen = sizeof(*addr);
  return op;
}

std::string EnvOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : fallback;
}

// The backend this binary was built for (set by polyio_backend_test).
std::string ExpectedBackend() { return EnvOr("POLYIO_EXPECT_BACKEND", ""); }

// POLYIO_REQUIRE_<EXPECTED BACKEND>=1, e.g. POLYIO_REQUIRE_IO_URING=1.
bool RequiredByEnvironment() {
  std::string var = "POLYIO_REQUIRE_";
  for (char c : ExpectedBackend()) {
    var += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return EnvOr(var.c_str(), "") == "1";
}

class BackendContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Backend>> backend =
        Backend::Create(BackendOptions{});
    if (!backend.ok()) {
      if (RequiredByEnvironment()) {
        FAIL() << "backend required but unavailable: " << backend.status();
      }
      GTEST_SKIP() << "backend unavailable on this host: " << backend.status();
    }
    backend_ = std::move(*backend);
  }

  void TearDown() override {
    if (backend_ == nullptr) return;
    const bool drained = backend_->InFlight() == 0;
    EXPECT_TRUE(drained) << backend_->InFlight() << " operations left";
    // Forget before close (backend.h), unless operations are still in
    // flight: their storage went with the case's body.
    for (int fd : fds_) {
      if (drained) backend_->Forget(fd);
      close(fd);
    }
  }

  Backend& backend() { return *backend_; }

  // Submits `op`, counting an inline finish as its completion. Returns
  // whether it finished inline.
  bool Start(CountedOp& op) {
    op.finished_inline = backend().Submit(&op);
    return op.finished_inline;
  }

  // Waits, a turn at a time, until `done()`; false after five seconds.
  template <class Done>
  bool WaitUntil(Done done) {
    auto deadline = steady_clock::now() + std::chrono::seconds(5);
    while (!done()) {
      if (steady_clock::now() > deadline) return false;
      backend().Wait(kTurnNs);
    }
    return true;
  }

  // Waits until each of `ops` has completed; false after five seconds.
  bool WaitFor(std::initializer_list<const CountedOp*> ops) {
    return WaitUntil([&ops] {
      return std::all_of(ops.begin(), ops.end(), [](const CountedOp* op) {
        return op->completions() > 0;
      });
    });
  }

  // Waits once with a long timeout; returns how long that took.
  steady_clock::duration TimeOneLongWait() {
    auto start = steady_clock::now();
    backend().Wait(kLongNs);
    return steady_clock::now() - start;
  }

  // Takes `fd` into the case's care: forgotten and closed at the end.
  int Track(int fd) {
    EXPECT_GE(fd, 0) << std::strerror(errno);
    if (fd >= 0) fds_.push_back(fd);
    return fd;
  }
  // Stops tracking `fd` (something else closed it).
  void Untrack(int fd) {
    fds_.erase(std::remove(fds_.begin(), fds_.end(), fd), fds_.end());
  }
  // Forgets and closes `fd` now, as the net layer does.
  void CloseFd(int fd) {
    backend().Forget(fd);
    Untrack(fd);
    close(fd);
  }

  // A connected AF_UNIX stream pair, both ends non-blocking.
  std::pair<int, int> SocketPair() {
    int sv[2] = {-1, -1};
    EXPECT_EQ(
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
        0);
    return {Track(sv[0]), Track(sv[1])};
  }

  // A non-blocking pipe: {read end, write end}.
  std::pair<int, int> Pipe() {
    int fds[2] = {-1, -1};
    EXPECT_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
    return {Track(fds[0]), Track(fds[1])};
  }

  int TcpSocket() {
    return Track(
        socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  }

  // A socket bound to an ephemeral loopback port, whose address goes to
  // `addr`; listening when `listen` is true.
  int BoundLoopback(sockaddr_in* addr, bool listening) {
    int fd = TcpSocket();
    *addr = sockaddr_in{};
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(*addr);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(addr), len), 0);
    EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(addr), &len), 0);
    if (listening) {
      EXPECT_EQ(listen(fd, 16), 0);
    }
    return fd;
  }

  // Accepts on a loopback listener while a client connects to it; returns
  // the accepted fd (tracked), or -1 after reporting a failure.
  int AcceptOneConnection() {
    sockaddr_in addr;
    int listener = BoundLoopback(&addr, /*listening=*/true);
    sockaddr_in peer{};
    socklen_t peer_len = sizeof(peer);
    CountedOp accept;
    accept.kind = OpKind::kAccept;
    accept.fd = listener;
    accept.addr = reinterpret_cast<sockaddr*>(&peer);
    accept.addrlen_out = &peer_len;
    Start(accept);
    CountedOp connect = ConnectOp(TcpSocket(), &addr);
    Start(connect);
    if (!WaitFor({&accept, &connect})) {
      ADD_FAILURE() << "accept or connect did not complete";
      backend().CancelAll();
      WaitUntil([&] { return backend().InFlight() == 0; });
      return -1;
    }
    EXPECT_EQ(connect.res, 0);
    EXPECT_EQ(peer.sin_family, AF_INET);
    return accept.res >= 0 ? Track(accept.res) : -1;
  }

  std::unique_ptr<Backend> backend_;
  std::vector<int> fds_;
};

// What the backend says about itself.

// Name() is the backend this binary was built for (auto: the one it chose).
TEST_F(BackendContractTest, NameIsTheBackendThisBinaryWasBuiltFor) {
  std::string expected = ExpectedBackend();
  ASSERT_FALSE(expected.empty()) << "run through polyio_backend_test";
  std::string_view name = backend().Name();
  if (expected != "auto") {
    EXPECT_EQ(name, expected);
  } else if (EnvOr("POLYIO_IO_URING_FORCE_UNAVAILABLE", "") == "1") {
    EXPECT_EQ(name, "epoll");
  } else {
    EXPECT_TRUE(name == "io_uring" || name == "epoll") << name;
  }
}

// Model() is kCompletion for io_uring, kReadiness for every other backend.
TEST_F(BackendContractTest, ModelIsCompletionExactlyForIoUring) {
  EXPECT_EQ(backend().Model() == CompletionModel::kCompletion,
            backend().Name() == "io_uring");
}

// Submitting and completing.

// A recv on an empty socket is in flight until data arrives, then done once.
TEST_F(BackendContractTest, RecvWithoutDataIsInFlightUntilDataArrives) {
  auto [a, b] = SocketPair();
  char in[16] = {};
  CountedOp recv = RecvOp(a, in, sizeof(in));
  EXPECT_FALSE(Start(recv));
  backend().Wait(0);
  EXPECT_EQ(recv.completions(), 0);
  ASSERT_EQ(write(b, "hello", 5), 5);
  ASSERT_TRUE(WaitFor({&recv}));
  EXPECT_EQ(recv.res, 5);
  EXPECT_EQ(std::string(in, 5), "hello");
  backend().Wait(0);
  EXPECT_EQ(recv.completions(), 1);
}

// A ready recv completes once: inline with no callback, or by one callback.
TEST_F(BackendContractTest, ReadyOperationCompletesExactlyOnce) {
  auto [a, b] = SocketPair();
  ASSERT_EQ(write(b, "ab", 2), 2);
  char in[4] = {};
  CountedOp recv = RecvOp(a, in, sizeof(in));
  bool finished_inline = Start(recv);
  ASSERT_TRUE(WaitFor({&recv}));
  backend().Wait(kTurnNs);
  EXPECT_EQ(recv.completions(), 1);
  EXPECT_EQ(recv.callbacks, finished_inline ? 0 : 1);
  EXPECT_EQ(recv.res, 2);
}

// A send completes, inline or from Wait, with the number of bytes sent.
TEST_F(BackendContractTest, SendCompletesWithTheByteCount) {
  auto [a, b] = SocketPair();
  char out[] = "hello";
  CountedOp send = TransferOp(OpKind::kSend, a, out, 5);
  Start(send);
  ASSERT_TRUE(WaitFor({&send}));
  EXPECT_EQ(send.res, 5);
  char in[8];
  EXPECT_EQ(read(b, in, sizeof(in)), 5);
}

// read/write on a non-blocking pipe wait for readiness; EAGAIN never shows.
TEST_F(BackendContractTest, PipeReadAndWriteNeverSurfaceEagain) {
  auto [r, w] = Pipe();
  char in[8] = {};
  CountedOp read = TransferOp(OpKind::kRead, r, in, sizeof(in));
  Start(read);
  backend().Wait(0);
  EXPECT_EQ(read.completions(), 0) << "res " << read.res;
  char out[] = "pipe";
  CountedOp write = TransferOp(OpKind::kWrite, w, out, 4);
  Start(write);
  ASSERT_TRUE(WaitFor({&read, &write}));
  EXPECT_EQ(write.res, 4);
  EXPECT_EQ(read.res, 4);
  EXPECT_EQ(std::string(in, 4), "pipe");
}

// recvmsg receives, into the message's buffers, what sendmsg sent.
TEST_F(BackendContractTest, RecvMsgAndSendMsgCarryTheMessage) {
  auto [a, b] = SocketPair();
  char in[8] = {};
  Message in_msg(in, sizeof(in));
  CountedOp recv = MessageOp(OpKind::kRecvMsg, a, &in_msg.hdr);
  Start(recv);
  char out[] = "msg";
  Message out_msg(out, 3);
  CountedOp send = MessageOp(OpKind::kSendMsg, b, &out_msg.hdr);
  Start(send);
  ASSERT_TRUE(WaitFor({&recv, &send}));
  EXPECT_EQ(send.res, 3);
  EXPECT_EQ(recv.res, 3);
  EXPECT_EQ(std::string(in, 3), "msg");
}

// accept completes with a new fd as a client's connect completes with 0.
TEST_F(BackendContractTest, AcceptAndConnectMeetOnLoopback) {
  EXPECT_GE(AcceptOneConnection(), 0);
}

// The fd that accept returns is non-blocking and close-on-exec.
TEST_F(BackendContractTest, AcceptedFdIsNonBlockingAndCloseOnExec) {
  int fd = AcceptOneConnection();
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

// A connect to a loopback port nobody listens on ends with -ECONNREFUSED.
TEST_F(BackendContractTest, RefusedConnectCompletesWithEconnrefused) {
  sockaddr_in addr;
  CloseFd(BoundLoopback(&addr, /*listening=*/false));  // now nobody is there
  CountedOp connect = ConnectOp(TcpSocket(), &addr);
  Start(connect);
  ASSERT_TRUE(WaitFor({&connect}));
  EXPECT_EQ(connect.res, -ECONNREFUSED);
}

// A poll-fd waits until the fd is readable and completes with the mask.
TEST_F(BackendContractTest, PollFdCompletesWithTheReadyMask) {
  auto [a, b] = SocketPair();
  CountedOp poll = PollOp(a, kPollIn);
  Start(poll);
  backend().Wait(0);
  EXPECT_EQ(poll.completions(), 0);
  ASSERT_EQ(write(b, "x", 1), 1);
  ASSERT_TRUE(WaitFor({&poll}));
  EXPECT_TRUE(poll.res & kPollIn) << poll.res;
}

// A poll-fd for both directions completes with the one that is ready.
TEST_F(BackendContractTest, PollFdForBothDirectionsReportsTheReadyOne) {
  auto [a, b] = SocketPair();
  CountedOp poll = PollOp(a, kPollIn | kPollOut);
  Start(poll);
  ASSERT_TRUE(WaitFor({&poll}));
  EXPECT_TRUE(poll.res & kPollOut) << poll.res;  // an empty send buffer
  EXPECT_FALSE(poll.res & kPollIn) << poll.res;  // nothing to read
}

// A close ends the fd's pending operations with -ECANCELED, then closes it.
TEST_F(BackendContractTest, CloseCancelsPendingOperationsThenClosesTheFd) {
  auto [a, b] = SocketPair();
  char in[4];
  CountedOp recv = RecvOp(a, in, sizeof(in));
  Start(recv);
  CountedOp close_op;
  close_op.kind = OpKind::kClose;
  close_op.fd = a;
  Start(close_op);
  Untrack(a);
  ASSERT_TRUE(WaitFor({&recv, &close_op}));
  EXPECT_EQ(recv.res, -ECANCELED);
  EXPECT_EQ(close_op.res, 0);
  EXPECT_EQ(fcntl(a, F_GETFD), -1) << "still open";
}

// An operation on a negative fd finishes inline with -EBADF, no callback.
TEST_F(BackendContractTest, NegativeFdFinishesInlineWithEbadf) {
  char in[4];
  CountedOp recv = RecvOp(-1, in, sizeof(in));
  EXPECT_TRUE(Start(recv));
  EXPECT_EQ(recv.res, -EBADF);
  backend().Wait(0);
  EXPECT_EQ(recv.callbacks, 0);
}

// A completion callback may submit an operation, which completes as usual.
TEST_F(BackendContractTest, CompletionCallbackMaySubmitAnotherOperation) {
  struct Chained : CountedOp {
    Backend* backend = nullptr;
    CountedOp* next = nullptr;
  };
  auto [a, b] = SocketPair();
  auto [c, d] = SocketPair();
  char in1[4], in2[4];
  CountedOp second = RecvOp(c, in2, sizeof(in2));
  Chained first;
  static_cast<CountedOp&>(first) = RecvOp(a, in1, sizeof(in1));
  first.backend = &backend();
  first.next = &second;
  first.on_complete = [](Operation* op) {
    auto* self = static_cast<Chained*>(op);
    ++self->callbacks;
    self->next->finished_inline = self->backend->Submit(self->next);
  };
  Start(first);
  ASSERT_EQ(write(b, "1", 1), 1);
  ASSERT_TRUE(WaitFor({&first}));
  ASSERT_EQ(write(d, "2", 1), 1);
  ASSERT_TRUE(WaitFor({&second}));
  EXPECT_EQ(second.res, 1);
  EXPECT_EQ(in2[0], '2');
}

// InFlight() counts operations submitted and not yet delivered.
TEST_F(BackendContractTest, InFlightCountsSubmittedUndeliveredOperations) {
  auto [a, b] = SocketPair();
  char in1[4], in2[4];
  CountedOp recv1 = RecvOp(a, in1, sizeof(in1));
  CountedOp recv2 = RecvOp(b, in2, sizeof(in2));
  Start(recv1);
  Start(recv2);
  EXPECT_EQ(backend().InFlight(), 2u);
  backend().Cancel(&recv1);
  EXPECT_EQ(backend().InFlight(), 2u);
  ASSERT_TRUE(WaitFor({&recv1}));
  EXPECT_EQ(backend().InFlight(), 1u);
  backend().Cancel(&recv2);
  ASSERT_TRUE(WaitFor({&recv2}));
  EXPECT_EQ(backend().InFlight(), 0u);
}

// Data left after a partial read completes the next read (invariant 1).
TEST_F(BackendContractTest, DataLeftAfterAPartialReadCompletesTheNextRead) {
  auto [a, b] = SocketPair();
  char in1[4], in2[4];
  CountedOp first = RecvOp(a, in1, sizeof(in1));
  Start(first);
  ASSERT_EQ(write(b, "12345678", 8), 8);
  ASSERT_TRUE(WaitFor({&first}));
  ASSERT_EQ(first.res, 4);
  CountedOp second = RecvOp(a, in2, sizeof(in2));
  Start(second);
  ASSERT_TRUE(WaitFor({&second}));
  EXPECT_EQ(second.res, 4);
  EXPECT_EQ(std::string(in2, 4), "5678");
}

// Hundreds of fds wait at once, and each read gets its own fd's data.
TEST_F(BackendContractTest, HundredsOfFdsWaitAtOnce) {
  constexpr int kPairs = 300;
  std::vector<std::pair<int, int>> pairs;
  std::vector<CountedOp> recvs(kPairs);
  std::vector<char> bufs(kPairs);
  for (int i = 0; i < kPairs; ++i) {
    pairs.push_back(SocketPair());
    recvs[i] = RecvOp(pairs[i].first, &bufs[i], 1);
    EXPECT_FALSE(Start(recvs[i]));
  }
  backend().Wait(0);
  for (int i = kPairs - 1; i >= 0; --i) {
    char c = static_cast<char>('a' + i % 26);
    ASSERT_EQ(write(pairs[i].second, &c, 1), 1);
  }
  ASSERT_TRUE(WaitUntil([&] { return backend().InFlight() == 0; }));
  for (int i = 0; i < kPairs; ++i) {
    ASSERT_EQ(recvs[i].completions(), 1) << i;
    ASSERT_EQ(recvs[i].res, 1) << i;
    ASSERT_EQ(bufs[i], 'a' + i % 26) << i;
  }
}

// Cancel.

// Cancel only asks: -ECANCELED comes once, from a later Wait, not inside.
TEST_F(BackendContractTest, CancelCompletesAPendingOperationWithEcanceled) {
  auto [a, b] = SocketPair();
  char in[4];
  CountedOp recv = RecvOp(a, in, sizeof(in));
  Start(recv);
  backend().Wait(0);
  backend().Cancel(&recv);
  EXPECT_EQ(recv.completions(), 0) << "completed inside Cancel";
  ASSERT_TRUE(WaitFor({&recv}));
  EXPECT_EQ(recv.res, -ECANCELED);
  backend().Wait(kTurnNs);
  EXPECT_EQ(recv.completions(), 1);
}

// Cancelling twice completes the operation once.
TEST_F(BackendContractTest, CancellingTwiceCompletesOnce) {
  auto [a, b] = SocketPair();
  char in[4];
  CountedOp recv = RecvOp(a, in, sizeof(in));
  Start(recv);
  backend().Cancel(&recv);
  backend().Cancel(&recv);
  ASSERT_TRUE(WaitFor({&recv}));
  backend().Wait(kTurnNs);
  EXPECT_EQ(recv.completions(), 1);
}

// Cancelling an operation that was never submitted does nothing.
TEST_F(BackendContractTest, CancelOfANeverSubmittedOperationIsANoOp) {
  auto [a, b] = SocketPair();
  char in[4];
  CountedOp never = RecvOp(a, in, sizeof(in));
  backend().Cancel(&never);
  backend().Wait(kTurnNs);
  EXPECT_EQ(never.completions(), 0);
  EXPECT_EQ(backend().InFlight(), 0u);
}

// Cancelling an operation that already completed does nothing.
TEST_F(BackendContractTest, CancelAfterCompletionIsANoOp) {
  auto [a, b] = SocketPair();
  char in[4];
  CountedOp recv = RecvOp(a, in, sizeof(in));
  Start(recv);
  ASSERT_EQ(write(b, "x", 1), 1);
  ASSERT_TRUE(WaitFor({&recv}));
  backend().Cancel(&recv);
  backend().Wait(kTurnNs);
  EXPECT_EQ(recv.completions(), 1);
  EXPECT_EQ(recv.res, 1);
}

// A cancel racing data either delivers it or cancels and leaves it unread.
TEST_F(BackendContractTest, CancelRacingDataDeliversTheDataOrLeavesIt) {
  auto [a, b] = SocketPair();
  for (int i = 0; i < 200; ++i) {
    char in[4] = {};
    CountedOp recv = RecvOp(a, in, sizeof(in));
    Start(recv);
    if (i % 2) backend().Wait(0);
    ASSERT_EQ(write(b, "abcd", 4), 4);
    backend().Cancel(&recv);
    ASSERT_TRUE(WaitFor({&recv}));
    ASSERT_EQ(recv.completions(), 1);
    if (recv.res == -ECANCELED) {
      char drain[4];
      ASSERT_EQ(read(a, drain, 4), 4) << "cancelled, yet the data is gone";
    } else {
      ASSERT_EQ(recv.res, 4);
      ASSERT_EQ(std::string(in, 4), "abcd");
    }
  }
}

// CancelAll ends every operation in flight with -ECANCELED (shutdown).
TEST_F(BackendContractTest, CancelAllCompletesEveryOperationWithEcanceled) {
  constexpr int kOps = 64;
  std::vector<CountedOp> ops(kOps);
  std::vector<char> bufs(kOps);
  for (int i = 0; i < kOps; ++i) {
    ops[i] = RecvOp(SocketPair().first, &bufs[i], 1);
    Start(ops[i]);
  }
  backend().Wait(0);
  backend().CancelAll();
  ASSERT_TRUE(WaitUntil([&] { return backend().InFlight() == 0; }));
  for (const CountedOp& op : ops) {
    EXPECT_EQ(op.completions(), 1);
    EXPECT_EQ(op.res, -ECANCELED);
  }
}

// Forget.

// Forget ends every operation pending on the fd with -ECANCELED, later.
TEST_F(BackendContractTest, ForgetCancelsEveryPendingOperationOnTheFd) {
  auto [a, b] = SocketPair();
  char in1[4], in2[4];
  CountedOp recv1 = RecvOp(a, in1, sizeof(in1));
  CountedOp recv2 = RecvOp(a, in2, sizeof(in2));
  CountedOp poll = PollOp(a, kPollIn);
  Start(recv1);
  backend().Wait(0);  // recv1 is under way; recv2 and poll only submitted
  Start(recv2);
  Start(poll);
  backend().Forget(a);
  EXPECT_EQ(recv1.completions() + recv2.completions() + poll.completions(), 0)
      << "completed inside Forget";
  ASSERT_TRUE(WaitFor({&recv1, &recv2, &poll}));
  EXPECT_EQ(recv1.res, -ECANCELED);
  EXPECT_EQ(recv2.res, -ECANCELED);
  EXPECT_EQ(poll.res, -ECANCELED);
}

// Forget of one fd leaves the operations of other fds pending.
TEST_F(BackendContractTest, ForgetLeavesOtherFdsAlone) {
  auto [a, b] = SocketPair();
  auto [c, d] = SocketPair();
  char in1[4], in2[4];
  CountedOp forgotten = RecvOp(a, in1, sizeof(in1));
  CountedOp other = RecvOp(c, in2, sizeof(in2));
  Start(forgotten);
  Start(other);
  backend().Forget(a);
  ASSERT_TRUE(WaitFor({&forgotten}));
  EXPECT_EQ(other.completions(), 0);
  ASSERT_EQ(write(d, "x", 1), 1);
  ASSERT_TRUE(WaitFor({&other}));
  EXPECT_EQ(other.res, 1);
}

// Forget of an fd the backend never saw does nothing.
TEST_F(BackendContractTest, ForgetOfAnUnknownFdIsANoOp) {
  auto [a, b] = SocketPair();
  backend().Forget(a);
  EXPECT_EQ(backend().Wait(0), 0);
  EXPECT_EQ(backend().InFlight(), 0u);
}

// A number forgotten, closed and reused at once gets nothing of the old fd.
TEST_F(BackendContractTest, ReusedFdNumberStartsClean) {
  auto [a, b] = SocketPair();
  char in[4] = {};
  CountedOp old_recv = RecvOp(a, in, sizeof(in));
  Start(old_recv);
  backend().Wait(0);
  CloseFd(a);
  auto [c, d] = SocketPair();
  if (c != a) {  // the new socket takes the old number
    ASSERT_EQ(dup2(c, a), a);
    CloseFd(c);
    Track(a);
  }
  CountedOp new_recv = RecvOp(a, in, sizeof(in));
  Start(new_recv);
  ASSERT_EQ(write(d, "new", 3), 3);
  ASSERT_TRUE(WaitFor({&old_recv, &new_recv}));
  EXPECT_EQ(old_recv.res, -ECANCELED);
  EXPECT_EQ(new_recv.res, 3);
  EXPECT_EQ(std::string(in, 3), "new");
}

// Wait and Wake.

// Wake() from another thread ends a blocked Wait promptly.
TEST_F(BackendContractTest, WakeFromAnotherThreadEndsABlockedWait) {
  for (int round = 0; round < 3; ++round) {
    std::thread waker([this] {
      std::this_thread::sleep_for(milliseconds(20));
      backend().Wake();
    });
    EXPECT_LT(TimeOneLongWait(), kPrompt) << "round " << round;
    waker.join();
  }
}

// A Wake() before Wait makes that Wait return promptly.
TEST_F(BackendContractTest, WakeBeforeWaitMakesThatWaitReturnPromptly) {
  backend().Wake();
  backend().Wake();  // wakes coalesce
  EXPECT_LT(TimeOneLongWait(), kPrompt);
}

// Wakes racing Wait's drain of the wake signal never swallow a later Wake().
TEST_F(BackendContractTest, NoWakeIsLostWhenWakesRaceTheDrain) {
  std::atomic<bool> stop{false};
  std::thread hammer([this, &stop] {
    while (!stop.load(std::memory_order_relaxed)) {
      backend().Wake();
      std::this_thread::yield();
    }
  });
  auto until = steady_clock::now() + milliseconds(200);
  while (steady_clock::now() < until) backend().Wait(1'000'000);
  stop = true;
  hammer.join();
  // Consume what the last wakes left, until a Wait times out.
  for (int i = 0; i < 100; ++i) {
    auto start = steady_clock::now();
    backend().Wait(20'000'000);
    if (steady_clock::now() - start >= milliseconds(20)) break;
  }
  std::thread waker([this] {
    std::this_thread::sleep_for(milliseconds(20));
    backend().Wake();
  });
  EXPECT_LT(TimeOneLongWait(), kPrompt) << "the Wake() was lost";
  waker.join();
}

// Wait times out with 0, never early, also for fractions of a millisecond.
TEST_F(BackendContractTest, WaitTimesOutNoEarlierThanAsked) {
  for (int64_t timeout_ns : {1'500'000, 5'000'000}) {
    auto start = steady_clock::now();
    EXPECT_EQ(backend().Wait(timeout_ns), 0);
    EXPECT_GE(steady_clock::now() - start, std::chrono::nanoseconds(timeout_ns))
        << timeout_ns;
  }
}

// Wait(0) returns at once when nothing is ready.
TEST_F(BackendContractTest, WaitZeroDoesNotBlock) {
  auto [a, b] = SocketPair();
  char in[4];
  CountedOp recv = RecvOp(a, in, sizeof(in));
  Start(recv);
  auto start = steady_clock::now();
  EXPECT_EQ(backend().Wait(0), 0);
  EXPECT_LT(steady_clock::now() - start, kPrompt);
  backend().Cancel(&recv);
  ASSERT_TRUE(WaitFor({&recv}));
}

// Files (positioned operations), by NativeFileIo().

// Where NativeFileIo() is true, pwrite, fsync and pread run on the backend.
TEST_F(BackendContractTest, PositionedFileIoRunsWhereNative) {
  if (!backend().NativeFileIo()) {
    GTEST_SKIP() << backend().Name() << " takes no file operations";
  }
  char path[] = "/tmp/polyio_backend_contract_XXXXXX";
  int fd = Track(mkstemp(path));
  ASSERT_GE(fd, 0);
  unlink(path);
  char out[] = "0123456789";
  CountedOp pwrite = TransferOp(OpKind::kPwrite, fd, out, 10);
  pwrite.offset = 100;
  Start(pwrite);
  ASSERT_TRUE(WaitFor({&pwrite}));
  EXPECT_EQ(pwrite.res, 10);
  CountedOp fsync;
  fsync.kind = OpKind::kFsync;
  fsync.fd = fd;
  Start(fsync);
  char in[4] = {};
  CountedOp pread = TransferOp(OpKind::kPread, fd, in, 4);
  pread.offset = 103;
  Start(pread);
  ASSERT_TRUE(WaitFor({&pread, &fsync}));
  EXPECT_EQ(fsync.res, 0);
  EXPECT_EQ(pread.res, 4);
  EXPECT_EQ(std::string(in, 4), "3456");
}

// Where NativeFileIo() is false, file operations finish with -EOPNOTSUPP.
TEST_F(BackendContractTest, FileOperationsAreRefusedWhereNotNative) {
  if (backend().NativeFileIo()) {
    GTEST_SKIP() << backend().Name() << " runs file operations natively";
  }
  char path[] = "/tmp/polyio_backend_contract_XXXXXX";
  int fd = Track(mkstemp(path));
  ASSERT_GE(fd, 0);
  unlink(path);
  char buf[4] = {};
  for (OpKind kind : {OpKind::kPread, OpKind::kPwrite, OpKind::kFsync}) {
    CountedOp op = TransferOp(kind, fd, buf, sizeof(buf));
    EXPECT_TRUE(Start(op)) << static_cast<int>(kind);
    EXPECT_EQ(op.res, -EOPNOTSUPP) << static_cast<int>(kind);
  }
  // Path operations too, relative to the working directory (AT_FDCWD, a
  // negative fd) or to an fd; the path is never looked at.
  PathArgs args;
  args.path = "/polyio/never/looked/at";
  for (OpKind kind : {OpKind::kOpenAt, OpKind::kStatx, OpKind::kRenameAt,
                      OpKind::kUnlinkAt, OpKind::kMkdirAt}) {
    for (int dir : {AT_FDCWD, fd}) {
      CountedOp op;
      op.kind = kind;
      op.fd = dir;
      op.buf = &args;
      EXPECT_TRUE(Start(op)) << static_cast<int>(kind);
      EXPECT_EQ(op.res, -EOPNOTSUPP) << static_cast<int>(kind) << " " << dir;
    }
  }
}

}  // namespace
}  // namespace polyio
