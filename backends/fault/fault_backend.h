// FaultBackend<Inner>: a backend (backends/backend.h) that misbehaves on
// purpose, over a real one. Built with --config=fault (the build setting
// //backends:fault=on), backends/selected.h makes polyio::Backend
// FaultBackend<the selected backend>; without it nothing changes and none
// of this is compiled in.
//
// Everything it does is something a real kernel or a real backend may do,
// so a correct program above the contract must not notice, except by speed
// (fault_config.h has each fault's rate and its name in
// POLYIO_FAULT_RATES):
//
//   short_io         a byte-stream transfer is cut to 1..len-1 bytes (the
//                    length is cut before the kernel sees it, so the bytes
//                    left stay in the socket: nothing is lost);
//   hold             a completion is held back for a few Waits, and
//                    completions of different fds come out shuffled (those
//                    of one fd keep their order);
//   defer_inline     an operation that finished inside Submit is reported
//                    from a later Wait instead;
//   cancel_late      a Cancel reaches the inner backend a few Waits late, so
//                    the operation may complete with its real result (a
//                    cancel of a held completion always loses);
//   spurious_return  a Wait returns at once with nothing;
//   spurious_wake    a Submit also calls Wake();
//   eintr            a blocking Wait is interrupted by a signal: the inner
//                    backend's system call fails with EINTR (interrupter.h);
//   accept_error     an accept fails with ENOBUFS or ECONNABORTED, the
//                    connection staying queued;
// and two that a program does see, off unless asked for:
//   send_reset       a byte-stream send resets the connection for real and
//                    fails with ECONNRESET (TCP) or EPIPE (Unix stream);
//   dgram_enobufs    a datagram send fails with ENOBUFS.
//
// What it keeps: every operation completes exactly once (held ones too, at
// shutdown as at any time); no completion inside Submit, Cancel or Forget;
// EAGAIN and EINTR never escape; an operation on a negative fd finishes
// inline with -EBADF, as on every backend; the operation's fields are the
// caller's again when it completes (a cut length is restored). Name() is
// the inner backend's.
//
// Paused time (runtime/time/pause.h) moves the clock only when every driver
// is idle. A completion held here is ready work the runtime cannot see, so
// HasReady() says true while anything is held or a late cancel is pending,
// and Wait never blocks then: the driver keeps turning until it is out
// (backend.h, HasReady).
//
// Cost: bookkeeping per operation in a hash map (amortized, no allocation
// per operation once it has grown), a few random draws per call, and an
// fstat per read or write that is not marked byte_stream (to find pipes).
// Only in --config=fault builds.
//
// Thread-hostile, except Wake() (thread-safe), like every backend.
#ifndef POLYIO_BACKENDS_FAULT_FAULT_BACKEND_H_
#define POLYIO_BACKENDS_FAULT_FAULT_BACKEND_H_

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/fault/fault_config.h"
#include "backends/fault/interrupter.h"
#include "backends/operation.h"

namespace polyio {

// The inner backend's optional capabilities (backend.h) are the layer's:
// kSignal, kProcExit and kWaitId pass through it like any other operation.
template <class Inner>
class FaultBackend : public NativeSignalsOf<Inner>,
                     public NativeProcExitOf<Inner>,
                     public NativeWaitIdOf<Inner> {
 public:
  static absl::StatusOr<std::unique_ptr<FaultBackend>> Create(
      const BackendOptions& options) {
    absl::StatusOr<std::unique_ptr<Inner>> inner = Inner::Create(options);
    if (!inner.ok()) return inner.status();
    fault::FaultConfig config = fault::CurrentConfig();
    fault::AnnounceOnce((*inner)->Name(), config);
    return std::unique_ptr<FaultBackend>(
        new FaultBackend(std::move(*inner), config));
  }

  bool Submit(Operation* op) {
    // A negative fd finishes inline with -EBADF on every backend
    // (backend_contract_test.cc): EventLoop::Watch reports it at once. Not
    // so a path operation's AT_FDCWD: it is tracked like any other, or its
    // Cancel would find no record here and never reach the inner backend
    // (an open waiting for a FIFO's other end then waited forever).
    if (op->fd < 0 && !IsPathKind(op->kind)) return inner_->Submit(op);
    if (random_.Chance(rates_.spurious_wake)) inner_->Wake();
    if (std::optional<int32_t> res = InjectedResult(op)) {
      op->res = *res;
      return Finish(op, op->on_complete, /*shortened=*/false);
    }
    Record& record = records_[op];
    record = Record{};
    record.on_complete = op->on_complete;
    record.generation = ++generation_;
    if (random_.Chance(rates_.short_io)) Shorten(op, record);
    const bool shortened = record.cut != Cut::kNone;
    op->on_complete = &OnInnerComplete;
    bool done;
    {
      CurrentScope scope(this);   // an inline completion never calls back,
      done = inner_->Submit(op);  // but an inner Submit may reap (io_uring)
    }
    if (!done) return false;
    Operation::CompleteFn on_complete = records_[op].on_complete;
    return Finish(op, on_complete, shortened);
  }

  void Cancel(Operation* op) {
    auto it = records_.find(op);
    // Not in flight here: completed inline, delivered, or never submitted.
    if (it == records_.end()) return;
    Record& record = it->second;
    // Already complete and held: the real result wins the race.
    if (record.held || record.cancel_late) return;
    if (random_.Chance(rates_.cancel_late)) {
      record.cancel_late = true;
      late_cancels_.push_back(
          LateCancel{op, record.generation, turn_ + HoldTurns()});
      return;
    }
    inner_->Cancel(op);
  }

  void Forget(int fd) {
    // Late cancels of fd's operations are moot: Forget cancels them all.
    inner_->Forget(fd);
  }

  int Wait(int64_t timeout_ns) {
    ++turn_;
    delivered_ = 0;
    CurrentScope scope(this);
    if (!held_.empty() || !late_cancels_.empty()) {
      timeout_ns = 0;  // ready work is here: never block on top of it
    } else if (timeout_ns != 0 && random_.Chance(rates_.spurious_return)) {
      timeout_ns = 0;
    }
    if (timeout_ns != 0 && random_.Chance(rates_.eintr)) {
      // Mostly soon after the inner backend blocks; sometimes before.
      interrupter_.Arm(static_cast<int64_t>(random_.Between(20, 500)) * 1000);
    }
    inner_->Wait(timeout_ns);
    interrupter_.Disarm();
    // After the inner wait: an operation whose cancel is late gets at least
    // one more chance to complete for real.
    ForwardLateCancels(/*all=*/false);
    ReleaseRipe(/*all=*/false);
    return delivered_;
  }

  void Wake() { inner_->Wake(); }

  void CancelAll() {
    ForwardLateCancels(/*all=*/true);
    inner_->CancelAll();
  }

  size_t InFlight() const { return inner_->InFlight() + held_.size(); }

  // Completions are held here, or a late cancel is waiting: a Wait(0) has
  // work even if the kernel has nothing new.
  bool HasReady() const {
    return !held_.empty() || !late_cancels_.empty() || inner_->HasReady();
  }

  std::string_view Name() const { return inner_->Name(); }
  CompletionModel Model() const { return inner_->Model(); }
  bool NativeFileIo() const { return inner_->NativeFileIo(); }

  static constexpr bool kInjectsFaults = true;
  Inner& inner() { return *inner_; }
  const fault::FaultRates& rates() const { return rates_; }

 private:
  enum class Cut : uint8_t { kNone, kLength, kIovec };

  // What the layer knows of an operation it has in flight.
  struct Record {
    Operation::CompleteFn on_complete = nullptr;
    uint64_t generation = 0;
    Cut cut = Cut::kNone;
    size_t len = 0;            // kLength: the length asked for
    size_t iovlen = 0;         // kIovec: msg_iovlen asked for
    size_t iov_index = 0;      //   the iovec cut
    size_t iov_len = 0;        //   and its length
    bool cancel_late = false;  // a Cancel is waiting in late_cancels_
    bool held = false;         // complete, in held_
  };
  struct LateCancel {
    Operation* op;
    uint64_t generation;
    uint64_t due_turn;
  };
  struct Held {
    Operation* op;
    int fd;
    uint64_t due_turn;
  };

  // The backend whose inner Wait is running on this thread: where
  // OnInnerComplete files a completion.
  class CurrentScope {
   public:
    explicit CurrentScope(FaultBackend* b) : saved_(current_) { current_ = b; }
    ~CurrentScope() { current_ = saved_; }

   private:
    FaultBackend* saved_;
  };

  FaultBackend(std::unique_ptr<Inner> inner, const fault::FaultConfig& config)
      : inner_(std::move(inner)),
        rates_(config.rates),
        random_(fault::NextStreamSeed(config.seed)) {
    records_.reserve(1024);
  }

  uint64_t HoldTurns() {
    return random_.Between(1, static_cast<uint64_t>(rates_.max_hold_turns));
  }

  static bool IsSend(OpKind k) {
    return k == OpKind::kSend || k == OpKind::kSendMsg || k == OpKind::kWrite;
  }

  // A result decided here without the inner backend, or nullopt.
  std::optional<int32_t> InjectedResult(Operation* op) {
    if (op->kind == OpKind::kAccept && random_.Chance(rates_.accept_error)) {
      return random_.Chance(0.5) ? -ENOBUFS : -ECONNABORTED;
    }
    if ((op->kind == OpKind::kSend || op->kind == OpKind::kSendMsg) &&
        !op->byte_stream && random_.Chance(rates_.dgram_enobufs)) {
      return -ENOBUFS;
    }
    if (IsSend(op->kind) && op->byte_stream &&
        random_.Chance(rates_.send_reset)) {
      return ResetConnection(op->fd);
    }
    return std::nullopt;
  }

  // Breaks the connection for real, so that the peer sees it too.
  static int32_t ResetConnection(int fd) {
    sockaddr_storage self{};
    socklen_t len = sizeof(self);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&self), &len) == 0 &&
        (self.ss_family == AF_INET || self.ss_family == AF_INET6)) {
      // Linger 0, then disconnect: the kernel sends an RST (tcp_disconnect).
      linger lg{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
      sockaddr unspec{};
      unspec.sa_family = AF_UNSPEC;
      connect(fd, &unspec, sizeof(unspec));
      return -ECONNRESET;
    }
    shutdown(fd, SHUT_RDWR);  // a Unix stream has no reset: both ways shut
    return -EPIPE;
  }

  // Whether a transfer may come back short: a byte stream. Operations on
  // streams say so (Operation::byte_stream); plain reads and writes on
  // pipes do not, so those are looked up.
  static bool ShortensLegally(const Operation& op) {
    switch (op.kind) {
      case OpKind::kRecv:
      case OpKind::kSend:
      case OpKind::kRecvMsg:
      case OpKind::kSendMsg:
        return op.byte_stream;
      case OpKind::kRead:
      case OpKind::kWrite: {
        if (op.byte_stream) return true;
        struct stat st;
        return fstat(op.fd, &st) == 0 && S_ISFIFO(st.st_mode);
      }
      default:
        return false;
    }
  }

  void Shorten(Operation* op, Record& record) {
    if (!ShortensLegally(*op)) return;
    if (op->kind == OpKind::kRecvMsg || op->kind == OpKind::kSendMsg) {
      msghdr* msg = op->msg;
      if (msg == nullptr || msg->msg_iov == nullptr) return;
      size_t total = 0;
      for (size_t i = 0; i < msg->msg_iovlen; ++i) {
        total += msg->msg_iov[i].iov_len;
      }
      if (total < 2) return;
      size_t keep = random_.Between(1, total - 1);
      size_t i = 0;
      while (msg->msg_iov[i].iov_len < keep) keep -= msg->msg_iov[i++].iov_len;
      record.cut = Cut::kIovec;
      record.iovlen = msg->msg_iovlen;
      record.iov_index = i;
      record.iov_len = msg->msg_iov[i].iov_len;
      msg->msg_iov[i].iov_len = keep;
      msg->msg_iovlen = i + 1;
      return;
    }
    if (op->len < 2) return;
    record.cut = Cut::kLength;
    record.len = op->len;
    op->len = random_.Between(1, op->len - 1);
  }

  static void Restore(Operation* op, const Record& record) {
    switch (record.cut) {
      case Cut::kNone:
        break;
      case Cut::kLength:
        op->len = record.len;
        break;
      case Cut::kIovec:
        op->msg->msg_iov[record.iov_index].iov_len = record.iov_len;
        op->msg->msg_iovlen = record.iovlen;
        break;
    }
  }

  // An operation that finished inside Submit (inner or injected): reported
  // now (true), or held and reported by a later Wait (false).
  bool Finish(Operation* op, Operation::CompleteFn on_complete,
              bool shortened) {
    if (shortened) Restore(op, records_[op]);
    op->on_complete = on_complete;
    if (!random_.Chance(rates_.defer_inline) && !HoldsFd(op->fd)) {
      records_.erase(op);
      return true;
    }
    Record& record = records_[op];
    record.on_complete = on_complete;
    record.cut = Cut::kNone;
    Hold(op, record);
    return false;
  }

  bool HoldsFd(int fd) const { return held_per_fd_.contains(fd); }

  void Hold(Operation* op, Record& record) {
    record.held = true;
    held_.push_back(Held{op, op->fd, turn_ + HoldTurns()});
    ++held_per_fd_[op->fd];
  }

  // The inner backend's completion of one of our operations (from inside
  // its Wait, on this thread).
  static void OnInnerComplete(Operation* op) {
    FaultBackend* self = current_;
    self->interrupter_.Disarm();  // callbacks may block briefly (locks)
    auto it = self->records_.find(op);
    Record& record = it->second;
    Restore(op, record);
    record.cut = Cut::kNone;
    op->on_complete = record.on_complete;
    // One fd's completions keep their order: behind a held one, wait too.
    if (self->HoldsFd(op->fd) || self->random_.Chance(self->rates_.hold)) {
      self->Hold(op, record);
      return;
    }
    self->records_.erase(it);
    ++self->delivered_;
    op->on_complete(op);
  }

  void ForwardLateCancels(bool all) {
    size_t kept = 0;
    for (size_t i = 0; i < late_cancels_.size(); ++i) {
      LateCancel c = late_cancels_[i];
      auto it = records_.find(c.op);
      if (it == records_.end() || it->second.generation != c.generation ||
          it->second.held) {
        continue;  // completed meanwhile: the cancel lost the race
      }
      if (!all && c.due_turn > turn_) {
        late_cancels_[kept++] = c;
        continue;
      }
      inner_->Cancel(c.op);  // never completes inline
    }
    late_cancels_.resize(kept);
  }

  // Delivers the held completions whose turn has come, shuffled across fds
  // (each fd's in the order they were held). `all`: every one.
  void ReleaseRipe(bool all) {
    if (held_.empty()) return;
    ready_.clear();
    blocked_fds_.clear();
    size_t kept = 0;
    for (size_t i = 0; i < held_.size(); ++i) {
      Held h = held_[i];
      bool fd_blocked = blocked_fds_.contains(h.fd);
      if (!fd_blocked && (all || h.due_turn <= turn_)) {
        ready_.push_back(h);
      } else {
        blocked_fds_.insert({h.fd, true});
        held_[kept++] = h;
      }
    }
    held_.resize(kept);
    // Shuffle, then put each fd's completions back in their order.
    if (ready_.size() > 1) {
      order_.clear();
      for (const Held& h : ready_) order_[h.fd].ops.push_back(h.op);
      for (size_t i = ready_.size(); i > 1; --i) {
        std::swap(ready_[i - 1], ready_[random_.Between(0, i - 1)]);
      }
      for (Held& h : ready_) {
        FdOrder& o = order_[h.fd];
        h.op = o.ops[o.next++];
      }
    }
    for (const Held& h : ready_) {
      auto count = held_per_fd_.find(h.fd);
      if (--count->second == 0) held_per_fd_.erase(count);
    }
    // Callbacks may submit, cancel and hold more: ready_ is ours till done.
    std::vector<Held> batch;
    batch.swap(ready_);
    for (const Held& h : batch) {
      records_.erase(h.op);
      ++delivered_;
      h.op->on_complete(h.op);
    }
    batch.clear();
    if (ready_.capacity() < batch.capacity()) ready_.swap(batch);
  }

  static inline thread_local FaultBackend* current_ = nullptr;

  std::unique_ptr<Inner> inner_;
  fault::FaultRates rates_;
  fault::Random random_;
  fault::Interrupter interrupter_;
  absl::flat_hash_map<Operation*, Record> records_;
  std::vector<LateCancel> late_cancels_;
  std::vector<Held> held_;
  absl::flat_hash_map<int, int> held_per_fd_;
  // ReleaseRipe's scratch space, kept to spare allocations.
  std::vector<Held> ready_;
  absl::flat_hash_map<int, bool> blocked_fds_;
  struct FdOrder {
    std::vector<Operation*> ops;
    size_t next = 0;
  };
  absl::flat_hash_map<int, FdOrder> order_;
  uint64_t generation_ = 0;
  uint64_t turn_ = 0;
  int delivered_ = 0;
};

}  // namespace polyio

#endif  // POLYIO_BACKENDS_FAULT_FAULT_BACKEND_H_
