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
#include "backends/counted_op.h"
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
    int32_t error;  // 0: Ready(fd, read, write, hung_up); else ArmFailed
    bool hung_up = false;
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
        sink.Ready(r.fd, r.read, r.write, r.hung_up);
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
    read_.fd = write_.fd = a_;
    static char fill[65536];
    while (send(a_, fill, sizeof(fill), MSG_NOSIGNAL) > 0) {
    }
  }
  ~ReactorTest() override {
    reactor_.Forget(a_);
    close(a_);
    close(b_);
  }

  // Parks read_ and write_ on a_; returns the poller calls that made.
  std::vector<std::string> ParkReadAndWrite() {
    EXPECT_FALSE(reactor_.Submit(&read_));
    EXPECT_FALSE(reactor_.Submit(&write_));
    return TakeCalls();
  }

  std::string fd() const { return std::to_string(a_); }

  std::vector<std::string> TakeCalls() {
    return std::exchange(state_->calls, {});
  }

  std::shared_ptr<FakeState> state_ = std::make_shared<FakeState>();
  ReadinessReactor<FakePoller<kEdge>> reactor_;
  int a_ = -1;
  int b_ = -1;
  char in_[8] = {};
  char out_[8] = {};
  CountedOp read_ = TransferOp(OpKind::kRead, -1, in_, sizeof(in_));
  CountedOp write_ = TransferOp(OpKind::kWrite, -1, out_, sizeof(out_));
};

using EdgeReactorTest = ReactorTest<true>;
using LevelReactorTest = ReactorTest<false>;
using Calls = std::vector<std::string>;

// An edge-triggered poller is armed once per fd, for both directions.
TEST_F(EdgeReactorTest, ArmsOnceForBothDirections) {
  EXPECT_EQ(ParkReadAndWrite(), (Calls{"Arm " + fd() + " rw"}));
  reactor_.Cancel(&read_);
  reactor_.Cancel(&write_);
  EXPECT_EQ(reactor_.Wait(0), 2);
  EXPECT_TRUE(TakeCalls().empty());
}

// A level-triggered poller is armed for each direction that gets a waiter.
// A direction whose waiters left stays armed until the poller reports it
// with nobody waiting, and is disarmed then, so that a ready fd nobody
// reads does not make every Poll return at once.
TEST_F(LevelReactorTest, DisarmsADirectionAtItsFirstReportWithNobodyWaiting) {
  EXPECT_EQ(ParkReadAndWrite(),
            (Calls{"Arm " + fd() + " r-", "Arm " + fd() + " rw"}));
  reactor_.Cancel(&read_);
  reactor_.Cancel(&write_);
  EXPECT_EQ(TakeCalls(), Calls{}) << "disarmed before any report";
  state_->next_poll = {{a_, true, false, 0}};
  EXPECT_EQ(reactor_.Wait(0), 2);  // the two cancelled operations
  EXPECT_EQ(TakeCalls(), (Calls{"Arm " + fd() + " -w"}));
  state_->next_poll = {{a_, false, true, 0}};
  EXPECT_EQ(reactor_.Wait(0), 0);
  EXPECT_EQ(TakeCalls(), (Calls{"Arm " + fd() + " --"}));
}

// A report that delivers a direction's operation leaves it armed: the next
// operation of an echo parks a moment later, and costs no poller update.
TEST_F(LevelReactorTest, ADeliveringReportLeavesTheDirectionArmed) {
  ASSERT_FALSE(reactor_.Submit(&read_));
  EXPECT_EQ(TakeCalls(), (Calls{"Arm " + fd() + " r-"}));
  ASSERT_EQ(::write(b_, "hi", 2), 2);
  state_->next_poll = {{a_, true, false, 0}};
  EXPECT_EQ(reactor_.Wait(0), 1);
  EXPECT_EQ(read_.res, 2);
  ASSERT_FALSE(reactor_.Submit(&read_));
  EXPECT_EQ(TakeCalls(), Calls{}) << "disarmed and re-armed between reads";
  ASSERT_EQ(::write(b_, "yo", 2), 2);
  state_->next_poll = {{a_, true, false, 0}};
  EXPECT_EQ(reactor_.Wait(0), 1);
  EXPECT_EQ(read_.res, 2);
}

// Forget disarms an fd the poller was armed for, before the caller closes it.
TEST_F(LevelReactorTest, ForgetDisarmsARegisteredFd) {
  ParkReadAndWrite();
  reactor_.Forget(a_);
  EXPECT_EQ(TakeCalls(), (Calls{"Disarm " + fd()}));
  EXPECT_EQ(reactor_.Wait(0), 2);
  EXPECT_EQ(read_.res, -ECANCELED);
}

// A parked operation whose Arm fails completes with that error, from Wait.
TEST_F(LevelReactorTest, ArmErrorCompletesTheOperationFromWait) {
  state_->arm_result = -ENOMEM;
  ASSERT_FALSE(reactor_.Submit(&read_));
  EXPECT_EQ(read_.completions(), 0);
  EXPECT_EQ(reactor_.Wait(0), 1);
  EXPECT_EQ(read_.res, -ENOMEM);
}

// A late failure of both directions fails both; the next park arms again.
TEST_F(LevelReactorTest, LateFailureOfBothDirectionsRearmsOnTheNextPark) {
  ParkReadAndWrite();
  state_->next_poll = {{a_, true, true, -EBADF}};
  EXPECT_EQ(reactor_.Wait(0), 2);
  EXPECT_EQ(read_.res, -EBADF);
  EXPECT_EQ(write_.res, -EBADF);
  ASSERT_FALSE(reactor_.Submit(&read_));
  EXPECT_EQ(TakeCalls(), (Calls{"Arm " + fd() + " r-"}));
  reactor_.Cancel(&read_);
  reactor_.Wait(0);
}

// A late failure of one direction fails only that direction's operations.
TEST_F(LevelReactorTest, LateFailureOfOneDirectionLeavesTheOther) {
  ParkReadAndWrite();
  state_->next_poll = {{a_, false, true, -EPIPE}};
  EXPECT_EQ(reactor_.Wait(0), 1);
  EXPECT_EQ(write_.res, -EPIPE);
  EXPECT_EQ(read_.completions(), 0);
  EXPECT_EQ(reactor_.InFlight(), 1u);
  reactor_.Cancel(&read_);
  reactor_.Wait(0);
}

// A ready report retries the parked operation, which completes with data.
TEST_F(LevelReactorTest, ReadyReportRetriesTheParkedOperation) {
  ASSERT_FALSE(reactor_.Submit(&read_));
  ASSERT_EQ(::write(b_, "hi", 2), 2);
  state_->next_poll = {{a_, true, false, 0}};
  EXPECT_EQ(reactor_.Wait(0), 1);
  EXPECT_EQ(read_.res, 2);
}

// A read that parks and is cancelled before the poller ever reports the fd
// must not leave the next read parked untried: a level-triggered poller
// reports only armed directions, so the mark goes with the last waiter.
TEST_F(LevelReactorTest, CancelledBeforeAnyReportTheNextReadIsTried) {
  ASSERT_FALSE(reactor_.Submit(&read_));  // EAGAIN: exhausted, parked
  reactor_.Cancel(&read_);
  EXPECT_EQ(reactor_.Wait(0), 1);
  ASSERT_EQ(::write(b_, "hi", 2), 2);
  ASSERT_TRUE(reactor_.Submit(&read_)) << "parked without trying the read";
  EXPECT_EQ(read_.res, 2);
}

// On a level-triggered poller too, a short read that a report delivered
// shows the socket empty: the next read parks without asking the kernel
// (poll's echo made a recv that failed with EAGAIN per message), and the
// poller's report for the re-armed direction retries it.
TEST_F(LevelReactorTest, ShortReadOnAReportSkipsTheNextAttemptUntilReported) {
  read_.byte_stream = true;
  ASSERT_FALSE(reactor_.Submit(&read_));  // EAGAIN: parked, armed
  ASSERT_EQ(::write(b_, "hi", 2), 2);
  state_->next_poll = {{a_, true, false, 0}};
  EXPECT_EQ(reactor_.Wait(0), 1);
  EXPECT_EQ(read_.res, 2);  // short: 2 of 8 bytes
  ASSERT_EQ(::write(b_, "there", 5), 5);
  EXPECT_FALSE(reactor_.Submit(&read_))
      << "tried a read that the short one showed would fail";
  state_->next_poll = {{a_, true, false, 0}};
  EXPECT_EQ(reactor_.Wait(0), 1);
  EXPECT_EQ(read_.res, 5);
}

// A short read of a byte stream shows the socket empty: the next read
// parks without asking the kernel, until the poller reports the fd again.
TEST_F(EdgeReactorTest, ShortReadSkipsTheNextAttemptUntilReported) {
  read_.byte_stream = true;
  ASSERT_EQ(::write(b_, "hi", 2), 2);
  ASSERT_TRUE(reactor_.Submit(&read_));
  EXPECT_EQ(read_.res, 2);
  ASSERT_EQ(::write(b_, "there", 5), 5);  // its edge is the next report
  EXPECT_FALSE(reactor_.Submit(&read_));
  state_->next_poll = {{a_, true, false, 0}};
  EXPECT_EQ(reactor_.Wait(0), 1);
  EXPECT_EQ(read_.res, 5);
}

// A peer's FIN that came with the last data raised its edge before the
// short read that took the data: after a hang-up report, reads are always
// tried, so the next one sees EOF instead of parking for an edge that has
// been and gone.
TEST_F(EdgeReactorTest, ShortReadAfterAHangUpDoesNotHideTheEof) {
  read_.byte_stream = true;
  ASSERT_FALSE(reactor_.Submit(&read_));  // armed, parked
  ASSERT_EQ(::write(b_, "hi", 2), 2);
  ASSERT_EQ(::shutdown(b_, SHUT_WR), 0);
  state_->next_poll = {{a_, true, false, 0, /*hung_up=*/true}};
  EXPECT_EQ(reactor_.Wait(0), 1);
  EXPECT_EQ(read_.res, 2);  // short: 2 of 8 bytes
  ASSERT_TRUE(reactor_.Submit(&read_)) << "parked behind a consumed edge";
  EXPECT_EQ(read_.res, 0);
}

}  // namespace
}  // namespace polyio
