// oneshot (runtime/sync/oneshot.h) against a model.
//
// The model: sent, received, whether the sender lives, whether the
// receiver is open (not closed, not dropped). Checked: the value arrives
// once, to a poll or to TryRecv; a second Send fails and leaves its
// argument untouched, as does a Send to a closed or dropped receiver; the
// end without a value is OutOfRange; a value sent before Close still
// arrives; a cancelled poll takes nothing and a later poll still gets the
// value; no lost wakeup.
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "runtime/sync/oneshot.h"
#include "tests/fuzz/byte_reader.h"
#include "tests/fuzz/channel_models.h"
#include "tests/fuzz/check.h"
#include "tests/fuzz/probe.h"

namespace polyio::fuzz {
namespace {

namespace oneshot = polyio::sync::oneshot;
using Msg = std::string;

class OneshotModel {
 public:
  OneshotModel() {
    auto [tx, rx] = oneshot::Channel<Msg>();
    tx_.emplace(std::move(tx));
    rx_ = std::make_unique<RecvProbe>(std::move(rx));
  }

  void Run(ByteReader& in) {
    while (!in.empty()) {
      switch (in.Byte() % 7) {
        case 0:
        case 1:
          Send();
          break;
        case 2:
        case 3:
          Poll(/*cancel=*/in.Byte() % 4 == 0);
          break;
        case 4:
          TryRecv();
          break;
        case 5:
          if (rx_ != nullptr && !done_) {
            rx_->future().Close();
            open_ = false;
            // Close does not wake a receive pending on the same Receiver:
            // whoever calls Close owns it, so it is not being awaited.
            if (rx_->polls() > 0) closed_by_owner_ = true;
          }
          break;
        case 6:
          if (in.Bool()) {
            tx_.reset();  // wakes the receiver
          } else {
            rx_.reset();
            open_ = false;
          }
          break;
      }
    }
  }

 private:
  // The Receiver is itself the future; a Probe owns it, and has its waker.
  using RecvProbe = Probe<oneshot::Receiver<Msg>>;

  bool HasOutcome() const { return value_.has_value() || !tx_ || !open_; }

  void Send() {
    if (!tx_.has_value()) return;
    Msg value = ValueNumber(++sends_);
    Msg copy = value;
    absl::Status s = tx_->Send(std::move(copy));
    if (sent_ || !open_) {
      FUZZ_CHECK(absl::IsFailedPrecondition(s),
                 "send after a send or to a "
                 "closed receiver: %s",
                 s.ToString().c_str());
      FUZZ_CHECK(copy == value, "a failed send consumed its value");
      return;
    }
    FUZZ_CHECK(s.ok(), "send: %s", s.ToString().c_str());
    sent_ = true;
    value_ = value;
  }

  // What a receive gets now: the value, FailedPrecondition after it was
  // received, or OutOfRange at the end without one.
  void CheckReceived(const absl::StatusOr<Msg>& got, const char* op) {
    if (value_.has_value()) {
      FUZZ_CHECK(got.ok() && *got == *value_, "%s: %s, expected %s", op,
                 got.ok() ? got->c_str() : got.status().ToString().c_str(),
                 value_->c_str());
      value_.reset();
      received_ = true;
    } else if (received_) {
      FUZZ_CHECK(absl::IsFailedPrecondition(got.status()),
                 "%s after the "
                 "value was received: %s",
                 op, got.status().ToString().c_str());
    } else {
      FUZZ_CHECK(absl::IsOutOfRange(got.status()), "%s at the end: %s", op,
                 got.status().ToString().c_str());
    }
  }

  void Poll(bool cancel) {
    // A Receiver that returned Ready is a finished future: not polled again.
    if (rx_ == nullptr || done_) return;
    bool expect = HasOutcome() || received_;
    if (rx_->polls() > 0 && expect && !closed_by_owner_) {
      FUZZ_CHECK(rx_->woken(), "a receive that can complete was not woken");
    }
    if (cancel) rx_->Cancel();
    bool ready = rx_->PollOnce();
    if (cancel) {
      // Cancelled for good (the flag stays set): the value stays in the
      // channel, and only TryRecv can take it from now on.
      FUZZ_CHECK(ready && absl::IsCancelled(rx_->result->status()),
                 "a cancelled receive did not fail with CancelledError");
      done_ = true;
      return;
    }
    FUZZ_CHECK(ready == expect, "receive ready %d, model %d", ready, expect);
    if (!ready) return;
    CheckReceived(*rx_->result, "receive");
    done_ = true;
  }

  void TryRecv() {
    if (rx_ == nullptr) return;
    absl::StatusOr<Msg> got = rx_->future().TryRecv();
    if (!HasOutcome() && !received_) {
      FUZZ_CHECK(absl::IsUnavailable(got.status()),
                 "try_recv before a "
                 "send: %s",
                 got.status().ToString().c_str());
      return;
    }
    CheckReceived(got, "try_recv");
  }

  std::optional<oneshot::Sender<Msg>> tx_;
  std::unique_ptr<RecvProbe> rx_;
  bool done_ = false;  // the receive future returned Ready
  bool closed_by_owner_ = false;
  std::optional<Msg> value_;  // sent and not yet received
  bool sent_ = false;
  bool received_ = false;
  bool open_ = true;
  uint64_t sends_ = 0;
};

}  // namespace

void FuzzOneshot(ByteReader& in) { OneshotModel().Run(in); }

}  // namespace polyio::fuzz
