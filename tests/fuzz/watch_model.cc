// watch (runtime/sync/watch.h) against a model.
//
// The model: the current value and its version, whether the sender lives,
// each receiver's seen version, and whether a Changed future has already
// marked a change seen (it had no budget to return it). Checked: Changed
// completes exactly when the version differs from the receiver's, marking it
// seen, and is OutOfRange once the sender is gone and nothing is unseen;
// Send fails storing nothing with no receivers, SendReplace stores anyway;
// Borrow, BorrowAndUpdate and HasChanged read the model's value and version;
// a copied receiver has seen what its source had; a cancelled Changed marks
// nothing seen; no lost wakeup.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "runtime/sync/watch.h"
#include "tests/fuzz/byte_reader.h"
#include "tests/fuzz/channel_models.h"
#include "tests/fuzz/check.h"
#include "tests/fuzz/probe.h"

namespace polyio::fuzz {
namespace {

namespace watch = polyio::sync::watch;
using Msg = std::string;

constexpr size_t kMaxReceivers = 4;

class WatchModel {
 public:
  WatchModel() : value_(ValueNumber(0)) {
    auto [tx, rx] = watch::Channel<Msg>(value_);
    tx_.emplace(std::move(tx));
    rxs_[0].rx.emplace(std::move(rx));
  }

  void Run(ByteReader& in) {
    while (!in.empty()) {
      switch (in.Byte() % 8) {
        case 0:
        case 1:
          Send(/*replace=*/in.Byte() % 4 == 0);
          break;
        case 2:
        case 3:
          PollChanged(in.Below(kMaxReceivers), /*cancel=*/false,
                      in.Bool() ? 0 : 128);
          break;
        case 4:
          if (in.Bool()) {
            PollChanged(in.Below(kMaxReceivers), /*cancel=*/true, 128);
          } else {
            ResetChanged(rxs_[in.Below(kMaxReceivers)]);
          }
          break;
        case 5:
          Read(in.Below(kMaxReceivers), in.Byte() % 3);
          break;
        case 6:
          switch (in.Byte() % 3) {
            case 0:
              Copy(in.Below(kMaxReceivers), in.Below(kMaxReceivers));
              break;
            case 1:
              Subscribe(in.Below(kMaxReceivers));
              break;
            case 2:
              DropReceiver(in.Below(kMaxReceivers));
              break;
          }
          break;
        case 7:
          tx_.reset();  // wakes every pending Changed
          break;
      }
    }
    for (Rx& r : rxs_) ResetChanged(r);
  }

 private:
  using ChangedProbe = Probe<watch::Receiver<Msg>::ChangedFuture>;
  struct Rx {
    std::optional<watch::Receiver<Msg>> rx;
    std::unique_ptr<ChangedProbe> changed;
    uint64_t seen = 0;    // per the model
    bool marked = false;  // the pending Changed has marked a change seen
  };

  size_t LiveReceivers() const {
    size_t n = 0;
    for (const Rx& r : rxs_) n += r.rx.has_value();
    return n;
  }

  void ResetChanged(Rx& r) {
    r.changed.reset();
    r.marked = false;  // a marked change stays seen: the future kept it
  }

  void Send(bool replace) {
    if (!tx_.has_value()) return;
    Msg value = ValueNumber(++sends_);
    if (replace) {
      tx_->SendReplace(value);
    } else {
      Msg copy = value;
      absl::Status s = tx_->Send(std::move(copy));
      if (LiveReceivers() == 0) {
        FUZZ_CHECK(absl::IsFailedPrecondition(s),
                   "send with no receivers: "
                   "%s",
                   s.ToString().c_str());
        FUZZ_CHECK(copy == value, "a failed send consumed its value");
        return;
      }
      FUZZ_CHECK(s.ok(), "send: %s", s.ToString().c_str());
    }
    value_ = value;
    ++version_;
  }

  bool HasOutcome(const Rx& r) const {
    return r.marked || r.seen != version_ || !tx_.has_value();
  }

  void PollChanged(size_t i, bool cancel, int budget) {
    Rx& r = rxs_[i];
    if (!r.rx.has_value()) return;
    bool fresh = r.changed == nullptr;
    if (fresh) r.changed = std::make_unique<ChangedProbe>(r.rx->Changed());
    if (!fresh && HasOutcome(r)) {
      FUZZ_CHECK(r.changed->woken(),
                 "a Changed that can complete was not "
                 "woken");
    }
    if (cancel) r.changed->Cancel();
    bool ready = r.changed->PollOnce(budget);
    if (r.marked) {  // reported even if cancelled since
      FUZZ_CHECK(ready && r.changed->result->ok(),
                 "a marked change was not "
                 "reported: %s",
                 ready ? "error" : "pending");
      ResetChanged(r);
      return;
    }
    if (cancel) {
      FUZZ_CHECK(ready && absl::IsCancelled(*r.changed->result),
                 "a cancelled Changed did not fail with CancelledError");
      ResetChanged(r);
      return;
    }
    if (r.seen != version_) {
      r.seen = version_;  // marked seen in any case
      if (budget == 0) {
        FUZZ_CHECK(!ready && r.changed->woken(),
                   "a Changed out of budget "
                   "completed or was not woken");
        r.marked = true;
        return;
      }
      FUZZ_CHECK(ready && r.changed->result->ok(),
                 "Changed with an unseen "
                 "version: %s",
                 ready ? "error" : "pending");
      ResetChanged(r);
      return;
    }
    if (!tx_.has_value()) {
      FUZZ_CHECK(ready && absl::IsOutOfRange(*r.changed->result),
                 "Changed "
                 "with the sender gone did not end with OutOfRange");
      ResetChanged(r);
      return;
    }
    FUZZ_CHECK(!ready, "Changed completed with nothing new");
  }

  // 0: Borrow, 1: BorrowAndUpdate, 2: HasChanged.
  void Read(size_t i, int how) {
    Rx& r = rxs_[i];
    if (!r.rx.has_value()) return;
    if (how == 0) {
      FUZZ_CHECK(r.rx->Borrow() == value_, "Borrow gave another value");
    } else if (how == 1) {
      FUZZ_CHECK(r.rx->BorrowAndUpdate() == value_,
                 "BorrowAndUpdate gave "
                 "another value");
      r.seen = version_;
    } else {
      absl::StatusOr<bool> changed = r.rx->HasChanged();
      if (r.seen != version_) {
        FUZZ_CHECK(changed.ok() && *changed, "HasChanged missed a change");
      } else if (!tx_.has_value()) {
        FUZZ_CHECK(absl::IsOutOfRange(changed.status()),
                   "HasChanged with "
                   "the sender gone: %s",
                   changed.status().ToString().c_str());
      } else {
        FUZZ_CHECK(changed.ok() && !*changed, "HasChanged saw a change");
      }
    }
    if (tx_.has_value()) {
      FUZZ_CHECK(tx_->Borrow() == value_, "Sender::Borrow gave another value");
      FUZZ_CHECK(tx_->receiver_count() == LiveReceivers(),
                 "receiver_count "
                 "%zu, model %zu",
                 tx_->receiver_count(), LiveReceivers());
    }
  }

  void Copy(size_t from, size_t to) {
    if (!rxs_[from].rx.has_value() || rxs_[to].rx.has_value()) return;
    rxs_[to].rx.emplace(*rxs_[from].rx);
    rxs_[to].seen = rxs_[from].seen;
  }

  void Subscribe(size_t slot) {
    if (!tx_.has_value() || rxs_[slot].rx.has_value()) return;
    rxs_[slot].rx.emplace(tx_->Subscribe());
    rxs_[slot].seen = version_;
  }

  void DropReceiver(size_t i) {
    ResetChanged(rxs_[i]);  // it borrows the receiver
    rxs_[i].rx.reset();
  }

  std::optional<watch::Sender<Msg>> tx_;
  Rx rxs_[kMaxReceivers];
  Msg value_;
  uint64_t version_ = 0;
  uint64_t sends_ = 0;
};

}  // namespace

void FuzzWatch(ByteReader& in) { WatchModel().Run(in); }

}  // namespace polyio::fuzz
