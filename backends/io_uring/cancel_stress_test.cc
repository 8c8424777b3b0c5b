// The stress case, on the runtime built over io_uring: abort 9,000
// tasks, each blocked in a read whose buffer lives in its coroutine frame,
// while data arrives. Every task must end exactly once — with its bytes
// intact or with CancelledError — and no frame may go while the kernel can
// still write into it (run under --config=asan).
#include <sys/resource.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "polyio.h"

namespace polyio {
namespace {

constexpr int kTasks = 9000;  // two fds each: inside a 20,000 fd hard limit
// One reader per stream: a stream takes one read at a time (a second
// concurrent Read is FailedPrecondition, docs/decisions.md).
constexpr int kReadersPerStream = 1;

struct Outcome {
  int cancelled = 0;
  int read = 0;
  int wrong = 0;
};

// A read into a frame buffer; checks what arrived is what was sent.
Task<absl::Status> ReadIntoFrame(TcpStream* stream) {
  char frame_buffer[256];
  absl::StatusOr<size_t> n =
      co_await stream->Read(absl::MakeSpan(frame_buffer));
  if (!n.ok()) co_return n.status();
  for (size_t i = 0; i < *n; ++i) {
    if (frame_buffer[i] != 'd') co_return absl::DataLossError("bad byte");
  }
  co_return *n > 0 ? absl::OkStatus() : absl::DataLossError("eof");
}

Task<Outcome> AbortWhileDataArrives(std::vector<TcpStream>* streams,
                                    std::vector<int>* peers) {
  std::vector<JoinHandle<absl::Status>> readers;
  readers.reserve(kTasks);
  for (int i = 0; i < kTasks; ++i) {
    readers.push_back(Spawn(ReadIntoFrame(&(*streams)[i / kReadersPerStream])));
  }
  // All blocked by now.
  EXPECT_TRUE((co_await Sleep(std::chrono::milliseconds(5))).ok());
  const std::string chunk(64, 'd');
  for (int i = 0; i < kTasks; ++i) {
    // Bytes land on every fourth stream just before its reader is aborted,
    // so cancels race real completions in the kernel.
    if (i % 4 == 0) {
      (void)::send((*peers)[i / kReadersPerStream], chunk.data(), chunk.size(),
                   MSG_NOSIGNAL);
    }
    readers[i].Abort();
    if (i % 1000 == 999) (void)co_await Sleep(std::chrono::milliseconds(0));
  }
  Outcome out;
  for (auto& r : readers) {
    absl::Status s = co_await r;
    if (absl::IsCancelled(s)) {
      ++out.cancelled;
    } else if (s.ok()) {
      ++out.read;
    } else {
      ++out.wrong;
    }
  }
  co_return out;
}

TEST(IoUringCancelStress, AbortNineThousandReadsWhileDataArrives) {
  rlimit limit;
  getrlimit(RLIMIT_NOFILE, &limit);
  rlim_t want = 2 * kTasks / kReadersPerStream + 256;
  if (limit.rlim_cur < want) {
    limit.rlim_cur = std::min(want, limit.rlim_max);
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  ASSERT_GE(limit.rlim_cur, want) << "fd limit too low for the stress test";

  absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create();
  if (!rt.ok()) {
    const char* req = std::getenv("POLYIO_REQUIRE_IO_URING");
    if (req != nullptr && std::strcmp(req, "1") == 0) {
      FAIL() << "io_uring required but unavailable: " << rt.status();
    }
    GTEST_SKIP() << rt.status();
  }
  ASSERT_EQ((*rt)->backend_name(), "io_uring");

  std::vector<TcpStream> streams;
  std::vector<int> peers;
  for (int i = 0; i < kTasks / kReadersPerStream; ++i) {
    int sv[2];
    ASSERT_EQ(
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
        0);
    streams.emplace_back(UniqueFd(sv[0]));
    peers.push_back(sv[1]);
  }
  Outcome out = (*rt)->BlockOn(AbortWhileDataArrives(&streams, &peers));
  EXPECT_EQ(out.cancelled + out.read, kTasks);
  EXPECT_EQ(out.wrong, 0);
  EXPECT_GT(out.cancelled, kTasks / 2);
  std::fprintf(stderr, "cancelled %d, read %d\n", out.cancelled, out.read);
  for (int fd : peers) close(fd);
}

}  // namespace
}  // namespace polyio
