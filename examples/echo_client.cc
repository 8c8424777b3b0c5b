// echo_client: sends N bytes through an echo server over C connections and
// checks that every byte comes back, in order; reports the throughput.
//
//   echo_client --port 7000 --bytes 1G --connections 4
//   echoed 1073741824 bytes over 4 connections in 1.84 s: 583.2 MB/s
//
// Each connection writes its share of a pattern that differs at every offset
// (so a lost, duplicated or reordered chunk shows) from one task while a
// second task reads and compares, so the socket buffers stay full in both
// directions. MB/s counts payload bytes echoed (10^6 bytes per MB, one way).
// Exit status 0 only if every byte came back intact; otherwise the first
// difference or error is printed on stderr and the status is 1.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "examples/flags.h"
#include "polyio.h"

namespace {

using polyio::JoinHandle;
using polyio::SocketAddress;
using polyio::Spawn;
using polyio::Task;
using polyio::TcpStream;

constexpr char kUsage[] =
    "usage: echo_client --port P --bytes N[K|M|G] [--connections C]";

// A pseudo-random block whose length is prime: byte i of a stream is
// Pattern()[i % size], so chunk boundaries never line up with it.
const std::vector<char>& Pattern() {
  static const std::vector<char>* pattern = [] {
    auto* p = new std::vector<char>(65521);
    uint32_t x = 2463534242u;
    for (char& c : *p) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      c = static_cast<char>(x);
    }
    return p;
  }();
  return *pattern;
}

Task<absl::Status> WritePattern(TcpStream* stream, uint64_t bytes) {
  const std::vector<char>& pattern = Pattern();
  uint64_t offset = 0;
  while (offset < bytes) {
    size_t at = offset % pattern.size();
    size_t len = std::min<uint64_t>(pattern.size() - at, bytes - offset);
    absl::Status s =
        co_await stream->WriteAll(absl::MakeConstSpan(&pattern[at], len));
    if (!s.ok()) co_return s;
    offset += len;
  }
  co_return stream->ShutdownWrite();
}

Task<absl::Status> EchoOne(SocketAddress addr, uint64_t bytes, int index) {
  absl::StatusOr<TcpStream> stream = co_await TcpStream::Connect(addr);
  if (!stream.ok()) co_return stream.status();
  JoinHandle<absl::Status> writer = Spawn(WritePattern(&*stream, bytes));
  const std::vector<char>& pattern = Pattern();
  std::vector<char> buf(256 * 1024);
  uint64_t received = 0;
  absl::Status status;
  while (status.ok()) {
    absl::StatusOr<size_t> n = co_await stream->Read(absl::MakeSpan(buf));
    if (!n.ok()) {
      status = n.status();
      break;
    }
    if (*n == 0) break;
    if (received + *n > bytes) {
      status = absl::DataLossError(absl::StrCat(
          "connection ", index, ": more bytes came back than were sent"));
      break;
    }
    for (size_t i = 0; i < *n; ++i) {
      if (buf[i] != pattern[(received + i) % pattern.size()]) {
        status = absl::DataLossError(absl::StrCat(
            "connection ", index, ": byte ", received + i, " differs"));
        break;
      }
    }
    received += *n;
  }
  if (status.ok() && received != bytes) {
    status = absl::DataLossError(absl::StrCat("connection ", index, ": got ",
                                              received, " of ", bytes,
                                              " bytes before end of stream"));
  }
  // The writer uses the stream: it must finish before the stream goes away.
  if (!status.ok()) stream->Close().IgnoreError();
  absl::Status written = co_await writer;
  co_return status.ok() ? written : status;
}

Task<absl::Status> Main(uint16_t port, uint64_t bytes, int connections) {
  SocketAddress addr = SocketAddress::Loopback4(port);
  auto start = std::chrono::steady_clock::now();
  std::vector<JoinHandle<absl::Status>> handles;
  for (int i = 0; i < connections; ++i) {
    uint64_t share =
        bytes / connections + (i < static_cast<int>(bytes % connections));
    handles.push_back(Spawn(EchoOne(addr, share, i)));
  }
  absl::Status status;
  for (JoinHandle<absl::Status>& h : handles) {
    absl::Status s = co_await h;
    if (status.ok()) status = s;
  }
  if (!status.ok()) co_return status;
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf("echoed %llu bytes over %d connection%s in %.2f s: %.1f MB/s\n",
              static_cast<unsigned long long>(bytes), connections,
              connections == 1 ? "" : "s", seconds, bytes / seconds / 1e6);
  co_return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  using polyio::examples::ParseInt;
  absl::StatusOr<std::map<std::string, std::string>> flags =
      polyio::examples::ParseFlags(argc, argv,
                                   {"port", "bytes", "connections"});
  if (!flags.ok() || !flags->count("port") || !flags->count("bytes")) {
    std::fprintf(stderr, "echo_client: %s\n%s\n",
                 flags.ok() ? "--port and --bytes are required"
                            : std::string(flags.status().message()).c_str(),
                 kUsage);
    return 1;
  }
  absl::StatusOr<int64_t> port = ParseInt("port", flags->at("port"), 1, 65535);
  absl::StatusOr<int64_t> bytes =
      ParseInt("bytes", flags->at("bytes"), 0, int64_t{1} << 50, true);
  absl::StatusOr<int64_t> connections =
      flags->count("connections")
          ? ParseInt("connections", flags->at("connections"), 1, 10000)
          : absl::StatusOr<int64_t>(1);
  for (const absl::Status& s :
       {port.status(), bytes.status(), connections.status()}) {
    if (!s.ok()) {
      std::fprintf(stderr, "echo_client: %s\n",
                   std::string(s.message()).c_str());
      return 1;
    }
  }
  absl::StatusOr<std::unique_ptr<polyio::Runtime>> rt =
      polyio::Runtime::Create();
  if (!rt.ok()) {
    std::fprintf(stderr, "echo_client: %s\n",
                 std::string(rt.status().message()).c_str());
    return 1;
  }
  absl::Status status = (*rt)->BlockOn(Main(
      static_cast<uint16_t>(*port), *bytes, static_cast<int>(*connections)));
  if (!status.ok()) {
    std::fprintf(stderr, "echo_client: %s\n",
                 std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
