// Unix-domain sockets: streams over a path and an abstract name, datagrams,
// fd passing (data intact, fds usable and close-on-exec, extra fds closed,
// fds kept across a cancelled receive), peer credentials, the listener's
// socket file, cancel-safe reads, end of stream, and the statuses of bad
// input.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/net/fd_passing.h"
#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::microseconds;
using std::chrono::seconds;

static_assert(AsyncReader<UnixStream> && AsyncWriter<UnixStream>,
              "the bufio helpers take a UnixStream");

// A fresh directory for socket files, removed with what is in it. Short
// enough for sun_path: TEST_TMPDIR when its paths fit, else the system's
// temporary directory.
class SocketDir {
 public:
  SocketDir() {
    std::string base;
    const char* test_tmp = std::getenv("TEST_TMPDIR");
    if (test_tmp != nullptr && std::string(test_tmp).size() < 60) {
      base = test_tmp;
    } else {
      base = std::filesystem::temp_directory_path().string();
    }
    std::string pattern = base + "/pu-XXXXXX";
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr) << pattern;
    dir_ = pattern;
  }
  ~SocketDir() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::string dir_;
};

// An abstract name no other test process uses. Abstract names live in the
// network namespace, which sandboxed runs of this binary may share while
// each has its own pid namespace (so the pid alone repeats): a random part.
std::string AbstractName(const char* what) {
  static std::atomic<int> counter{0};
  std::random_device random;
  return "polyio-test-" + std::to_string(getpid()) + "-" +
         std::to_string(random()) + "-" + what + "-" +
         std::to_string(counter.fetch_add(1));
}

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

// How many open fds of this process refer to one of the files `originals`
// refer to (the originals included): the copies that fd passing made and
// did not close. Counting only these, not every open fd, keeps the count
// exact while other threads open and close fds of their own (libkqueue's
// monitor closes fds of kqueues that earlier cases closed, at any time).
int OpenCopiesOf(const std::vector<int>& originals) {
  std::vector<std::pair<dev_t, ino_t>> files;
  for (int fd : originals) {
    struct stat st {};
    EXPECT_EQ(fstat(fd, &st), 0);
    files.emplace_back(st.st_dev, st.st_ino);
  }
  const int limit =
      static_cast<int>(std::min<rlim_t>(FdLimit::Current(), 1 << 16));
  int n = 0;
  for (int fd = 0; fd < limit; ++fd) {
    struct stat st {};
    if (fstat(fd, &st) != 0) continue;
    for (const auto& [dev, ino] : files) {
      if (st.st_dev == dev && st.st_ino == ino) {
        ++n;
        break;
      }
    }
  }
  return n;
}

// Accepts one connection on `listener`, echoes it; a client connected with
// `connect` sends `data` and must get it back.
Task<absl::Status> EchoThrough(UnixListener* listener,
                               UnixConnectFuture connect, std::string data) {
  JoinHandle<absl::Status> server =
      Spawn([](UnixListener* l) -> Task<absl::Status> {
        absl::StatusOr<UnixStream> s = co_await l->Accept();
        if (!s.ok()) co_return s.status();
        co_return co_await EchoConnection(std::move(*s));
      }(listener));
  absl::StatusOr<UnixStream> client = co_await std::move(connect);
  if (!client.ok()) co_return client.status();
  absl::Status w = co_await client->WriteAll(absl::MakeConstSpan(data));
  if (!w.ok()) co_return w;
  std::string got(data.size(), '\0');
  absl::Status r = co_await ReadExact(*client, absl::MakeSpan(got));
  if (!r.ok()) co_return r;
  EXPECT_TRUE(got == data) << "echoed bytes differ";
  client->Close().IgnoreError();
  co_return co_await server;
}

TEST_F(ConformanceTest, UnixStreamEchoOverAPath) {
  SocketDir dir;
  const std::string path = dir.Path("echo.sock");
  absl::StatusOr<UnixListener> listener = UnixListener::Bind(path);
  ASSERT_TRUE(listener.ok()) << listener.status();
  absl::StatusOr<UnixAddress> local = listener->LocalAddress();
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_EQ(local->ToString(), path);
  absl::Status s = rt().BlockOn(EchoThrough(
      &*listener, UnixStream::Connect(path), Pattern(256 * 1024, 1)));
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, UnixStreamEchoOverAnAbstractName) {
  const std::string name = AbstractName("echo");
  absl::StatusOr<UnixListener> listener = UnixListener::BindAbstract(name);
  ASSERT_TRUE(listener.ok()) << listener.status();
  absl::StatusOr<UnixAddress> local = listener->LocalAddress();
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_TRUE(local->is_abstract());
  EXPECT_EQ(local->ToString(), "@" + name);
  absl::Status s = rt().BlockOn(EchoThrough(
      &*listener, UnixStream::ConnectAbstract(name), Pattern(4096, 2)));
  EXPECT_TRUE(s.ok()) << s;
  // The same name written as a path with a leading '\0'.
  const std::string as_path = std::string(1, '\0') + name;
  s = rt().BlockOn(
      EchoThrough(&*listener, UnixStream::Connect(as_path), Pattern(100, 3)));
  EXPECT_TRUE(s.ok()) << s;
  // An abstract name is taken while its listener lives.
  absl::StatusOr<UnixListener> again = UnixListener::Bind(as_path);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition)
      << again.status();
  EXPECT_EQ(again.status().message(),
            "bind @" + name + ": Address already in use");
}

TEST_F(ConformanceTest, UnixStreamWorksWithBufferedReader) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    absl::StatusOr<std::pair<UnixStream, UnixStream>> pair = UnixStream::Pair();
    if (!pair.ok()) co_return pair.status();
    absl::Status w = co_await pair->first.WriteAll(
        absl::MakeConstSpan(std::string("one\ntwo\n")));
    if (!w.ok()) co_return w;
    pair->first.Close().IgnoreError();
    BufferedReader<UnixStream> in(pair->second);
    absl::StatusOr<std::optional<std::string>> line = co_await in.ReadLine();
    if (!line.ok()) co_return line.status();
    EXPECT_EQ(line->value_or("<none>"), "one");
    line = co_await in.ReadLine();
    if (!line.ok()) co_return line.status();
    EXPECT_EQ(line->value_or("<none>"), "two");
    line = co_await in.ReadLine();
    if (!line.ok()) co_return line.status();
    EXPECT_FALSE(line->has_value());
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

// ---- datagrams ----

TEST_F(ConformanceTest, UnixDatagramRoundTrip) {
  SocketDir dir;
  const std::string a_path = dir.Path("a.dgram");
  const std::string b_path = dir.Path("b.dgram");
  absl::Status s = rt().BlockOn([&]() -> Task<absl::Status> {
    absl::StatusOr<UnixDatagram> a = UnixDatagram::Bind(a_path);
    if (!a.ok()) co_return a.status();
    absl::StatusOr<UnixDatagram> b = UnixDatagram::Bind(b_path);
    if (!b.ok()) co_return b.status();
    std::vector<char> buf(256);
    for (int i = 0; i < 10; ++i) {
      const std::string ping = "ping " + std::to_string(i);
      absl::StatusOr<size_t> sent =
          co_await a->SendTo(absl::MakeConstSpan(ping), b_path);
      if (!sent.ok()) co_return sent.status();
      EXPECT_EQ(*sent, ping.size());
      absl::StatusOr<UnixMessage> got =
          co_await Timeout(seconds(5), b->RecvFrom(absl::MakeSpan(buf)));
      if (!got.ok()) co_return got.status();
      EXPECT_EQ(std::string(buf.data(), got->bytes), ping);
      EXPECT_FALSE(got->truncated);
      EXPECT_EQ(got->peer.ToString(), a_path);
      const std::string pong = "pong " + std::to_string(i);
      sent = co_await b->SendTo(absl::MakeConstSpan(pong), got->peer);
      if (!sent.ok()) co_return sent.status();
      got = co_await Timeout(seconds(5), a->RecvFrom(absl::MakeSpan(buf)));
      if (!got.ok()) co_return got.status();
      EXPECT_EQ(std::string(buf.data(), got->bytes), pong);
      EXPECT_EQ(got->peer.ToString(), b_path);
    }
    // A datagram longer than the buffer is cut, and says so.
    const std::string big = Pattern(300, 4);
    absl::StatusOr<size_t> sent =
        co_await a->SendTo(absl::MakeConstSpan(big), b_path);
    if (!sent.ok()) co_return sent.status();
    std::vector<char> small(100);
    absl::StatusOr<UnixMessage> got =
        co_await Timeout(seconds(5), b->RecvFrom(absl::MakeSpan(small)));
    if (!got.ok()) co_return got.status();
    EXPECT_EQ(got->bytes, 100u);
    EXPECT_TRUE(got->truncated);
    // An unbound socket connected to `b`: Send and Recv; the sender is
    // unnamed.
    absl::StatusOr<UnixDatagram> c = UnixDatagram::Unbound();
    if (!c.ok()) co_return c.status();
    absl::Status connected = c->Connect(b_path);
    if (!connected.ok()) co_return connected;
    sent = co_await c->Send(absl::MakeConstSpan("hi", 2));
    if (!sent.ok()) co_return sent.status();
    got = co_await Timeout(seconds(5), b->RecvFrom(absl::MakeSpan(buf)));
    if (!got.ok()) co_return got.status();
    EXPECT_EQ(std::string(buf.data(), got->bytes), "hi");
    EXPECT_TRUE(got->peer.is_unnamed()) << got->peer.ToString();
    // A pair.
    absl::StatusOr<std::pair<UnixDatagram, UnixDatagram>> pair =
        UnixDatagram::Pair();
    if (!pair.ok()) co_return pair.status();
    sent = co_await pair->first.Send(absl::MakeConstSpan("yo", 2));
    if (!sent.ok()) co_return sent.status();
    got = co_await Timeout(seconds(5), pair->second.Recv(absl::MakeSpan(buf)));
    if (!got.ok()) co_return got.status();
    EXPECT_EQ(std::string(buf.data(), got->bytes), "yo");
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

// ---- fd passing ----

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Pipe MakePipe() {
  int p[2] = {-1, -1};
  EXPECT_EQ(pipe(p), 0);
  return Pipe{UniqueFd(p[0]), UniqueFd(p[1])};
}

std::string ReadSome(int fd) {
  char buf[64];
  ssize_t n = read(fd, buf, sizeof(buf));
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// Sends the read ends of three pipes, each with different bytes waiting in
// it, and reads the bytes back through the received fds.
template <class Sender, class Receiver>
Task<absl::Status> PassThreeFds(Sender* tx, Receiver* rx) {
  std::vector<Pipe> pipes;
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) {
    pipes.push_back(MakePipe());
    const std::string text = "pipe " + std::to_string(i);
    EXPECT_EQ(write(pipes.back().write.get(), text.data(), text.size()),
              static_cast<ssize_t>(text.size()));
    fds.push_back(pipes.back().read.get());
  }
  const std::string data = "three fds";
  absl::StatusOr<size_t> sent = co_await tx->SendWithFds(
      absl::MakeConstSpan(data), absl::MakeConstSpan(fds));
  if (!sent.ok()) co_return sent.status();
  EXPECT_EQ(*sent, data.size());
  std::vector<char> buf(64);
  absl::StatusOr<UnixMessage> got =
      co_await Timeout(seconds(5), rx->RecvWithFds(absl::MakeSpan(buf), 3));
  if (!got.ok()) co_return got.status();
  EXPECT_EQ(std::string(buf.data(), got->bytes), data);
  EXPECT_FALSE(got->fds_truncated);
  EXPECT_EQ(got->fds.size(), 3u);
  for (size_t i = 0; i < got->fds.size(); ++i) {
    const int fd = got->fds[i].get();
    EXPECT_NE(fd, fds[i]) << "a new number for the same pipe";
    EXPECT_EQ(ReadSome(fd), "pipe " + std::to_string(i));
    const int flags = fcntl(fd, F_GETFD);
    EXPECT_TRUE(flags >= 0 && (flags & FD_CLOEXEC) != 0)
        << "received fd " << fd << " is not close-on-exec";
  }
  // The sender's fds are still its own.
  for (int fd : fds) EXPECT_GE(fcntl(fd, F_GETFD), 0) << fd;
  co_return absl::OkStatus();
}

TEST_F(ConformanceTest, UnixStreamPassesThreeFds) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    absl::StatusOr<std::pair<UnixStream, UnixStream>> pair = UnixStream::Pair();
    if (!pair.ok()) co_return pair.status();
    co_return co_await PassThreeFds(&pair->first, &pair->second);
  }());
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, UnixDatagramPassesThreeFds) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    absl::StatusOr<std::pair<UnixDatagram, UnixDatagram>> pair =
        UnixDatagram::Pair();
    if (!pair.ok()) co_return pair.status();
    co_return co_await PassThreeFds(&pair->first, &pair->second);
  }());
  EXPECT_TRUE(s.ok()) << s;
}

// Five fds sent, fewer allowed: the rest are closed, never left open in
// this process, and the result says fds were dropped.
TEST_F(ConformanceTest, UnixFdsBeyondWhatTheCallerAllowsAreClosed) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    absl::StatusOr<std::pair<UnixStream, UnixStream>> pair = UnixStream::Pair();
    if (!pair.ok()) co_return pair.status();
    std::vector<Pipe> pipes;
    std::vector<int> fds;
    for (int i = 0; i < 5; ++i) {
      pipes.push_back(MakePipe());
      fds.push_back(pipes.back().read.get());
    }
    std::vector<char> buf(16);
    for (size_t allowed : {size_t{2}, size_t{3}, size_t{0}}) {
      const int before = OpenCopiesOf(fds);
      absl::StatusOr<size_t> sent = co_await pair->first.SendWithFds(
          absl::MakeConstSpan("x", 1), absl::MakeConstSpan(fds));
      if (!sent.ok()) co_return sent.status();
      absl::StatusOr<UnixMessage> got = co_await Timeout(
          seconds(5), pair->second.RecvWithFds(absl::MakeSpan(buf), allowed));
      if (!got.ok()) co_return got.status();
      EXPECT_EQ(got->bytes, 1u);
      EXPECT_EQ(got->fds.size(), allowed);
      EXPECT_TRUE(got->fds_truncated) << "allowed " << allowed;
      EXPECT_EQ(OpenCopiesOf(fds), before + static_cast<int>(allowed))
          << "allowed " << allowed;
      got->fds.clear();
      EXPECT_EQ(OpenCopiesOf(fds), before) << "allowed " << allowed;
    }
    // A plain Read of bytes that carried fds: the kernel drops them.
    const int before = OpenCopiesOf(fds);
    absl::StatusOr<size_t> sent = co_await pair->first.SendWithFds(
        absl::MakeConstSpan("y", 1), absl::MakeConstSpan(fds));
    if (!sent.ok()) co_return sent.status();
    absl::StatusOr<size_t> n =
        co_await Timeout(seconds(5), pair->second.Read(absl::MakeSpan(buf)));
    if (!n.ok()) co_return n.status();
    EXPECT_EQ(*n, 1u);
    EXPECT_EQ(OpenCopiesOf(fds), before);
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

// A RecvWithFds cancelled at its first poll — the loser of a WhenAny whose
// other side is ready at once, or a future dropped in flight — loses
// neither the message's bytes nor its fds: the next RecvWithFds gets both,
// the fds usable and close-on-exec, and no copy of a passed fd is left open
// once the receiver closes its own. Even rounds send the message before
// the cancelled receive starts (a readiness backend receives it at once;
// on io_uring the recvmsg may complete while it is being cancelled, and
// the socket object keeps it), odd rounds after it was cancelled.
template <class Socket>
Task<absl::Status> CancelledRecvWithFdsKeepsTheFds() {
  absl::StatusOr<std::pair<Socket, Socket>> pair = Socket::Pair();
  if (!pair.ok()) co_return pair.status();
  Socket& tx = pair->first;
  Socket& rx = pair->second;
  std::vector<char> buf(64);
  int cancelled = 0;
  for (int round = 0; round < 32; ++round) {
    std::vector<Pipe> pipes;
    std::vector<int> fds;
    for (int j = 0; j < 2; ++j) {
      pipes.push_back(MakePipe());
      const std::string text = absl::StrCat("round ", round, " pipe ", j);
      EXPECT_EQ(write(pipes.back().write.get(), text.data(), text.size()),
                static_cast<ssize_t>(text.size()));
      fds.push_back(pipes.back().read.get());
    }
    // Both ends of each pipe, before any is passed.
    const int before = OpenCopiesOf(fds);
    const std::string data = absl::StrCat("message ", round);
    auto send = [&]() -> Task<absl::Status> {
      absl::StatusOr<size_t> sent = co_await tx.SendWithFds(
          absl::MakeConstSpan(data), absl::MakeConstSpan(fds));
      if (!sent.ok()) co_return sent.status();
      EXPECT_EQ(*sent, data.size());
      co_return absl::OkStatus();
    };
    const bool data_first = round % 2 == 0;
    if (data_first) {
      absl::Status st = co_await send();
      if (!st.ok()) co_return st;
    }
    std::optional<absl::StatusOr<UnixMessage>> first;
    if (round % 4 < 2) {
      auto r = co_await WhenAny(rx.RecvWithFds(absl::MakeSpan(buf), 4),
                                Sleep(Duration::zero()));
      if (r.index() == 0) first = std::get<0>(std::move(r));
    } else {
      first = co_await PollOnceThenDrop(rx.RecvWithFds(absl::MakeSpan(buf), 4));
    }
    if (!first.has_value()) ++cancelled;
    if (!data_first) {
      absl::Status st = co_await send();
      if (!st.ok()) co_return st;
    }
    // (An if, not a conditional expression: g++ 12 miscompiles co_await
    // inside one.)
    absl::StatusOr<UnixMessage> got = absl::InternalError("not received");
    if (first.has_value()) {
      got = std::move(*first);
    } else {
      got =
          co_await Timeout(seconds(5), rx.RecvWithFds(absl::MakeSpan(buf), 4));
    }
    if (!got.ok()) co_return got.status();
    EXPECT_EQ(std::string(buf.data(), got->bytes), data) << "round " << round;
    EXPECT_FALSE(got->fds_truncated) << "round " << round;
    EXPECT_EQ(got->fds.size(), 2u) << "round " << round;
    for (size_t j = 0; j < got->fds.size(); ++j) {
      const int fd = got->fds[j].get();
      EXPECT_EQ(ReadSome(fd), absl::StrCat("round ", round, " pipe ", j));
      const int flags = fcntl(fd, F_GETFD);
      EXPECT_TRUE(flags >= 0 && (flags & FD_CLOEXEC) != 0)
          << "round " << round << ": received fd " << fd
          << " is not close-on-exec";
    }
    // The pipes' own ends and the received copies; nothing else of them.
    EXPECT_EQ(OpenCopiesOf(fds), before + 2) << "round " << round;
    got->fds.clear();
    EXPECT_EQ(OpenCopiesOf(fds), before) << "round " << round;
    if (::testing::Test::HasFailure()) break;
  }
  if (cancelled == 0) co_return absl::InternalError("no receive was cancelled");
  co_return absl::OkStatus();
}

TEST_F(ConformanceTest, UnixStreamCancelledRecvWithFdsKeepsTheFds) {
  absl::Status s = rt().BlockOn(CancelledRecvWithFdsKeepsTheFds<UnixStream>());
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, UnixDatagramCancelledRecvWithFdsKeepsTheFds) {
  absl::Status s =
      rt().BlockOn(CancelledRecvWithFdsKeepsTheFds<UnixDatagram>());
  EXPECT_TRUE(s.ok()) << s;
}

// ---- credentials, the socket file ----

TEST_F(ConformanceTest, UnixPeerCredentialsAreThisProcess) {
  SocketDir dir;
  const std::string path = dir.Path("cred.sock");
  absl::StatusOr<UnixListener> listener = UnixListener::Bind(path);
  ASSERT_TRUE(listener.ok()) << listener.status();
  absl::Status s = rt().BlockOn([&]() -> Task<absl::Status> {
    absl::StatusOr<UnixStream> client = co_await UnixStream::Connect(path);
    if (!client.ok()) co_return client.status();
    absl::StatusOr<UnixStream> server = co_await listener->Accept();
    if (!server.ok()) co_return server.status();
    for (const UnixStream* end : {&*client, &*server}) {
      absl::StatusOr<UnixCredentials> c = end->PeerCredentials();
      if (!c.ok()) co_return c.status();
      EXPECT_EQ(c->pid, getpid());
      EXPECT_EQ(c->uid, getuid());
      EXPECT_EQ(c->gid, getgid());
    }
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
  absl::StatusOr<std::pair<UnixStream, UnixStream>> pair = UnixStream::Pair();
  ASSERT_TRUE(pair.ok()) << pair.status();
  absl::StatusOr<UnixCredentials> c = pair->first.PeerCredentials();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->pid, getpid());
  EXPECT_EQ(c->uid, getuid());
}

TEST_F(ConformanceTest, UnixListenerRemovesItsFileOnClose) {
  SocketDir dir;
  const std::string path = dir.Path("owned.sock");
  absl::StatusOr<UnixListener> listener = UnixListener::Bind(path);
  ASSERT_TRUE(listener.ok()) << listener.status();
  struct stat st;
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  // A second listener on the same path fails and leaves the file alone.
  absl::StatusOr<UnixListener> second = UnixListener::Bind(path);
  EXPECT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("bind " + path), std::string::npos)
      << second.status();
  EXPECT_TRUE(Exists(path));
  listener->Close();
  EXPECT_FALSE(Exists(path));
  listener->Close();  // idempotent
}

TEST_F(ConformanceTest, UnixListenerLeavesAFileItDidNotCreate) {
  SocketDir dir;
  const std::string path = dir.Path("replaced.sock");
  absl::StatusOr<UnixListener> listener = UnixListener::Bind(path);
  ASSERT_TRUE(listener.ok()) << listener.status();
  // Someone removes the socket file and puts their own file there.
  ASSERT_EQ(unlink(path.c_str()), 0);
  {
    UniqueFd f(open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
    ASSERT_TRUE(f.valid());
  }
  listener->Close();
  EXPECT_TRUE(Exists(path)) << "the listener removed a file it did not make";
  // The same with a socket file in its place: another socket's, bound after
  // the first was removed.
  const std::string path3 = dir.Path("rebound.sock");
  absl::StatusOr<UnixListener> old_listener = UnixListener::Bind(path3);
  ASSERT_TRUE(old_listener.ok()) << old_listener.status();
  ASSERT_EQ(unlink(path3.c_str()), 0);
  absl::StatusOr<UnixDatagram> newcomer = UnixDatagram::Bind(path3);
  ASSERT_TRUE(newcomer.ok()) << newcomer.status();
  old_listener->Close();
  EXPECT_TRUE(Exists(path3))
      << "the listener removed another socket's file at its old path";
  // A moved-from listener owns no file either; the moved-to one does.
  const std::string path2 = dir.Path("moved.sock");
  absl::StatusOr<UnixListener> first = UnixListener::Bind(path2);
  ASSERT_TRUE(first.ok()) << first.status();
  UnixListener moved = std::move(*first);
  first->Close();
  EXPECT_TRUE(Exists(path2));
  moved.Close();
  EXPECT_FALSE(Exists(path2));
}

// ---- cancellation, end of stream ----

// A Read under a short Timeout, again and again, while the peer writes in
// small pieces: every byte arrives, in order, although many reads were
// cancelled (some of them, on io_uring, after the kernel had filled them).
// Every eighth piece is written only after a read has timed out waiting for
// it, so reads are cancelled on every run, whatever the machine's speed;
// the others race the timeouts.
TEST_F(ConformanceTest, UnixReadUnderTimeoutLosesNothing) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    absl::StatusOr<std::pair<UnixStream, UnixStream>> pair = UnixStream::Pair();
    if (!pair.ok()) co_return pair.status();
    const std::string data = Pattern(128 * 1024, 5);
    std::atomic<int> timeouts{0};
    JoinHandle<absl::Status> writer =
        Spawn([](UnixStream* w, const std::string* d,
                 std::atomic<int>* timed_out) -> Task<absl::Status> {
          int piece = 0;
          for (size_t at = 0; at < d->size(); at += 700, ++piece) {
            if (piece % 8 == 0) {
              const int target = timed_out->load() + 1;
              if (!co_await YieldUntil(timed_out, target)) {
                co_return absl::DeadlineExceededError("no read timed out");
              }
            }
            const size_t n = std::min<size_t>(700, d->size() - at);
            absl::Status st =
                co_await w->WriteAll(absl::MakeConstSpan(d->data() + at, n));
            if (!st.ok()) co_return st;
            absl::Status y = co_await Yield();
            if (!y.ok()) co_return y;
          }
          co_return w->ShutdownWrite();
        }(&pair->first, &data, &timeouts));
    std::string got;
    std::vector<char> buf(1000);
    const microseconds waits[] = {microseconds(50), microseconds(200),
                                  microseconds(1000)};
    for (int round = 0;; ++round) {
      absl::StatusOr<size_t> n = co_await Timeout(
          waits[round % 3], pair->second.Read(absl::MakeSpan(buf)));
      if (!n.ok()) {
        if (n.status().code() != absl::StatusCode::kDeadlineExceeded) {
          co_return n.status();
        }
        timeouts.fetch_add(1);
        continue;
      }
      if (*n == 0) break;
      got.append(buf.data(), *n);
    }
    absl::Status w = co_await writer;
    if (!w.ok()) co_return w;
    EXPECT_EQ(got.size(), data.size());
    EXPECT_TRUE(got == data) << "bytes lost or reordered";
    EXPECT_GE(timeouts.load(), 24) << "fewer cancelled reads than pieces "
                                      "written after a timeout";
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, UnixStreamEndOfStream) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    absl::StatusOr<std::pair<UnixStream, UnixStream>> pair = UnixStream::Pair();
    if (!pair.ok()) co_return pair.status();
    absl::Status w =
        co_await pair->first.WriteAll(absl::MakeConstSpan("last", 4));
    if (!w.ok()) co_return w;
    absl::Status shut = pair->first.ShutdownWrite();
    if (!shut.ok()) co_return shut;
    std::vector<char> buf(16);
    absl::StatusOr<size_t> n = co_await pair->second.Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    EXPECT_EQ(std::string(buf.data(), *n), "last");
    n = co_await pair->second.Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    EXPECT_EQ(*n, 0u);
    absl::StatusOr<UnixMessage> m =
        co_await pair->second.RecvWithFds(absl::MakeSpan(buf), 2);
    if (!m.ok()) co_return m.status();
    EXPECT_EQ(m->bytes, 0u);
    EXPECT_TRUE(m->fds.empty());
    // The other way: the peer closes entirely.
    pair->second.Close().IgnoreError();
    n = co_await pair->first.Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return n.status();
    EXPECT_EQ(*n, 0u);
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

// ---- bad input ----

TEST_F(ConformanceTest, UnixBadInputs) {
  SocketDir dir;
  const std::string long_path = dir.Path(std::string(150, 'p'));
  absl::StatusOr<UnixListener> l = UnixListener::Bind(long_path);
  EXPECT_EQ(l.status().code(), absl::StatusCode::kInvalidArgument)
      << l.status();
  EXPECT_NE(l.status().message().find("bind " + long_path), std::string::npos)
      << l.status();
  absl::StatusOr<UnixListener> abstract_long =
      UnixListener::BindAbstract(std::string(200, 'a'));
  EXPECT_EQ(abstract_long.status().code(), absl::StatusCode::kInvalidArgument)
      << abstract_long.status();
  absl::StatusOr<UnixListener> empty = UnixListener::Bind("");
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument)
      << empty.status();
  absl::StatusOr<UnixDatagram> d = UnixDatagram::Bind(long_path);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument)
      << d.status();

  const std::string missing = dir.Path("missing.sock");
  absl::Status s = rt().BlockOn([&]() -> Task<absl::Status> {
    absl::StatusOr<UnixStream> c = co_await UnixStream::Connect(long_path);
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument)
        << c.status();
    EXPECT_NE(c.status().message().find("connect " + long_path),
              std::string::npos)
        << c.status();
    c = co_await UnixStream::Connect(missing);
    EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound) << c.status();
    EXPECT_EQ(c.status().message(),
              "connect " + missing + ": No such file or directory");

    absl::StatusOr<std::pair<UnixStream, UnixStream>> pair = UnixStream::Pair();
    if (!pair.ok()) co_return pair.status();
    std::vector<int> too_many(kMaxFdsPerMessage + 1, 0);
    absl::StatusOr<size_t> sent = co_await pair->first.SendWithFds(
        absl::MakeConstSpan("x", 1), absl::MakeConstSpan(too_many));
    EXPECT_EQ(sent.status().code(), absl::StatusCode::kInvalidArgument)
        << sent.status();
    int one_fd[] = {0};
    sent = co_await pair->first.SendWithFds({}, absl::MakeConstSpan(one_fd));
    EXPECT_EQ(sent.status().code(), absl::StatusCode::kInvalidArgument)
        << sent.status();

    absl::StatusOr<UnixDatagram> dg = UnixDatagram::Unbound();
    if (!dg.ok()) co_return dg.status();
    sent = co_await dg->SendTo(absl::MakeConstSpan("x", 1), long_path);
    EXPECT_EQ(sent.status().code(), absl::StatusCode::kInvalidArgument)
        << sent.status();
    EXPECT_NE(sent.status().message().find("sendto " + long_path),
              std::string::npos)
        << sent.status();

    // Closed: FailedPrecondition, as TcpStream's.
    pair->first.Close().IgnoreError();
    std::vector<char> buf(8);
    absl::StatusOr<size_t> n = co_await pair->first.Read(absl::MakeSpan(buf));
    EXPECT_EQ(n.status().code(), absl::StatusCode::kFailedPrecondition)
        << n.status();
    EXPECT_EQ(n.status().message(), "read: the stream is closed");
    absl::StatusOr<UnixMessage> m =
        co_await pair->first.RecvWithFds(absl::MakeSpan(buf), 1);
    EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition)
        << m.status();
    sent = co_await pair->first.SendWithFds(absl::MakeConstSpan("x", 1),
                                            absl::MakeConstSpan(one_fd));
    EXPECT_EQ(sent.status().code(), absl::StatusCode::kFailedPrecondition)
        << sent.status();
    EXPECT_EQ(pair->first.PeerCredentials().status().code(),
              absl::StatusCode::kFailedPrecondition);
    dg->Close().IgnoreError();
    absl::StatusOr<UnixMessage> r = co_await dg->RecvFrom(absl::MakeSpan(buf));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition)
        << r.status();
    EXPECT_EQ(r.status().message(), "recvfrom: the socket is closed");
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

// Close ends a pending read with CancelledError.
TEST_F(ConformanceTest, UnixCloseEndsAPendingRecvWithFds) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    absl::StatusOr<std::pair<UnixStream, UnixStream>> pair = UnixStream::Pair();
    if (!pair.ok()) co_return pair.status();
    std::atomic<int> started{0};
    std::vector<char> buf(8);
    JoinHandle<absl::StatusOr<UnixMessage>> reader =
        Spawn([](UnixStream* r, absl::Span<char> b,
                 std::atomic<int>* st) -> Task<absl::StatusOr<UnixMessage>> {
          co_return co_await CountWhenStarted(r->RecvWithFds(b, 2), st);
        }(&pair->second, absl::MakeSpan(buf), &started));
    if (!co_await YieldUntil(&started, 1)) {
      co_return absl::DeadlineExceededError("the read never started");
    }
    pair->second.Close().IgnoreError();
    absl::StatusOr<UnixMessage> m = co_await reader;
    EXPECT_EQ(m.status().code(), absl::StatusCode::kCancelled) << m.status();
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

}  // namespace
}  // namespace polyio::testing
