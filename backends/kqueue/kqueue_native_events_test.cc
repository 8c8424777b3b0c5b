// Tests of the kqueue backend's native events below the runtime
// (backends/backend.h's kNativeSignals and kNativeProcExit): OpKind::kSignal
// on EVFILT_SIGNAL and OpKind::kProcExit on EVFILT_PROC NOTE_EXIT, their
// cancellation, and the process-wide KqueueSignalRecorder. The conformance
// suite covers them through Signal() and Child::Wait.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

#include "backends/backend.h"
#include "backends/kqueue/kqueue_backend.h"
#include "backends/kqueue/kqueue_signal_recorder.h"
#include "backends/operation.h"
#include "gtest/gtest.h"

namespace polyio {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr int64_t kLongNs = 5'000'000'000;

static_assert(BackendHasNativeSignals<KqueueBackend>);
static_assert(BackendHasNativeProcExit<KqueueBackend>);

struct Completion {
  Operation op;
  int32_t res = 0;
  int done = 0;
};

std::unique_ptr<Completion> Watch(OpKind kind, int ident) {
  auto c = std::make_unique<Completion>();
  c->op.kind = kind;
  c->op.fd = ident;
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

// Waits until `c` completed or `limit` passed.
void WaitFor(KqueueBackend& backend, const Completion& c,
             milliseconds limit = milliseconds(5000)) {
  auto deadline = steady_clock::now() + limit;
  while (c.done == 0 && steady_clock::now() < deadline) {
    backend.Wait(10'000'000);
  }
}

// A child that exits with `code` after `delay`.
pid_t SpawnChild(int code, milliseconds delay) {
  pid_t pid = fork();
  if (pid == 0) {
    usleep(static_cast<useconds_t>(delay.count() * 1000));
    _exit(code);
  }
  return pid;
}

// Reaps `pid`, returning its exit code (-1 if it was not ours to reap).
int Reap(pid_t pid) {
  int status = 0;
  pid_t r;
  while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  return r == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// SIGUSR1 ignored for the test (the native path records ignored signals).
class IgnoredSignal {
 public:
  explicit IgnoredSignal(int signo) : signo_(signo) {
    struct sigaction ign = {};
    ign.sa_handler = SIG_IGN;
    sigaction(signo_, &ign, &saved_);
  }
  ~IgnoredSignal() { sigaction(signo_, &saved_, nullptr); }

 private:
  int signo_;
  struct sigaction saved_;
};

TEST(KqueueNativeEventsTest, ProcExitCompletesAtTheExitAndLeavesTheReaping) {
  std::unique_ptr<KqueueBackend> backend = NewBackend();
  pid_t pid = SpawnChild(7, milliseconds(100));
  ASSERT_GT(pid, 0);
  std::unique_ptr<Completion> c = Watch(OpKind::kProcExit, pid);
  ASSERT_FALSE(backend->Submit(&c->op));
  EXPECT_EQ(backend->InFlight(), 1u);
  WaitFor(*backend, *c);
  EXPECT_EQ(c->done, 1);
  EXPECT_EQ(c->res, 0);
  EXPECT_EQ(backend->InFlight(), 0u);
  // The backend did not reap it: its status is still ours to take.
  EXPECT_EQ(Reap(pid), 7);
}

TEST(KqueueNativeEventsTest, ProcExitOfAChildThatExitedAlreadyCompletes) {
  std::unique_ptr<KqueueBackend> backend = NewBackend();
  pid_t pid = SpawnChild(3, milliseconds(0));
  ASSERT_GT(pid, 0);
  siginfo_t info = {};
  // A zombie now: exited, not reaped.
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);
  std::unique_ptr<Completion> c = Watch(OpKind::kProcExit, pid);
  if (backend->Submit(&c->op)) {
    c->done = 1;  // ESRCH: gone already, finished inline
    c->res = c->op.res;
  }
  WaitFor(*backend, *c);
  EXPECT_EQ(c->done, 1);
  EXPECT_EQ(c->res, 0);
  EXPECT_EQ(Reap(pid), 3);
}

TEST(KqueueNativeEventsTest, ACancelledProcExitCompletesOnceWithCanceled) {
  std::unique_ptr<KqueueBackend> backend = NewBackend();
  pid_t pid = SpawnChild(0, milliseconds(200));
  ASSERT_GT(pid, 0);
  std::unique_ptr<Completion> c = Watch(OpKind::kProcExit, pid);
  ASSERT_FALSE(backend->Submit(&c->op));
  backend->Cancel(&c->op);
  EXPECT_EQ(c->done, 0);  // never inline
  WaitFor(*backend, *c);
  EXPECT_EQ(c->done, 1);
  EXPECT_EQ(c->res, -ECANCELED);
  EXPECT_EQ(Reap(pid), 0);
  // The knote went with the operation: the exit reports nothing.
  backend->Wait(100'000'000);
  EXPECT_EQ(c->done, 1);
  EXPECT_EQ(backend->InFlight(), 0u);
}

TEST(KqueueNativeEventsTest, SignalCompletesWithTheDeliveriesRecorded) {
  IgnoredSignal ignored(SIGUSR1);
  std::unique_ptr<KqueueBackend> backend = NewBackend();
  std::unique_ptr<Completion> c = Watch(OpKind::kSignal, SIGUSR1);
  ASSERT_FALSE(backend->Submit(&c->op));
  // Registered by Submit (not batched): a delivery right after counts.
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  WaitFor(*backend, *c);
  EXPECT_EQ(c->done, 1);
  EXPECT_GE(c->res, 1);
  EXPECT_EQ(backend->InFlight(), 0u);
}

TEST(KqueueNativeEventsTest, TwoWaitersOfOneSignalShareItAndCancelAlone) {
  IgnoredSignal ignored(SIGUSR2);
  std::unique_ptr<KqueueBackend> backend = NewBackend();
  std::unique_ptr<Completion> a = Watch(OpKind::kSignal, SIGUSR2);
  std::unique_ptr<Completion> b = Watch(OpKind::kSignal, SIGUSR2);
  std::unique_ptr<Completion> gone = Watch(OpKind::kSignal, SIGUSR2);
  ASSERT_FALSE(backend->Submit(&a->op));
  ASSERT_FALSE(backend->Submit(&gone->op));
  ASSERT_FALSE(backend->Submit(&b->op));
  // Cancelling one leaves the shared knote to the others.
  backend->Cancel(&gone->op);
  ASSERT_EQ(kill(getpid(), SIGUSR2), 0);
  WaitFor(*backend, *a);
  WaitFor(*backend, *b);
  EXPECT_EQ(gone->done, 1);
  EXPECT_EQ(gone->res, -ECANCELED);
  EXPECT_EQ(a->done, 1);
  EXPECT_GE(a->res, 1);
  EXPECT_EQ(b->done, 1);
  EXPECT_GE(b->res, 1);
  EXPECT_EQ(backend->InFlight(), 0u);
}

// What Signal's Recv does: a completion callback watches the same signal
// again, inside the turn that reported it.
struct Rewatch {
  Completion first;
  std::unique_ptr<Completion> second;
  KqueueBackend* backend = nullptr;
};

TEST(KqueueNativeEventsTest, AWatchFromACompletionWaitsForTheNextDelivery) {
  IgnoredSignal ignored(SIGUSR1);
  std::unique_ptr<KqueueBackend> backend = NewBackend();
  auto r = std::make_unique<Rewatch>();
  r->backend = backend.get();
  r->second = Watch(OpKind::kSignal, SIGUSR1);
  r->first.op.kind = OpKind::kSignal;
  r->first.op.fd = SIGUSR1;
  r->first.op.on_complete = [](Operation* op) {
    auto* self = reinterpret_cast<Rewatch*>(op);  // `first` is at offset 0
    self->first.res = op->res;
    ++self->first.done;
    EXPECT_FALSE(self->backend->Submit(&self->second->op));
  };
  ASSERT_FALSE(backend->Submit(&r->first.op));
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  WaitFor(*backend, r->first);
  ASSERT_EQ(r->first.done, 1);
  // Not completed by the turn that completed the first.
  backend->Wait(50'000'000);
  EXPECT_EQ(r->second->done, 0);
  EXPECT_EQ(backend->InFlight(), 1u);
  // Waiting like any other now: cancellable, or completed by a delivery.
  backend->Cancel(&r->second->op);
  WaitFor(*backend, *r->second);
  EXPECT_EQ(r->second->done, 1);
  EXPECT_EQ(r->second->res, -ECANCELED);
  ASSERT_FALSE(backend->Submit(&r->second->op));
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  r->second->done = 0;
  WaitFor(*backend, *r->second);
  EXPECT_EQ(r->second->done, 1);
  EXPECT_GE(r->second->res, 1);
  EXPECT_EQ(backend->InFlight(), 0u);
}

// Two waiters of one knote; the first's completion cancels the second
// before the poller reaches it.
struct CancelOther {
  Completion first;
  std::unique_ptr<Completion> second;
  KqueueBackend* backend = nullptr;
};

TEST(KqueueNativeEventsTest, ACompletionMayCancelAnotherWaiterOfItsKnote) {
  IgnoredSignal ignored(SIGUSR1);
  std::unique_ptr<KqueueBackend> backend = NewBackend();
  auto r = std::make_unique<CancelOther>();
  r->backend = backend.get();
  r->second = Watch(OpKind::kSignal, SIGUSR1);
  r->first.op.kind = OpKind::kSignal;
  r->first.op.fd = SIGUSR1;
  r->first.op.on_complete = [](Operation* op) {
    auto* self = reinterpret_cast<CancelOther*>(op);  // `first` at offset 0
    self->first.res = op->res;
    ++self->first.done;
    self->backend->Cancel(&self->second->op);
  };
  ASSERT_FALSE(backend->Submit(&r->first.op));
  ASSERT_FALSE(backend->Submit(&r->second->op));
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  WaitFor(*backend, r->first);
  WaitFor(*backend, *r->second);
  EXPECT_EQ(r->first.done, 1);
  EXPECT_GE(r->first.res, 1);
  EXPECT_EQ(r->second->done, 1);
  EXPECT_EQ(r->second->res, -ECANCELED);
  EXPECT_EQ(backend->InFlight(), 0u);
}

TEST(KqueueNativeEventsTest, CancelAllTakesBackWatchedOperations) {
  std::unique_ptr<KqueueBackend> backend = NewBackend();
  pid_t pid = SpawnChild(0, milliseconds(300));
  ASSERT_GT(pid, 0);
  std::unique_ptr<Completion> exit = Watch(OpKind::kProcExit, pid);
  std::unique_ptr<Completion> sig = Watch(OpKind::kSignal, SIGWINCH);
  ASSERT_FALSE(backend->Submit(&exit->op));
  ASSERT_FALSE(backend->Submit(&sig->op));
  backend->CancelAll();
  while (backend->InFlight() > 0) backend->Wait(0);
  EXPECT_EQ(exit->res, -ECANCELED);
  EXPECT_EQ(sig->res, -ECANCELED);
  EXPECT_EQ(Reap(pid), 0);
}

TEST(KqueueNativeEventsTest, BadIdentsFinishInline) {
  std::unique_ptr<KqueueBackend> backend = NewBackend();
  std::unique_ptr<Completion> zero = Watch(OpKind::kSignal, 0);
  EXPECT_TRUE(backend->Submit(&zero->op));
  EXPECT_EQ(zero->op.res, -EINVAL);
  std::unique_ptr<Completion> negative = Watch(OpKind::kProcExit, -5);
  EXPECT_TRUE(backend->Submit(&negative->op));
  EXPECT_LT(negative->op.res, 0);
  EXPECT_EQ(backend->InFlight(), 0u);
}

TEST(KqueueSignalRecorderTest, CountsDeliveriesFromAddUntilRemove) {
  IgnoredSignal ignored(SIGUSR1);
  absl::StatusOr<KqueueSignalRecorder> recorder =
      KqueueSignalRecorder::Create();
  ASSERT_TRUE(recorder.ok()) << recorder.status();
  uint64_t counts[NSIG] = {};
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);  // before Add: not recorded
  ASSERT_TRUE(recorder->Add(SIGUSR1).ok());
  recorder->Take(counts, NSIG);
  EXPECT_EQ(counts[SIGUSR1], 0u);
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  // Recorded without anybody waiting; taken once.
  auto deadline = steady_clock::now() + milliseconds(5000);
  while (counts[SIGUSR1] == 0 && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(1));
    recorder->Take(counts, NSIG);
  }
  EXPECT_EQ(counts[SIGUSR1], 1u);
  recorder->Take(counts, NSIG);
  EXPECT_EQ(counts[SIGUSR1], 1u);
  recorder->Remove(SIGUSR1);
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  std::this_thread::sleep_for(milliseconds(20));
  recorder->Take(counts, NSIG);
  EXPECT_EQ(counts[SIGUSR1], 1u);
}

TEST(KqueueSignalRecorderTest, AddRefusesABadSignalNamingTheCall) {
  absl::StatusOr<KqueueSignalRecorder> recorder =
      KqueueSignalRecorder::Create();
  ASSERT_TRUE(recorder.ok()) << recorder.status();
  absl::Status s = recorder->Add(100000);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("EVFILT_SIGNAL 100000"), std::string::npos) << s;
}

}  // namespace
}  // namespace polyio
