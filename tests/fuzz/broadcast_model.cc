// broadcast (runtime/sync/broadcast.h) against a model.
//
// The model: every value ever sent, by sequence number; the ring retains
// the last `capacity` of them; each receiver's next sequence number; the
// numbers of live senders and receivers. Checked: each receiver sees every
// value sent after it subscribed, in order, unless it fell more than
// `capacity` behind — then exactly one lag status whose MissedCount is the
// number it lost, and it goes on from the oldest retained value; Send
// answers the receiver count, or fails storing nothing when there is none;
// OutOfRange once the senders are gone and a receiver is caught up; a
// cancelled Recv takes nothing; no lost wakeup.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "runtime/sync/broadcast.h"
#include "tests/fuzz/byte_reader.h"
#include "tests/fuzz/channel_models.h"
#include "tests/fuzz/check.h"
#include "tests/fuzz/probe.h"

namespace polyio::fuzz {
namespace {

namespace broadcast = polyio::sync::broadcast;
using Msg = std::string;

constexpr size_t kMaxSenders = 3;
constexpr size_t kMaxReceivers = 4;

class BroadcastModel {
 public:
  explicit BroadcastModel(size_t capacity) : capacity_(capacity) {
    auto [tx, rx] = broadcast::Channel<Msg>(capacity);
    senders_[0].emplace(std::move(tx));
    rxs_[0].rx.emplace(std::move(rx));
  }

  void Run(ByteReader& in) {
    while (!in.empty()) {
      switch (in.Byte() % 8) {
        case 0:
        case 1:
          Send(in.Below(kMaxSenders));
          break;
        case 2:
        case 3:
          PollRecv(in.Below(kMaxReceivers), /*cancel=*/false,
                   in.Bool() ? 0 : 128);
          break;
        case 4:
          if (in.Bool()) {
            PollRecv(in.Below(kMaxReceivers), /*cancel=*/true, 128);
          } else {
            rxs_[in.Below(kMaxReceivers)].recv.reset();
          }
          break;
        case 5:
          TryRecv(in.Below(kMaxReceivers));
          break;
        case 6:  // subscribe from a sender, or resubscribe from a receiver
          if (in.Bool()) {
            Subscribe(in.Below(kMaxSenders), in.Below(kMaxReceivers));
          } else {
            Resubscribe(in.Below(kMaxReceivers), in.Below(kMaxReceivers));
          }
          break;
        case 7:
          switch (in.Byte() % 3) {
            case 0:
              CloneSender(in.Below(kMaxSenders), in.Below(kMaxSenders));
              break;
            case 1:
              DropSender(in.Below(kMaxSenders));
              break;
            case 2:
              DropReceiver(in.Below(kMaxReceivers));
              break;
          }
          break;
      }
    }
    for (Rx& r : rxs_) r.recv.reset();  // they borrow their receivers
  }

 private:
  using RecvProbe = Probe<broadcast::Receiver<Msg>::RecvFuture>;
  struct Rx {
    std::optional<broadcast::Receiver<Msg>> rx;
    std::unique_ptr<RecvProbe> recv;  // at most one Recv at a time
    uint64_t next = 0;                // per the model
  };

  size_t LiveReceivers() const {
    size_t n = 0;
    for (const Rx& r : rxs_) n += r.rx.has_value();
    return n;
  }
  size_t LiveSenders() const {
    size_t n = 0;
    for (const auto& s : senders_) n += s.has_value();
    return n;
  }
  uint64_t Tail() const { return sent_.size(); }
  uint64_t Oldest() const {
    return Tail() > capacity_ ? Tail() - capacity_ : 0;
  }

  void Send(size_t i) {
    if (!senders_[i].has_value()) return;
    Msg value = ValueNumber(Tail());
    Msg copy = value;
    absl::StatusOr<size_t> n = senders_[i]->Send(std::move(copy));
    size_t receivers = LiveReceivers();
    if (receivers == 0) {
      FUZZ_CHECK(absl::IsFailedPrecondition(n.status()),
                 "send with no "
                 "receivers: %s",
                 n.status().ToString().c_str());
      FUZZ_CHECK(copy == value, "a failed send consumed its value");
      return;
    }
    FUZZ_CHECK(
        n.ok() && *n == receivers, "send reached %s, model %zu",
        n.ok() ? std::to_string(*n).c_str() : n.status().ToString().c_str(),
        receivers);
    sent_.push_back(value);
  }

  // What the receiver's next Recv gets, per the model: a value, a lag of
  // `missed`, the end (OutOfRange), or nothing yet.
  bool HasOutcome(const Rx& r) const {
    return r.next < Tail() || LiveSenders() == 0;
  }

  void CheckReceived(Rx& r, const absl::StatusOr<Msg>& got, const char* op) {
    if (r.next < Oldest()) {
      uint64_t missed = Oldest() - r.next;
      FUZZ_CHECK(broadcast::IsLagged(got.status()) &&
                     broadcast::MissedCount(got.status()) == missed,
                 "%s: %s, expected a lag of %llu", op,
                 got.status().ToString().c_str(),
                 static_cast<unsigned long long>(missed));
      r.next = Oldest();
      return;
    }
    if (r.next < Tail()) {
      FUZZ_CHECK(got.ok() && *got == sent_[r.next], "%s: %s, expected %s", op,
                 got.ok() ? got->c_str() : got.status().ToString().c_str(),
                 sent_[r.next].c_str());
      ++r.next;
      return;
    }
    FUZZ_CHECK(absl::IsOutOfRange(got.status()), "%s at the end: %s", op,
               got.status().ToString().c_str());
  }

  void PollRecv(size_t i, bool cancel, int budget) {
    Rx& r = rxs_[i];
    if (!r.rx.has_value()) return;
    bool fresh = r.recv == nullptr;
    if (fresh) r.recv = std::make_unique<RecvProbe>(r.rx->Recv());
    if (!fresh && HasOutcome(r)) {
      FUZZ_CHECK(r.recv->woken(), "a recv that can complete was not woken");
    }
    if (cancel) r.recv->Cancel();
    bool ready = r.recv->PollOnce(budget);
    if (cancel) {
      FUZZ_CHECK(ready && absl::IsCancelled(r.recv->result->status()),
                 "a cancelled recv did not fail with CancelledError");
      r.recv.reset();
      return;
    }
    // Out of budget, a value (not a lag) waits for the next poll.
    if (budget == 0 && r.next >= Oldest() && r.next < Tail()) {
      FUZZ_CHECK(!ready && r.recv->woken(),
                 "a recv out of budget took a "
                 "value or was not woken");
      return;
    }
    FUZZ_CHECK(ready == HasOutcome(r),
               "recv ready %d, model next %llu tail "
               "%llu senders %zu",
               ready, static_cast<unsigned long long>(r.next),
               static_cast<unsigned long long>(Tail()), LiveSenders());
    if (!ready) return;
    CheckReceived(r, *r.recv->result, "recv");
    r.recv.reset();
  }

  void TryRecv(size_t i) {
    Rx& r = rxs_[i];
    if (!r.rx.has_value()) return;
    absl::StatusOr<Msg> got = r.rx->TryRecv();
    if (!HasOutcome(r)) {
      FUZZ_CHECK(absl::IsUnavailable(got.status()),
                 "try_recv with nothing "
                 "new: %s",
                 got.status().ToString().c_str());
      return;
    }
    CheckReceived(r, got, "try_recv");
  }

  void Subscribe(size_t sender, size_t slot) {
    if (!senders_[sender].has_value() || rxs_[slot].rx.has_value()) return;
    rxs_[slot].rx.emplace(senders_[sender]->Subscribe());
    rxs_[slot].next = Tail();  // sees values sent from now on
  }

  void Resubscribe(size_t from, size_t slot) {
    if (!rxs_[from].rx.has_value() || rxs_[slot].rx.has_value()) return;
    rxs_[slot].rx.emplace(rxs_[from].rx->Resubscribe());
    rxs_[slot].next = Tail();
  }

  void CloneSender(size_t from, size_t to) {
    if (!senders_[from].has_value() || senders_[to].has_value()) return;
    senders_[to].emplace(*senders_[from]);
  }

  void DropSender(size_t i) { senders_[i].reset(); }

  void DropReceiver(size_t i) {
    rxs_[i].recv.reset();
    rxs_[i].rx.reset();
    // With the last receiver gone the ring is emptied; a later subscriber
    // starts at the tail and never reads it, so the model needs no change.
  }

  const size_t capacity_;
  std::optional<broadcast::Sender<Msg>> senders_[kMaxSenders];
  Rx rxs_[kMaxReceivers];
  std::vector<Msg> sent_;  // by sequence number
};

}  // namespace

void FuzzBroadcast(ByteReader& in) {
  BroadcastModel(1 + in.Byte() % 4).Run(in);
}

}  // namespace polyio::fuzz
