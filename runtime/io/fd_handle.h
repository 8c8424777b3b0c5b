// FdHandle: one descriptor, shared by the object that owns it (a TcpStream,
// a TcpListener) and every future made from that object.
//
// Why shared. A future may outlive the object it came from, or be awaited
// after Close(). Had it copied the fd *number*, that number could name
// another connection by then: the kernel hands a freed number to the next
// socket at once. So a future holds the handle and takes the number from it
// at the moment its operation is handed to the backend, on the fd's home
// driver thread (IoFuture::set_fd_source). Close() clears the number first,
// then forgets the fd on that same thread (cancelling what is in flight),
// and only then closes it: every operation either reached the backend
// before the Forget, and is cancelled by it, or finds no number and fails
// with "closed". It never touches the number's next owner.
//
// What it keeps. On a completion backend the kernel takes bytes out of the
// socket when a read completes. If the read's caller had stopped waiting by
// then (the task was aborted, a Timeout expired, the read lost a WhenAny,
// the future was dropped), the read gives its bytes to the handle and the
// next read of the stream returns them first; an accepted connection whose
// Accept was cancelled likewise waits here for the next Accept, and a
// datagram whose receive was cancelled (UdpSocket) for the next receive.
// This is what makes Read, Accept and RecvFrom cancel-safe on every backend
// (docs/cancellation.md).
//
// Operation slots. The owner's contract allows one read and one write
// pending at once, so each direction's Operation (and the IoFuture around
// it) lives here, built once, and every future of that direction borrows
// it: a Read future is a few words, and making one initializes no
// Operation (tools/bench --instr: most of the cost of a future per message
// was setting up a fresh one). A second read while one is pending finds
// the slot taken and fails with FailedPrecondition instead of corrupting
// the first.
//
// Lifetime: reference-counted (RefPtr). Close() ends the fd; the last
// reference frees the handle (closing any connection still kept).
//
// Thread-safety: fd(), fd_source(), home() and Ref/Unref are thread-safe.
// Close() is the owner's. The kept bytes and fds are touched only by the
// reads (accepts) of the handle, one at a time, as the owner's contract
// says ("one read and one write may be pending at once").
#ifndef POLYIO_RUNTIME_IO_FD_HANDLE_H_
#define POLYIO_RUNTIME_IO_FD_HANDLE_H_

#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "platform/ref_ptr.h"
#include "platform/unique_fd.h"
#include "runtime/driver/driver.h"
#include "runtime/io/home_driver.h"
#include "runtime/io/io_future.h"

namespace polyio {

class FdHandle {
 public:
  // Takes `fd`. `home`: the driver whose backend already knows the fd, or
  // null (bound at the first operation). `owner` names the owning type in
  // messages ("TcpStream").
  static RefPtr<FdHandle> Make(UniqueFd fd, Driver* home, const char* owner) {
    return RefPtr<FdHandle>::Adopt(new FdHandle(std::move(fd), home, owner));
  }
  FdHandle(const FdHandle&) = delete;
  FdHandle& operator=(const FdHandle&) = delete;

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // The fd, or -1 once closed.
  int fd() const { return fd_.load(std::memory_order_acquire); }
  bool closed() const { return fd() < 0; }
  // Where an IoFuture reads the number at submission (see above).
  const std::atomic<int>* fd_source() const { return &fd_; }
  // The home driver, bound to the calling thread's if it had none.
  Driver* home() { return home_.Get(); }

  // Forgets the fd on its home driver, then closes it. Idempotent.
  absl::Status Close();

  // Bytes a read received after its caller stopped waiting.
  bool has_kept_bytes() const { return kept_begin_ < kept_.size(); }
  void KeepBytes(absl::Span<const char> bytes);
  // Moves kept bytes into `buf`, as many as fit; returns how many.
  size_t TakeKeptBytes(absl::Span<char> buf);

  // A connection accepted after its Accept's caller stopped waiting.
  bool has_kept_fd() const { return !kept_fds_.empty(); }
  void KeepFd(UniqueFd fd) { kept_fds_.push_back(std::move(fd)); }
  UniqueFd TakeKeptFd();

  // A datagram a receive took from the kernel after its caller stopped
  // waiting: its bytes (as far as the buffer held them), ancillary data,
  // sender and recvmsg's msg_flags (MSG_TRUNC, MSG_CTRUNC).
  struct KeptDatagram {
    std::string data;
    std::string control;
    sockaddr_storage from;
    socklen_t from_len = 0;
    int msg_flags = 0;
  };
  bool has_kept_datagram() const { return !kept_datagrams_.empty(); }
  void KeepDatagram(KeptDatagram d) { kept_datagrams_.push_back(std::move(d)); }
  KeptDatagram TakeKeptDatagram() {
    KeptDatagram d = std::move(kept_datagrams_.front());
    kept_datagrams_.erase(kept_datagrams_.begin());
    return d;
  }

  const char* owner() const { return owner_; }

  enum class Direction : uint8_t { kRead, kWrite };
  // The direction's IoFuture, bound to this fd and its home driver, or null
  // while another future holds it. The caller fills in the buffer and polls
  // it, then gives it back with ReleaseSlot once it has the result (or has
  // abandoned the operation: IoFuture::Abandon). Thread-compatible, like
  // the reads and writes of one stream.
  IoFuture* ClaimSlot(Direction d) {
    Slot& slot = slot_of(d);
    if (slot.busy) return nullptr;
    slot.busy = true;
    if (slot.io.driver() == nullptr) slot.io.set_driver(home());
    slot.io.Reset();
    return &slot.io;
  }
  void ReleaseSlot(Direction d) { slot_of(d).busy = false; }

 private:
  struct Slot {
    IoFuture io;
    bool busy = false;
  };

  FdHandle(UniqueFd fd, Driver* home, const char* owner);
  ~FdHandle();
  Slot& slot_of(Direction d) { return d == Direction::kRead ? read_ : write_; }

  std::atomic<int> fd_;
  std::atomic<uint32_t> refs_{1};
  HomeDriver home_;
  const char* owner_;
  std::string kept_;
  size_t kept_begin_ = 0;  // kept_[kept_begin_..] is still to be read
  std::vector<UniqueFd> kept_fds_;
  // A vector, not a deque: every TCP stream has an FdHandle too, and an
  // empty vector allocates nothing (libstdc++'s deque allocates when
  // constructed). Kept datagrams are rare and few, so the front erase is
  // cheap.
  std::vector<KeptDatagram> kept_datagrams_;
  Slot read_;
  Slot write_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_IO_FD_HANDLE_H_
