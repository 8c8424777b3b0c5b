// ReadinessReactor over a fake poller: which Arm and Disarm calls it makes
// for edge- and level-triggered pollers, and what it does with a failed
// registration, reported at once (Arm's result) or late (ArmFailed). The
// whole backend contract is checked on the real pollers by
// backends/backend_contract_test.cc.
#include "backends/readiness/reactor.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/readiness/poller.h"
#include "gtest/gtest.h"

namespace polyio {
namespace {

// What the test and its fake poller share: the calls made, the result the
// next Arm returns, and what the next Poll reports.
struct FakeState {
  struct Report {
    int fd;
    bool read;
    bool write;
    int32_t error;  // 0: Ready(fd, read, write); else ArmFailed(..., error)
  };
  std::vector<std::string> calls;
  int arm_result = 0;
  std::vector<Report> next_poll;
};

template <bool kEdge>
class FakePoller {
 public:
  static constexpr std::string_view kName = "fake";
  static constexpr bool kEdgeTriggered = kEdge;

  static absl::StatusOr<FakePoller> Create(const BackendOptions&) {
    return FakePoller(std::make_shared<FakeState>());
  }
  explicit FakePoller(std::shared_ptr<FakeState> state)
      : state_(std::move(state)) {}

  int Arm(int fd, bool want_read, bool want_write) {
    state_->calls.push_back("Arm " + std::to_string(fd) + " " +
                            (want_read ? "r" : "-") + (want_write ? "w" : "-"));
    return state_->arm_result;
  }
  void Disarm(int fd) {
    state_->calls.push_back("Disarm " + std::to_string(fd));
  }
  template <PollerReportSink Sink>
  void Poll(int64_t, Sink&& sink) {
    std::vector<FakeState::Report> reports = std::move(state_->next_poll);
    state_->next_poll.clear();
    for (const FakeState::Report& r : reports) {
      if (r.error == 0) {
        sink.Ready(r.fd, r.read, r.write);
      } else {
        sink.ArmFailed(r.fd, r.read, r.write, r.error);
      }
    }
  }
  void Wake() {}

 private:
  std::shared_ptr<FakeState> state_;
};

static_assert(ReadinessPoller<FakePoller<true>>);
static_assert(ReadinessPoller<FakePoller<false>>);

struct CountedOp : Operation {
  int completions = 0;
  CountedOp() { on_complete = &Count; }
  static void Count(Operation* op) {
    ++static_cast<CountedOp*>(op)->completions;
  }
};

CountedOp OpOn(OpKind kind, int fd, char* buf, size_t len) {
  CountedOp op;
  op.kind = kind;
  op.fd = fd;
  op.buf = buf;
  op.len = len;
  return op;
}

// A reactor over a fake poller, and a socket pair whose end `a` has an
// empty receive buffer and a full send buffer, so that both a read and a
// write on it park.
template <bool kEdge>
class ReactorTest : public ::testing::Test {
 protected:
  ReactorTest() : reactor_(FakePoller<kEdge>(state_)) {
    int sv[2];
    EXPECT_EQ(
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
        0);
    a_ = sv[0];
    b_ = sv[1];
    static char fill[65536];
    while (send(a_, fill, sizeof(fill), MSG_NOSIGNAL) > 0) {
    }
  }
  ~ReactorTest() override {
    reactor_.Forget(a_);
    close(a_);
    close(b_);
  }

  std::vector<std::string> TakeCalls() {
    return std::exchange(state_->calls, {});
  }

  std::shared_ptr<FakeState> state_ = std::make_shared<FakeState>();
  ReadinessReactor<FakePoller<kEdge>> reactor_;
  int a_ = -1;
  int b_ = -1;
  char in_[8] = {};
  char out_[8] = {};
};

using EdgeReactorTest = ReactorTest<true>;
using LevelReactorTest = ReactorTest<false>;
using Calls = std::vector<std::string>;

// An edge-triggered poller is armed once per fd, for both directions.
TEST_F(EdgeReactorTest, ArmsOnceForBothDirections) {
  CountedOp read = OpOn(OpKind::kRead, a_, in_, sizeof(in_));
  CountedOp write = OpOn(OpKind::kWrite, a_, out_, sizeof(out_));
  ASSERT_FALSE(reactor_.Submit(&read));
  ASSERT_FALSE(reactor_.Submit(&write));
  reactor_.Cancel(&read);
  reactor_.Cancel(&write);
  reactor_.Wait(0);
  EXPECT_EQ(TakeCalls(), (Calls{"Arm " + std::to_string(a_) + " rw"}));
  EXPECT_EQ(read.completions + write.completions, 2);
}

// A level-triggered poller is re-armed whenever the waited directions change.
TEST_F(LevelReactorTest, ArmsExactlyTheDirectionsWithWaiters) {
  const std::string fd = std::to_string(a_);
  CountedOp read = OpOn(OpKind::kRead, a_, in_, sizeof(in_));
  CountedOp write = OpOn(OpKind::kWrite, a_, out_, sizeof(out_));
  ASSERT_FALSE(reactor_.Submit(&read));
  ASSERT_FALSE(reactor_.Submit(&write));
  reactor_.Cancel(&read);
  reactor_.Cancel(&write);
  reactor_.Wait(0);
  EXPECT_EQ(TakeCalls(), (Calls{"Arm " + fd + " r-", "Arm " + fd + " rw",
                                "Arm " + fd + " -w", "Arm " + fd + " --"}));
}

// Forget disarms an fd the poller was armed for, before the caller closes it.
TEST_F(LevelReactorTest, ForgetDisarmsARegisteredFd) {
  CountedOp read = OpOn(OpKind::kRead, a_, in_, sizeof(in_));
  ASSERT_FALSE(reactor_.Submit(&read));
  TakeCalls();
  reactor_.Forget(a_);
  EXPECT_EQ(TakeCalls(), (Calls{"Disarm " + std::to_string(a_)}));
  reactor_.Wait(0);
  EXPECT_EQ(read.res, -ECANCELED);
}

// A parked operation whose Arm fails completes with that error, from Wait.
TEST_F(LevelReactorTest, ArmErrorCompletesTheOperationFromWait) {
  state_->arm_result = -ENOMEM;
  CountedOp read = OpOn(OpKind::kRead, a_, in_, sizeof(in_));
  ASSERT_FALSE(reactor_.Submit(&read));
  EXPECT_EQ(read.completions, 0);
  EXPECT_EQ(reactor_.Wait(0), 1);
  EXPECT_EQ(read.res, -ENOMEM);
}

// A late failure of both directions fails their operations, and the next
// park arms the fd again.
TEST_F(LevelReactorTest, LateFailureOfBothDirectionsRearmsOnTheNextPark) {
  const std::string fd = std::to_string(a_);
  CountedOp read = OpOn(OpKind::kRead, a_, in_, sizeof(in_));
  CountedOp write = OpOn(OpKind::kWrite, a_, out_, sizeof(out_));
  ASSERT_FALSE(reactor_.Submit(&read));
  ASSERT_FALSE(reactor_.Submit(&write));
  TakeCalls();
  state_->next_poll = {{a_, true, true, -EBADF}};
  EXPECT_EQ(reactor_.Wait(0), 2);
  EXPECT_EQ(read.res, -EBADF);
  EXPECT_EQ(write.res, -EBADF);
  CountedOp again = OpOn(OpKind::kRead, a_, in_, sizeof(in_));
  ASSERT_FALSE(reactor_.Submit(&again));
  EXPECT_EQ(TakeCalls(), (Calls{"Arm " + fd + " r-"}));
  reactor_.Cancel(&again);
  reactor_.Wait(0);
}

// A late failure of one direction fails only that direction's operations.
TEST_F(LevelReactorTest, LateFailureOfOneDirectionLeavesTheOther) {
  CountedOp read = OpOn(OpKind::kRead, a_, in_, sizeof(in_));
  CountedOp write = OpOn(OpKind::kWrite, a_, out_, sizeof(out_));
  ASSERT_FALSE(reactor_.Submit(&read));
  ASSERT_FALSE(reactor_.Submit(&write));
  state_->next_poll = {{a_, false, true, -EPIPE}};
  EXPECT_EQ(reactor_.Wait(0), 1);
  EXPECT_EQ(write.res, -EPIPE);
  EXPECT_EQ(read.completions, 0);
  EXPECT_EQ(reactor_.InFlight(), 1u);
  reactor_.Cancel(&read);
  reactor_.Wait(0);
}

// A ready report retries the parked operation, which completes with data.
TEST_F(LevelReactorTest, ReadyReportRetriesTheParkedOperation) {
  CountedOp read = OpOn(OpKind::kRead, a_, in_, sizeof(in_));
  ASSERT_FALSE(reactor_.Submit(&read));
  ASSERT_EQ(::write(b_, "hi", 2), 2);
  state_->next_poll = {{a_, true, false, 0}};
  EXPECT_EQ(reactor_.Wait(0), 1);
  EXPECT_EQ(read.res, 2);
}

}  // namespace
}  // namespace polyio
