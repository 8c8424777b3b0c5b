// unix_echo run as its users run it: started on a socket path (and an
// abstract name on Linux), lines echoed, a file asked for and read through
// the fd the server passed, then stopped with SIGTERM — after which its
// socket file must be gone. On the backend this test was built for and on
// both runtimes (the test's parameter).
//
// The client is polyio's UnixStream (RecvWithFds): the received fd's
// close-on-exec flag is the receiver's doing, so only a polyio client makes
// that check mean something.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "examples/example_process.h"
#include "examples/example_test_support.h"
#include "gtest/gtest.h"
#include "polyio.h"

namespace polyio::examples {
namespace {

using std::chrono::seconds;

// What the server sent back: bytes, and the fds that came with them.
struct Reply {
  std::string text;
  std::vector<UniqueFd> fds;
};

// Reads until at least `size` bytes came and the last is a newline, or the
// stream ends (a reply that ends there is returned as it is).
Task<absl::StatusOr<Reply>> ReadReply(UnixStream* stream, size_t size) {
  Reply reply;
  std::vector<char> buf(8192);
  while (reply.text.size() < size || reply.text.back() != '\n') {
    absl::StatusOr<UnixMessage> m = co_await Timeout(
        seconds(10), stream->RecvWithFds(absl::MakeSpan(buf), 4));
    if (!m.ok()) co_return m.status();
    if (m->bytes == 0) break;
    reply.text.append(buf.data(), m->bytes);
    for (UniqueFd& fd : m->fds) reply.fds.push_back(std::move(fd));
  }
  co_return reply;
}

Task<absl::StatusOr<Reply>> Ask(UnixStream* stream, std::string request,
                                size_t reply_size) {
  absl::Status sent = co_await stream->WriteAll(absl::MakeConstSpan(request));
  if (!sent.ok()) co_return sent;
  co_return co_await ReadReply(stream, reply_size);
}

Task<absl::Status> Send(UnixStream* stream, std::string bytes) {
  co_return co_await stream->WriteAll(absl::MakeConstSpan(bytes));
}

Task<absl::StatusOr<UnixStream>> ConnectTo(std::string path) {
  co_return co_await Timeout(seconds(10), UnixStream::Connect(path));
}

// A directory short enough for sun_path, removed with its contents.
std::string MakeShortTempDir() {
  const char* test_tmp = std::getenv("TEST_TMPDIR");
  std::string base = test_tmp != nullptr && std::string(test_tmp).size() < 60
                         ? test_tmp
                         : std::filesystem::temp_directory_path().string();
  std::string pattern = base + "/ue-XXXXXX";
  EXPECT_NE(mkdtemp(pattern.data()), nullptr) << pattern;
  return pattern;
}

class UnixEchoTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (std::string why = WhyBackendCannotRun(); !why.empty()) {
      if (BackendRequired()) FAIL() << why;
      GTEST_SKIP() << why;
    }
    dir_ = MakeShortTempDir();
    absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create();
    ASSERT_TRUE(rt.ok()) << rt.status();
    rt_ = std::move(*rt);
  }

  void TearDown() override {
    if (server_) {
      absl::Status stopped = server_->Stop();
      EXPECT_TRUE(stopped.ok()) << stopped;
    }
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  // Starts unix_echo with `flags` (--path P or --abstract N) on this
  // test's runtime.
  void Start(std::vector<std::string> flags) {
    flags.push_back("--runtime");
    flags.push_back(GetParam());
    absl::StatusOr<std::unique_ptr<ExampleProcess>> server =
        ExampleProcess::Start("examples/unix_echo", flags);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    EXPECT_TRUE(NamesExpectedBackend(server_->banner())) << server_->banner();
  }

  UnixStream Connect(const std::string& path) {
    absl::StatusOr<UnixStream> s = rt_->BlockOn(ConnectTo(path));
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok()) std::abort();  // nothing below can run without it
    return std::move(*s);
  }

  Reply Request(UnixStream& stream, const std::string& request,
                size_t reply_size) {
    absl::StatusOr<Reply> r = rt_->BlockOn(Ask(&stream, request, reply_size));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::move(*r) : Reply{};
  }

  // Lines sent whole, in pieces and several at once come back as sent; so
  // does a last line without a newline, and then the server closes.
  void ExpectEchoes(const std::string& path) {
    UnixStream a = Connect(path);
    UnixStream b = Connect(path);
    EXPECT_EQ(Request(a, "hello\n", 6).text, "hello\n");
    EXPECT_EQ(Request(b, "one\ntwo\n", 8).text, "one\ntwo\n");
    ASSERT_TRUE(rt_->BlockOn(Send(&b, "thr")).ok());
    EXPECT_EQ(Request(b, "ee\r\n", 7).text, "three\r\n");
    std::string long_line(4000, 'x');
    for (size_t i = 0; i < long_line.size(); ++i) {
      long_line[i] = static_cast<char>('a' + i % 26);
    }
    long_line += '\n';
    EXPECT_TRUE(Request(a, long_line, long_line.size()).text == long_line);
    ASSERT_TRUE(rt_->BlockOn(Send(&a, "tail")).ok());
    ASSERT_TRUE(a.ShutdownWrite().ok());
    EXPECT_EQ(Request(a, "", 4).text, "tail");
    EXPECT_EQ(Request(a, "", 1).text, "") << "the server did not close";
  }

  // Asks for a file and reads it through the fd that comes with the answer.
  void ExpectFilePassing(const std::string& path) {
    const std::string file = dir_ + "/data.txt";
    std::string content;
    for (int i = 0; i < 1000; ++i) absl::StrAppend(&content, "line ", i, "\n");
    std::ofstream(file) << content;
    UnixStream c = Connect(path);
    Reply ok = Request(c, "FILE " + file + "\n", 1);
    EXPECT_EQ(ok.text, "OK " + file + "\n");
    ASSERT_EQ(ok.fds.size(), 1u);
    const int fd = ok.fds[0].get();
    struct stat passed {
    }, named{};
    ASSERT_EQ(fstat(fd, &passed), 0);
    ASSERT_EQ(stat(file.c_str(), &named), 0);
    EXPECT_EQ(passed.st_dev, named.st_dev);
    EXPECT_EQ(passed.st_ino, named.st_ino) << "not the file asked for";
    EXPECT_NE(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0) << "not close-on-exec";
    EXPECT_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
    std::string read_back(content.size() + 1, '\0');
    const ssize_t n = pread(fd, read_back.data(), read_back.size(), 0);
    ASSERT_EQ(n, static_cast<ssize_t>(content.size()));
    read_back.resize(static_cast<size_t>(n));
    EXPECT_TRUE(read_back == content) << "the file's content differs";

    // A file that is not there: an answer naming it, no fd.
    const std::string missing = dir_ + "/no-such-file";
    Reply err = Request(c, "FILE " + missing + "\n", 1);
    EXPECT_EQ(err.text,
              "ERR open " + missing + ": No such file or directory\n");
    EXPECT_TRUE(err.fds.empty());
    // Plain echo goes on on the same connection.
    EXPECT_EQ(Request(c, "after\n", 6).text, "after\n");
  }

  // SIGTERM: a clean exit that says so.
  void Terminate() {
    absl::StatusOr<std::string> out = server_->Terminate(SIGTERM);
    server_.reset();
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->rfind("unix_echo: SIGTERM: ", 0), 0u) << *out;
  }

  std::string dir_;
  std::unique_ptr<Runtime> rt_;
  std::unique_ptr<ExampleProcess> server_;
};

bool IsSocketFile(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

TEST_P(UnixEchoTest, EchoesLinesOverAPath) {
  const std::string path = dir_ + "/echo.sock";
  Start({"--path", path});
  EXPECT_EQ(server_->address(), path);
  EXPECT_TRUE(IsSocketFile(path));
  ExpectEchoes(path);
  Terminate();
}

TEST_P(UnixEchoTest, HandsTheClientAnOpenFile) {
  const std::string path = dir_ + "/echo.sock";
  Start({"--path", path});
  ExpectFilePassing(path);
  Terminate();
}

TEST_P(UnixEchoTest, ALineOverTheLimitEndsTheConnection) {
  const std::string path = dir_ + "/echo.sock";
  Start({"--path", path});
  UnixStream c = Connect(path);
  EXPECT_EQ(Request(c, std::string(5000, 'y') + "\n", 1).text,
            "ERR a line longer than 4096 bytes\n");
  EXPECT_EQ(Request(c, "", 1).text, "") << "the server did not close";
  // The server goes on for others.
  UnixStream d = Connect(path);
  EXPECT_EQ(Request(d, "ok\n", 3).text, "ok\n");
  Terminate();
}

TEST_P(UnixEchoTest, RemovesItsSocketFileAtExit) {
  const std::string path = dir_ + "/echo.sock";
  Start({"--path", path});
  ASSERT_TRUE(IsSocketFile(path));
  {
    UnixStream c = Connect(path);
    EXPECT_EQ(Request(c, "bye\n", 4).text, "bye\n");
  }
  Terminate();
  struct stat st {};
  EXPECT_NE(lstat(path.c_str(), &st), 0) << path << " is still there";
  // And a new server can bind the same path.
  Start({"--path", path});
  Terminate();
}

TEST_P(UnixEchoTest, RefusesAPathThatIsTaken) {
  const std::string path = dir_ + "/taken";
  std::ofstream(path) << "not a socket";
  absl::StatusOr<std::unique_ptr<ExampleProcess>> server =
      ExampleProcess::Start("examples/unix_echo",
                            {"--path", path, "--runtime", GetParam()});
  EXPECT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("exited with status 1"),
            std::string::npos)
      << server.status();
  std::ifstream still(path);
  std::string text;
  std::getline(still, text);
  EXPECT_EQ(text, "not a socket") << "the server touched a file not its own";
}

#ifdef __linux__
TEST_P(UnixEchoTest, ServesAnAbstractName) {
  std::random_device random;
  const std::string name =
      absl::StrCat("polyio-unix-echo-test-", getpid(), "-", random());
  Start({"--abstract", name});
  EXPECT_EQ(server_->address(), "@" + name);
  // "\0name" is how Connect takes an abstract name.
  const std::string abstract = std::string(1, '\0') + name;
  ExpectEchoes(abstract);
  ExpectFilePassing(abstract);
  Terminate();
}
#endif

INSTANTIATE_TEST_SUITE_P(Runtimes, UnixEchoTest,
                         ::testing::Values("current_thread", "multi_thread"));

}  // namespace
}  // namespace polyio::examples
