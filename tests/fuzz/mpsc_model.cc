// mpsc (runtime/sync/mpsc.h), bounded and unbounded, against a model.
//
// The model: a FIFO queue of values; for a bounded channel, `capacity`
// slots shared by the queued values and the sends that were handed a slot
// but have not been polled since (the Semaphore's hand-off), and a FIFO of
// waiting sends; the number of live senders; closed (Close or the receiver
// dropped). Checked: every value arrives once, in order; Recv is
// OutOfRange exactly when the queue is empty and the channel closed or
// senderless; a send waits exactly while the slots are taken or others wait
// ahead; a failed or cancelled send hands its value back (TakeUnsent) and a
// successful one does not; TrySend's three answers; no lost wakeup — a
// pending future that the model says would now complete has been woken.
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "runtime/sync/mpsc.h"
#include "tests/fuzz/byte_reader.h"
#include "tests/fuzz/channel_models.h"
#include "tests/fuzz/check.h"
#include "tests/fuzz/probe.h"

namespace polyio::fuzz {
namespace {

namespace mpsc = polyio::sync::mpsc;
using Msg = std::string;

constexpr size_t kMaxSenders = 4;
constexpr size_t kMaxSends = 6;

template <bool kBounded>
class MpscModel {
 public:
  using Sender = std::conditional_t<kBounded, mpsc::Sender<Msg>,
                                    mpsc::UnboundedSender<Msg>>;

  explicit MpscModel(size_t capacity) : capacity_(capacity) {
    if constexpr (kBounded) {
      auto [tx, rx] = mpsc::Channel<Msg>(capacity);
      senders_[0].emplace(std::move(tx));
      rx_.emplace(std::move(rx));
    } else {
      auto [tx, rx] = mpsc::UnboundedChannel<Msg>();
      senders_[0].emplace(std::move(tx));
      rx_.emplace(std::move(rx));
    }
    live_senders_ = 1;
  }

  void Run(ByteReader& in) {
    while (!in.empty()) {
      switch (in.Byte() % 12) {
        case 0:
        case 1:
          Send(in.Below(kMaxSenders), in.Bool() ? 0 : 128);
          break;
        case 2:
          TrySend(in.Below(kMaxSenders));
          break;
        case 3:
          PollSend(in.Below(kMaxSends), /*cancel=*/false);
          break;
        case 4:
          PollSend(in.Below(kMaxSends), /*cancel=*/true);
          break;
        case 5:
          DropSend(in.Below(kMaxSends));
          break;
        case 6:
        case 7:
          PollRecv(/*cancel=*/false, in.Bool() ? 0 : 128);
          break;
        case 8:
          if (in.Bool()) {
            PollRecv(/*cancel=*/true, 128);
          } else {
            ResetRecv();
          }
          break;
        case 9:
          TryRecv();
          break;
        case 10:
          if (in.Bool()) {
            CloneSender(in.Below(kMaxSenders), in.Below(kMaxSenders));
          } else {
            DropSender(in.Below(kMaxSenders));
          }
          break;
        case 11:
          if (in.Bool()) {
            Close();
          } else {
            DropReceiver();
          }
          break;
      }
    }
    // Everything is destroyed in an order the borrows allow; LSan and the
    // probes' waker check watch what is left behind.
    sends_.clear();
    recv_.reset();
  }

 private:
  using SendProbe = Probe<typename mpsc::Sender<Msg>::SendFuture>;
  using RecvProbe = Probe<typename mpsc::Receiver<Msg>::RecvFuture>;

  // A bounded Send that has been polled at least once and is pending.
  struct PendingSend {
    std::unique_ptr<SendProbe> probe;
    size_t sender;
    Msg value;
    // kNew: not queued yet (its first poll had no budget); kQueued: waits
    // for a slot; kGranted: was handed one; kClosed: the channel closed
    // under it.
    enum State { kNew, kQueued, kGranted, kClosed } state;
    uint64_t arrival;
  };

  size_t Avail() const { return capacity_ - queue_.size() - granted_; }
  bool QueuedAhead() const {
    for (const PendingSend& s : sends_) {
      if (s.state == PendingSend::kQueued) return true;
    }
    return false;
  }
  // The Semaphore's hand-off: free slots go to queued sends in arrival
  // order (sends_ is kept in arrival order).
  void Grant() {
    for (PendingSend& s : sends_) {
      if (s.state != PendingSend::kQueued) continue;
      if (Avail() == 0) return;
      s.state = PendingSend::kGranted;
      ++granted_;
    }
  }
  bool RecvEnded() const { return closed_ || live_senders_ == 0; }

  void Send(size_t sender, int budget) {
    if (!senders_[sender].has_value()) return;
    Msg value = ValueNumber(next_value_++);
    if constexpr (!kBounded) {
      Msg copy = value;
      absl::Status s = senders_[sender]->Send(std::move(copy));
      FUZZ_CHECK(s.ok() == !closed_, "unbounded send: %s, closed %d",
                 s.ToString().c_str(), closed_);
      if (s.ok()) {
        queue_.push_back(value);
      } else {
        FUZZ_CHECK(absl::IsFailedPrecondition(s), "unbounded send: %s",
                   s.ToString().c_str());
        FUZZ_CHECK(copy == value, "a failed send consumed its value");
      }
      return;
    } else {
      if (sends_.size() >= kMaxSends) return;
      PendingSend p{std::make_unique<SendProbe>(senders_[sender]->Send(value)),
                    sender, value, PendingSend::kNew, next_arrival_++};
      sends_.push_back(std::move(p));
      PollSendAt(sends_.size() - 1, /*cancel=*/false, budget);
    }
  }

  void TrySend(size_t sender) {
    if (!senders_[sender].has_value()) return;
    Msg value = ValueNumber(next_value_++);
    Msg copy = value;
    absl::Status s;
    if constexpr (kBounded) {
      s = senders_[sender]->TrySend(std::move(copy));
    } else {
      s = senders_[sender]->Send(std::move(copy));
    }
    if (!s.ok()) FUZZ_CHECK(copy == value, "a failed send consumed its value");
    if (closed_) {
      FUZZ_CHECK(absl::IsFailedPrecondition(s),
                 "try_send on a closed "
                 "channel: %s",
                 s.ToString().c_str());
      return;
    }
    if (kBounded && (QueuedAhead() || Avail() == 0)) {
      FUZZ_CHECK(absl::IsResourceExhausted(s),
                 "try_send with %zu free, "
                 "queued ahead %d: %s",
                 Avail(), QueuedAhead(), s.ToString().c_str());
      return;
    }
    FUZZ_CHECK(s.ok(), "try_send: %s", s.ToString().c_str());
    queue_.push_back(value);
  }

  void PollSend(size_t i, bool cancel) {
    if (i < sends_.size()) PollSendAt(i, cancel, 128);
  }

  void PollSendAt(size_t i, bool cancel, int budget) {
    PendingSend& p = sends_[i];
    // No lost wakeup: a queued send that was handed a slot, or saw the
    // channel close, was woken.
    if (p.probe->polls() > 0 &&
        (p.state == PendingSend::kGranted || p.state == PendingSend::kClosed)) {
      FUZZ_CHECK(p.probe->woken(), "a send that can complete was not woken");
    }
    if (cancel) p.probe->Cancel();
    bool ready = p.probe->PollOnce(budget);
    // What the model says this poll does.
    enum { kPending, kSent, kFailed, kCancelled } expect;
    bool joins_queue = false;
    switch (p.state) {
      case PendingSend::kNew:
        if (cancel) {
          expect = kCancelled;
        } else if (budget == 0) {
          expect = kPending;
          FUZZ_CHECK(p.probe->woken(), "a send out of budget was not woken");
        } else if (closed_) {
          expect = kFailed;
        } else if (!QueuedAhead() && Avail() > 0) {
          expect = kSent;
        } else {
          expect = kPending;
          joins_queue = true;
        }
        break;
      case PendingSend::kQueued:
        expect = cancel ? kCancelled : kPending;
        break;
      case PendingSend::kGranted:  // the slot won over a cancellation
        --granted_;
        expect = closed_ ? kFailed : kSent;
        break;
      case PendingSend::kClosed:
        expect = kFailed;
        break;
    }
    FUZZ_CHECK(ready == (expect != kPending), "send ready %d, model %d", ready,
               static_cast<int>(expect));
    if (!ready) {
      if (joins_queue) {  // at the back of the Semaphore's queue
        p.state = PendingSend::kQueued;
        PendingSend moved = std::move(p);
        sends_.erase(sends_.begin() + i);
        sends_.push_back(std::move(moved));
      }
      return;
    }
    const absl::Status& s = *p.probe->result;
    std::optional<Msg> unsent = p.probe->future().TakeUnsent();
    switch (expect) {
      case kSent:
        FUZZ_CHECK(s.ok(), "send: %s", s.ToString().c_str());
        FUZZ_CHECK(!unsent.has_value(), "a delivered send kept its value");
        queue_.push_back(p.value);
        break;
      case kFailed:
        FUZZ_CHECK(absl::IsFailedPrecondition(s),
                   "send to a closed "
                   "channel: %s",
                   s.ToString().c_str());
        FUZZ_CHECK(unsent == p.value, "a failed send lost its value");
        break;
      case kCancelled:
        FUZZ_CHECK(absl::IsCancelled(s), "cancelled send: %s",
                   s.ToString().c_str());
        FUZZ_CHECK(unsent == p.value, "a cancelled send lost its value");
        break;
      case kPending:
        break;
    }
    bool was_queued = p.state == PendingSend::kQueued;
    sends_.erase(sends_.begin() + i);
    if (was_queued) Grant();  // leaving may unblock the sends behind
  }

  void DropSend(size_t i) {
    if (i >= sends_.size()) return;
    typename PendingSend::State state = sends_[i].state;
    sends_.erase(sends_.begin() + i);
    if (state == PendingSend::kGranted) --granted_;  // the slot goes back
    if (state == PendingSend::kGranted || state == PendingSend::kQueued) {
      Grant();
    }
  }

  void PollRecv(bool cancel, int budget) {
    if (!rx_.has_value()) return;
    bool fresh = recv_ == nullptr;
    if (fresh) recv_ = std::make_unique<RecvProbe>(rx_->Recv());
    bool has_outcome = !queue_.empty() || RecvEnded();
    if (!fresh && has_outcome && !closed_by_owner_) {
      FUZZ_CHECK(recv_->woken(), "a receive that can complete was not woken");
    }
    if (cancel) recv_->Cancel();
    bool ready = recv_->PollOnce(budget);
    if (cancel) {
      FUZZ_CHECK(ready && absl::IsCancelled(recv_->result->status()),
                 "a cancelled recv did not fail with CancelledError");
      ResetRecv();
      return;
    }
    if (!queue_.empty() && budget == 0) {
      FUZZ_CHECK(!ready && recv_->woken(),
                 "a recv out of budget took a "
                 "value or was not woken");
      return;
    }
    FUZZ_CHECK(ready == has_outcome,
               "recv ready %d, model queue %zu, ended "
               "%d",
               ready, queue_.size(), RecvEnded());
    if (!ready) return;
    CheckReceived(*recv_->result, "recv");
    ResetRecv();
  }

  void ResetRecv() {
    recv_.reset();
    closed_by_owner_ = false;
  }

  void TryRecv() {
    if (!rx_.has_value()) return;
    absl::StatusOr<Msg> r = rx_->TryRecv();
    if (queue_.empty() && !RecvEnded()) {
      FUZZ_CHECK(absl::IsUnavailable(r.status()),
                 "try_recv on an empty "
                 "channel: %s",
                 r.status().ToString().c_str());
      return;
    }
    CheckReceived(r, "try_recv");
  }

  // The head of the model's queue, or OutOfRange at the end.
  void CheckReceived(const absl::StatusOr<Msg>& r, const char* op) {
    if (queue_.empty()) {
      FUZZ_CHECK(absl::IsOutOfRange(r.status()), "%s at the end: %s", op,
                 r.status().ToString().c_str());
      return;
    }
    FUZZ_CHECK(r.ok() && *r == queue_.front(), "%s: got %s, expected %s", op,
               r.ok() ? r->c_str() : r.status().ToString().c_str(),
               queue_.front().c_str());
    queue_.pop_front();
    if constexpr (kBounded) Grant();  // the slot is free again
  }

  void CloneSender(size_t from, size_t to) {
    if (!senders_[from].has_value() || senders_[to].has_value()) return;
    senders_[to].emplace(*senders_[from]);
    ++live_senders_;
  }

  void DropSender(size_t i) {
    if (!senders_[i].has_value()) return;
    // Its sends borrow it: they go first.
    for (size_t j = sends_.size(); j-- > 0;) {
      if (sends_[j].sender == i) DropSend(j);
    }
    senders_[i].reset();
    --live_senders_;
  }

  void Close() {
    if (!rx_.has_value()) return;
    rx_->Close();
    // Close does not wake a Recv pending on the same receiver: whoever
    // calls Close owns the receiver, so that Recv is not being awaited
    // (tokio's close takes &mut self for the same reason).
    if (recv_ != nullptr) closed_by_owner_ = true;
    MarkClosed();
  }

  void DropReceiver() {
    if (!rx_.has_value()) return;
    ResetRecv();  // it borrows the receiver
    rx_.reset();
    queue_.clear();  // destroyed with the receiver
    MarkClosed();
  }

  void MarkClosed() {
    closed_ = true;
    for (PendingSend& s : sends_) {
      if (s.state == PendingSend::kQueued) s.state = PendingSend::kClosed;
    }
  }

  const size_t capacity_;
  std::optional<Sender> senders_[kMaxSenders];
  size_t live_senders_ = 0;
  std::optional<mpsc::Receiver<Msg>> rx_;
  std::unique_ptr<RecvProbe> recv_;
  bool closed_by_owner_ = false;    // Close() came while recv_ was pending
  std::vector<PendingSend> sends_;  // in arrival order
  std::deque<Msg> queue_;
  size_t granted_ = 0;
  bool closed_ = false;
  uint64_t next_value_ = 0;
  uint64_t next_arrival_ = 0;
};

}  // namespace

void FuzzMpsc(ByteReader& in) {
  uint8_t kind = in.Byte();
  if (kind % 4 == 0) {
    MpscModel<false>(0).Run(in);
  } else {
    MpscModel<true>(kind % 4).Run(in);  // capacity 1..3
  }
}

}  // namespace polyio::fuzz
