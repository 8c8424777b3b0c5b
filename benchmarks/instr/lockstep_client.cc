#include "benchmarks/instr/lockstep_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace polyio::bench {

absl::StatusOr<std::unique_ptr<LockstepClient>> LockstepClient::Connect(
    uint16_t port, int connections, size_t message_size) {
  std::unique_ptr<LockstepClient> client(new LockstepClient(message_size));
  client->reply_.resize(message_size);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < connections; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return absl::ErrnoToStatus(errno, "socket");
    client->fds_.push_back(fd);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    timeval timeout{5, 0};  // no progress for 5 s: an error, not a hang
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("connect ", i));
    }
  }
  return client;
}

LockstepClient::~LockstepClient() {
  for (int fd : fds_) close(fd);
}

absl::Status LockstepClient::RunUntil(uint64_t messages) {
  while (completed_ < messages) {
    if (absl::Status s = Round(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status LockstepClient::Round() {
  ++seq_;
  message_[0] = static_cast<char>(seq_);
  for (int fd : fds_) {
    for (size_t sent = 0; sent < message_.size();) {
      ssize_t n = write(fd, message_.data() + sent, message_.size() - sent);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return absl::ErrnoToStatus(errno, "write");
      sent += static_cast<size_t>(n);
    }
  }
  for (int fd : fds_) {
    for (size_t got = 0; got < reply_.size();) {
      ssize_t n = read(fd, reply_.data() + got, reply_.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return absl::DeadlineExceededError(
            "the server made no progress for 5 s");
      }
      if (n < 0) return absl::ErrnoToStatus(errno, "read");
      if (n == 0) return absl::UnavailableError("the server closed");
      got += static_cast<size_t>(n);
    }
    if (reply_[0] != static_cast<char>(seq_)) {
      return absl::DataLossError("a reply carried another message's bytes");
    }
    ++completed_;
  }
  return absl::OkStatus();
}

}  // namespace polyio::bench
