// Tests of KqueuePoller and KqueueBackend below the runtime: level
// triggering, batching of registrations, late registration errors, removal
// before close, wake-ups.
// The conformance suite (tests/conformance) covers the whole contract.
#include "backends/kqueue/kqueue_poller.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <thread>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "backends/kqueue/kqueue_backend.h"
#include "backends/operation.h"
#include "gtest/gtest.h"

namespace polyio {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr int64_t kLongNs = 5'000'000'000;  // far longer than any test step

static_assert(BackendContract<KqueueBackend>);

// Records what a poller reports.
struct Report {
  bool readable = false;
  bool writable = false;
  bool failed_read = false;
  bool failed_write = false;
  int32_t error = 0;
  int calls = 0;
};

struct Recorder {
  std::map<int, Report>* reports;
  // Native-event operations reported fired, with their results.
  std::vector<std::pair<Operation*, int32_t>>* fired = nullptr;
  void Fired(Operation* op, int32_t res) const {
    if (fired == nullptr) {
      ADD_FAILURE() << "unexpected native event";
      return;
    }
    fired->emplace_back(op, res);
  }
  void Ready(int fd, bool readable, bool writable, bool = false) const {
    Report& r = (*reports)[fd];
    r.readable |= readable;
    r.writable |= writable;
    ++r.calls;
  }
  void ArmFailed(int fd, bool read, bool write, int32_t error) const {
    Report& r = (*reports)[fd];
    r.failed_read |= read;
    r.failed_write |= write;
    r.error = error;
    ++r.calls;
  }
};

struct SocketPair {
  SocketPair() {
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    a = sv[0];
    b = sv[1];
    fcntl(a, F_SETFL, fcntl(a, F_GETFL) | O_NONBLOCK);
    fcntl(b, F_SETFL, fcntl(b, F_GETFL) | O_NONBLOCK);
  }
  ~SocketPair() {
    if (a >= 0) close(a);
    if (b >= 0) close(b);
  }
  int a = -1;
  int b = -1;
};

// Moves `q.a` to the number `fd` (which must be free), as a later open()
// reusing a closed fd's number would.
void TakeNumber(SocketPair& q, int fd) {
  if (q.b == fd) std::swap(q.a, q.b);
  if (q.a == fd) return;
  ASSERT_EQ(dup2(q.a, fd), fd);
  close(q.a);
  q.a = fd;
}

KqueuePoller NewPoller(uint32_t max_events = 64) {
  BackendOptions options;
  options.max_events = max_events;
  absl::StatusOr<KqueuePoller> poller = KqueuePoller::Create(options);
  EXPECT_TRUE(poller.ok()) << poller.status();
  return std::move(*poller);
}

std::map<int, Report> PollOnce(KqueuePoller& poller, int64_t timeout_ns) {
  std::map<int, Report> reports;
  poller.Poll(timeout_ns, Recorder{&reports});
  return reports;
}

TEST(KqueuePollerTest, ArmIsBatchedIntoTheNextPoll) {
  KqueuePoller poller = NewPoller();
  SocketPair p;
  EXPECT_EQ(poller.Arm(p.a, true, true), 0);
  EXPECT_EQ(poller.PendingChanges(), 2u);  // read + write, not yet applied
  std::map<int, Report> reports = PollOnce(poller, kLongNs);
  EXPECT_EQ(poller.PendingChanges(), 0u);
  ASSERT_TRUE(reports.count(p.a));
  EXPECT_TRUE(reports[p.a].writable);  // an empty socket buffer
  EXPECT_FALSE(reports[p.a].readable);
}

TEST(KqueuePollerTest, ArmedAndDisarmedWithinATurnCostsNothing) {
  KqueuePoller poller = NewPoller();
  SocketPair p;
  poller.Arm(p.a, true, false);
  poller.Arm(p.a, true, true);
  EXPECT_EQ(poller.PendingChanges(), 2u);  // the last word counts
  poller.Arm(p.a, false, false);
  EXPECT_EQ(poller.PendingChanges(), 0u);
  EXPECT_TRUE(PollOnce(poller, 0).empty());
}

TEST(KqueuePollerTest, LevelTriggeredReportsAReadableFdUntilItIsRead) {
  KqueuePoller poller = NewPoller();
  SocketPair p;
  poller.Arm(p.a, true, false);              // readers only
  EXPECT_TRUE(PollOnce(poller, 0).empty());  // writable, but not asked
  ASSERT_EQ(write(p.b, "xy", 2), 2);
  std::map<int, Report> reports = PollOnce(poller, kLongNs);
  EXPECT_TRUE(reports[p.a].readable);
  EXPECT_FALSE(reports[p.a].writable);
  // Not read yet: reported again, on every wait.
  EXPECT_TRUE(PollOnce(poller, 0)[p.a].readable);
  char c;
  ASSERT_EQ(read(p.a, &c, 1), 1);
  EXPECT_TRUE(PollOnce(poller, 0)[p.a].readable);  // one byte left
  ASSERT_EQ(read(p.a, &c, 1), 1);
  EXPECT_TRUE(PollOnce(poller, 0).empty());
}

TEST(KqueuePollerTest, OnlyTheDirectionsWithWaitersAreReported) {
  KqueuePoller poller = NewPoller();
  SocketPair p;
  ASSERT_EQ(write(p.b, "x", 1), 1);
  poller.Arm(p.a, true, true);
  std::map<int, Report> reports = PollOnce(poller, kLongNs);
  EXPECT_TRUE(reports[p.a].readable && reports[p.a].writable);
  // The writers are gone: EVFILT_WRITE is deleted, reading goes on.
  poller.Arm(p.a, true, false);
  EXPECT_EQ(poller.PendingChanges(), 1u);
  reports = PollOnce(poller, kLongNs);
  EXPECT_TRUE(reports[p.a].readable);
  EXPECT_FALSE(reports[p.a].writable);
  // Nobody waits: the fd is not reported although it is still ready.
  poller.Arm(p.a, false, false);
  EXPECT_TRUE(PollOnce(poller, 0).empty());
  poller.Arm(p.a, false, true);
  reports = PollOnce(poller, kLongNs);
  EXPECT_FALSE(reports[p.a].readable);
  EXPECT_TRUE(reports[p.a].writable);
}

TEST(KqueuePollerTest, ReadyFdsBeyondTheEventSlotsAreReportedLater) {
  // More ready fds than one kevent() can return. libkqueue drops what does
  // not fit in the event list; level triggering reports it again.
  constexpr int kPairs = 200;
  KqueuePoller poller = NewPoller(/*max_events=*/16);
  std::vector<SocketPair> pairs(kPairs);
  for (SocketPair& p : pairs) {
    ASSERT_EQ(write(p.b, "x", 1), 1);
    poller.Arm(p.a, true, true);
  }
  std::map<int, Report> all;
  struct Consume {
    KqueuePoller* poller;
    std::map<int, Report>* all;
    void Ready(int fd, bool readable, bool writable, bool) const {
      Recorder{all}.Ready(fd, readable, writable);
      if (readable) poller->Arm(fd, false, false);
    }
    void ArmFailed(int, bool, bool, int32_t) const { ADD_FAILURE(); }
    void Fired(Operation*, int32_t) const { ADD_FAILURE(); }
  };
  for (int turn = 0; turn < 10 * kPairs; ++turn) {
    poller.Poll(kLongNs, Consume{&poller, &all});
    size_t readable = 0;
    for (auto& [fd, r] : all) readable += r.readable;
    if (readable == pairs.size()) break;
  }
  for (SocketPair& p : pairs) EXPECT_TRUE(all[p.a].readable) << p.a;
  for (SocketPair& p : pairs) poller.Disarm(p.a);
}

TEST(KqueuePollerTest, AFailedDeleteIsNotReported) {
  KqueuePoller poller = NewPoller();
  SocketPair p;
  poller.Arm(p.a, true, false);
  PollOnce(poller, 0);
  // Gone behind the poller's back (BSD drops the registration on close):
  // deleting it fails, which means there is nothing left to delete.
  int fd = p.a;
  close(p.a);
  p.a = -1;
  poller.Arm(fd, false, false);
  auto start = steady_clock::now();
  EXPECT_TRUE(PollOnce(poller, kLongNs / 50).empty());
  EXPECT_LT(steady_clock::now() - start, milliseconds(1000));
}

TEST(KqueuePollerTest, FailedRegistrationIsReportedAtOnce) {
  KqueuePoller poller = NewPoller();
  SocketPair p;
  int closed = dup(p.a);
  ASSERT_GE(closed, 0);
  close(closed);  // a number that names no open file
  poller.Arm(closed, true, true);
  auto start = steady_clock::now();
  std::map<int, Report> reports = PollOnce(poller, kLongNs);
  // The failed change must not make kevent() wait (libkqueue does when
  // event slots are left over).
  EXPECT_LT(steady_clock::now() - start, milliseconds(1000));
  ASSERT_TRUE(reports.count(closed));
  EXPECT_TRUE(reports[closed].failed_read);
  EXPECT_TRUE(reports[closed].failed_write);
  EXPECT_EQ(reports[closed].error, -EBADF);
  EXPECT_EQ(reports[closed].calls, 1);  // both filters in one report
}

TEST(KqueuePollerTest, DisarmBeforePollDropsTheQueuedChanges) {
  KqueuePoller poller = NewPoller();
  SocketPair p;
  poller.Arm(p.a, true, true);
  poller.Disarm(p.a);
  EXPECT_EQ(poller.PendingChanges(), 0u);
  EXPECT_TRUE(PollOnce(poller, 0).empty());
}

TEST(KqueuePollerTest, DisarmThenCloseThenReuseTheNumber) {
  KqueuePoller poller = NewPoller();
  int reused;
  {
    SocketPair p;
    poller.Arm(p.a, true, true);
    PollOnce(poller, kLongNs);
    poller.Disarm(p.a);
    reused = p.a;
  }  // closed here, after Disarm
  SocketPair q;
  TakeNumber(q, reused);
  // libkqueue refuses EV_ADD of a reused number whose old registration was
  // not deleted before close; Disarm deleted it.
  poller.Arm(reused, true, true);
  std::map<int, Report> reports = PollOnce(poller, kLongNs);
  ASSERT_TRUE(reports.count(reused));
  EXPECT_FALSE(reports[reused].failed_read || reports[reused].failed_write);
  EXPECT_TRUE(reports[reused].writable);
}

TEST(KqueuePollerTest, DisarmInsideACallbackDropsTheRestOfTheBatch) {
  KqueuePoller poller = NewPoller();
  SocketPair p1, p2;
  poller.Arm(p1.a, true, true);
  poller.Arm(p2.a, true, true);
  // Both are writable: one batch holds both. Whichever comes first disarms
  // the other, which must then not be reported.
  std::vector<int> seen;
  struct Disarming {
    KqueuePoller* poller;
    std::vector<int>* seen;
    int fds[2];
    void Ready(int fd, bool, bool, bool) const {
      seen->push_back(fd);
      poller->Disarm(fd == fds[0] ? fds[1] : fds[0]);
    }
    void ArmFailed(int, bool, bool, int32_t) const { ADD_FAILURE(); }
    void Fired(Operation*, int32_t) const { ADD_FAILURE(); }
  };
  poller.Poll(kLongNs, Disarming{&poller, &seen, {p1.a, p2.a}});
  EXPECT_EQ(seen.size(), 1u);
}

TEST(KqueuePollerTest, MoreRegistrationsThanEventSlots) {
  KqueuePoller poller = NewPoller(/*max_events=*/2);
  std::vector<SocketPair> pairs(20);
  int closed = dup(0);
  close(closed);
  for (SocketPair& p : pairs) poller.Arm(p.a, true, true);
  poller.Arm(closed, true, true);
  std::map<int, Report> all;
  for (int turn = 0; turn < 100 && all.size() < pairs.size() + 1; ++turn) {
    poller.Poll(turn == 0 ? 0 : kLongNs, Recorder{&all});
  }
  for (SocketPair& p : pairs) EXPECT_TRUE(all[p.a].writable) << p.a;
  EXPECT_EQ(all[closed].error, -EBADF);
}

TEST(KqueuePollerTest, WakeInterruptsAWaitFromAnotherThread) {
  KqueuePoller poller = NewPoller();
  std::thread waker([&poller] {
    std::this_thread::sleep_for(milliseconds(50));
    poller.Wake();
    poller.Wake();  // coalesced
  });
  auto start = steady_clock::now();
  std::map<int, Report> reports = PollOnce(poller, -1);
  EXPECT_LT(steady_clock::now() - start, milliseconds(4000));
  EXPECT_TRUE(reports.empty());
  waker.join();
  // A wake after the poller saw the last one is not lost.
  poller.Wake();
  start = steady_clock::now();
  PollOnce(poller, kLongNs);
  EXPECT_LT(steady_clock::now() - start, milliseconds(1000));
}

// The backend: the reactor over this poller.

struct Completion {
  Operation op;
  int32_t res = 0;
  int done = 0;
};

Completion* Read(int fd, char* buf, size_t len) {
  auto* c = new Completion;
  c->op.kind = OpKind::kRead;
  c->op.fd = fd;
  c->op.buf = buf;
  c->op.len = len;
  c->op.on_complete = [](Operation* op) {
    auto* self = reinterpret_cast<Completion*>(op);
    self->res = op->res;
    ++self->done;
  };
  return c;
}

std::unique_ptr<KqueueBackend> NewBackend() {
  absl::StatusOr<std::unique_ptr<KqueueBackend>> b =
      KqueueBackend::Create(BackendOptions{});
  EXPECT_TRUE(b.ok()) << b.status();
  return std::move(*b);
}

TEST(KqueueBackendTest, ParkedReadCompletesWithData) {
  std::unique_ptr<KqueueBackend> backend = NewBackend();
  SocketPair p;
  char buf[8];
  std::unique_ptr<Completion> c(Read(p.a, buf, sizeof(buf)));
  ASSERT_FALSE(backend->Submit(&c->op));
  ASSERT_EQ(write(p.b, "hello", 5), 5);
  while (c->done == 0) backend->Wait(kLongNs);
  EXPECT_EQ(c->res, 5);
  EXPECT_EQ(backend->InFlight(), 0u);
  backend->Forget(p.a);  // before SocketPair closes it
}

TEST(KqueueBackendTest, LateRegistrationErrorCompletesTheParkedOperation) {
  std::unique_ptr<KqueueBackend> backend = NewBackend();
  SocketPair p;
  char buf[8];
  std::unique_ptr<Completion> c(Read(p.a, buf, sizeof(buf)));
  ASSERT_FALSE(backend->Submit(&c->op));  // parked; EV_ADD only queued
  // Closed behind the backend's back before the changelist is submitted:
  // the registration fails inside the next Wait.
  close(p.a);
  p.a = -1;
  auto start = steady_clock::now();
  EXPECT_EQ(backend->Wait(kLongNs), 1);
  EXPECT_LT(steady_clock::now() - start, milliseconds(1000));
  EXPECT_EQ(c->done, 1);
  EXPECT_EQ(c->res, -EBADF);
  EXPECT_EQ(backend->InFlight(), 0u);
}

TEST(KqueueBackendTest, PipeReadSeesEndOfFileWhenTheWriterCloses) {
  std::unique_ptr<KqueueBackend> backend = NewBackend();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  char buf[8];
  std::unique_ptr<Completion> c(Read(fds[0], buf, sizeof(buf)));
  ASSERT_FALSE(backend->Submit(&c->op));
  // The writer goes away before the registration is applied: a kernel that
  // refuses EVFILT_WRITE on this read end must not fail the read.
  close(fds[1]);
  while (c->done == 0) backend->Wait(kLongNs);
  EXPECT_EQ(c->res, 0);
  backend->Forget(fds[0]);
  close(fds[0]);
}

TEST(KqueueBackendTest, ForgetCompletesWithCanceledAndTheNumberIsReusable) {
  std::unique_ptr<KqueueBackend> backend = NewBackend();
  char buf[8];
  int reused;
  {
    SocketPair p;
    std::unique_ptr<Completion> c(Read(p.a, buf, sizeof(buf)));
    ASSERT_FALSE(backend->Submit(&c->op));
    backend->Wait(0);  // registration applied
    backend->Forget(p.a);
    while (c->done == 0) backend->Wait(kLongNs);
    EXPECT_EQ(c->res, -ECANCELED);
    reused = p.a;
  }
  SocketPair q;
  TakeNumber(q, reused);
  std::unique_ptr<Completion> c(Read(reused, buf, sizeof(buf)));
  ASSERT_FALSE(backend->Submit(&c->op));
  ASSERT_EQ(write(q.b, "abc", 3), 3);
  while (c->done == 0) backend->Wait(kLongNs);
  EXPECT_EQ(c->res, 3);
  backend->Forget(reused);
}

TEST(KqueueBackendTest, RefusedConnectReportsConnectionRefused) {
  std::unique_ptr<KqueueBackend> backend = NewBackend();
  // A port nobody listens on: bound, then closed.
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int l = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(bind(l, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(getsockname(l, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(l);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
  Completion c;
  c.op.kind = OpKind::kConnect;
  c.op.fd = s;
  c.op.addr = reinterpret_cast<sockaddr*>(&addr);
  c.op.addrlen = len;
  c.op.on_complete = [](Operation* op) {
    auto* self = reinterpret_cast<Completion*>(op);
    self->res = op->res;
    ++self->done;
  };
  if (backend->Submit(&c.op)) {
    c.res = c.op.res;
    c.done = 1;
  }
  while (c.done == 0) backend->Wait(kLongNs);
  EXPECT_EQ(c.res, -ECONNREFUSED);
  backend->Forget(s);
  close(s);
}

}  // namespace
}  // namespace polyio
