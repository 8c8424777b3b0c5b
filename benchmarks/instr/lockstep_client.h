// LockstepClient: the client of tools/bench --instr — echo round trips in
// lockstep rounds: one message of S bytes is written on every connection,
// then every reply is read back, then the next round.
//
// Why not the shared LoadGenerator (which refills each connection as soon as
// its reply is back): under callgrind the server runs ~50x slower than the
// native client, and with free-running connections whether the server's
// next read finds the client's next message already there (or EAGAIN, and
// the task parks) depends on timing. A run settles into one mode or the
// other, and two runs of the same server differed by up to 7% in
// instructions per message. In lockstep no message is sent before every
// reply of the round is in, so every message costs the server the same
// work: a wake-up, a read, a write, and a read that finds nothing.
//
// Still one message in flight per connection at most (ping-pong), loopback
// only; the first byte of each message is a per-connection sequence number,
// checked on return. Blocking sockets with a 5 s receive timeout: a server
// that makes no progress is an error, never a hang. Thread-compatible.
#ifndef POLYIO_BENCHMARKS_INSTR_LOCKSTEP_CLIENT_H_
#define POLYIO_BENCHMARKS_INSTR_LOCKSTEP_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace polyio::bench {

class LockstepClient {
 public:
  // Connects `connections` sockets to 127.0.0.1:`port` (TCP_NODELAY).
  static absl::StatusOr<std::unique_ptr<LockstepClient>> Connect(
      uint16_t port, int connections, size_t message_size);
  LockstepClient(const LockstepClient&) = delete;
  LockstepClient& operator=(const LockstepClient&) = delete;
  ~LockstepClient();  // closes every connection

  // Runs whole rounds until at least `messages` round trips have completed
  // since the start; nothing is in flight when it returns.
  absl::Status RunUntil(uint64_t messages);

  uint64_t completed() const { return completed_; }

 private:
  explicit LockstepClient(size_t message_size) : message_(message_size, 'x') {}
  absl::Status Round();

  std::vector<int> fds_;
  std::vector<char> message_;
  std::vector<char> reply_;
  uint8_t seq_ = 0;
  uint64_t completed_ = 0;
};

}  // namespace polyio::bench

#endif  // POLYIO_BENCHMARKS_INSTR_LOCKSTEP_CLIENT_H_
