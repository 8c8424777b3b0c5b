// Files: what is written at an offset is read back intact, the end of a
// file reads as 0 bytes, and misuse gets a clear error — on every backend
// (io_uring natively, the readiness backends through the blocking pool).
#include "runtime/fs/file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

// A fresh path in the test's temporary directory.
std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(dir ? dir : "/tmp") + "/polyio_" + name + "_" +
                     std::to_string(::getpid());
  ::unlink(path.c_str());
  return path;
}

// Reads `len` bytes at `offset`, looping over short reads; stops at the end.
Task<absl::StatusOr<std::string>> ReadRange(const File* file, uint64_t offset,
                                            size_t len) {
  std::string out(len, '\0');
  size_t got = 0;
  while (got < len) {
    absl::StatusOr<size_t> n = co_await file->ReadAt(
        absl::MakeSpan(&out[got], len - got), offset + got);
    if (!n.ok()) co_return n.status();
    if (*n == 0) break;
    got += *n;
  }
  out.resize(got);
  co_return out;
}

TEST_F(ConformanceTest, FileWrittenAtOffsetsReadsBackIntact) {
  const std::string path = TempPath("rw");
  absl::Status s = rt().BlockOn([](std::string path) -> Task<absl::Status> {
    absl::StatusOr<File> file =
        co_await File::Open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (!file.ok()) co_return file.status();
    // 1 MiB in one write, then patches at unaligned offsets over it.
    const std::string base = Pattern(1 << 20, 1);
    absl::Status w = co_await file->WriteAllAt(base, 0);
    if (!w.ok()) co_return w;
    std::string expected = base;
    const uint64_t offsets[] = {0, 1, 4095, 4096, 65537, (1 << 20) - 7};
    for (uint64_t off : offsets) {
      const std::string patch = Pattern(300, static_cast<uint32_t>(off) + 2);
      w = co_await file->WriteAllAt(patch, off);
      if (!w.ok()) co_return w;
      expected.replace(off, std::min(patch.size(), expected.size() - off), "");
      expected.insert(off, patch);
    }
    absl::Status synced = co_await file->Sync();
    if (!synced.ok()) co_return synced;
    absl::StatusOr<std::string> all = co_await ReadRange(&*file, 0, 2 << 20);
    if (!all.ok()) co_return all.status();
    EXPECT_EQ(all->size(), expected.size());
    EXPECT_TRUE(*all == expected)
        << "the file's bytes differ from what was written";
    for (uint64_t off : offsets) {
      absl::StatusOr<std::string> part = co_await ReadRange(&*file, off, 4096);
      if (!part.ok()) co_return part.status();
      EXPECT_EQ(*part, expected.substr(off, 4096)) << "at offset " << off;
    }
    co_return file->Close();
  }(path));
  EXPECT_TRUE(s.ok()) << s;
  ::unlink(path.c_str());
}

TEST_F(ConformanceTest, FileReadsAtAndPastTheEndGiveShortAndZeroCounts) {
  const std::string path = TempPath("eof");
  absl::Status s = rt().BlockOn([](std::string path) -> Task<absl::Status> {
    absl::StatusOr<File> file =
        co_await File::Open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (!file.ok()) co_return file.status();
    absl::Status w =
        co_await file->WriteAllAt(absl::string_view("0123456789"), 0);
    if (!w.ok()) co_return w;
    char buf[16];
    absl::StatusOr<size_t> n = co_await file->ReadAt(absl::MakeSpan(buf), 6);
    if (!n.ok()) co_return n.status();
    EXPECT_EQ(*n, 4u);
    EXPECT_EQ(std::string(buf, 4), "6789");
    n = co_await file->ReadAt(absl::MakeSpan(buf), 10);
    if (!n.ok()) co_return n.status();
    EXPECT_EQ(*n, 0u);
    n = co_await file->ReadAt(absl::MakeSpan(buf), uint64_t{1} << 40);
    if (!n.ok()) co_return n.status();
    EXPECT_EQ(*n, 0u);
    n = co_await file->ReadAt(absl::MakeSpan(buf, 0), 0);
    if (!n.ok()) co_return n.status();
    EXPECT_EQ(*n, 0u);
    co_return absl::OkStatus();
  }(path));
  EXPECT_TRUE(s.ok()) << s;
  ::unlink(path.c_str());
}

TEST_F(ConformanceTest, FileOpenOfAMissingPathIsNotFoundNamingThePath) {
  const std::string path = TempPath("missing") + "/no/such/file";
  absl::StatusOr<File> file = rt().BlockOn(File::Open(path, O_RDONLY));
  EXPECT_TRUE(absl::IsNotFound(file.status())) << file.status();
  EXPECT_NE(file.status().message().find("open " + path),
            absl::string_view::npos)
      << file.status();
}

TEST_F(ConformanceTest, FileErrorsNameTheOperationAndCloseIsFinal) {
  const std::string path = TempPath("errors");
  absl::Status s = rt().BlockOn([](std::string path) -> Task<absl::Status> {
    {
      absl::StatusOr<File> creator =
          co_await File::Open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (!creator.ok()) co_return creator.status();
    }
    absl::StatusOr<File> file = co_await File::Open(path, O_RDONLY);
    if (!file.ok()) co_return file.status();
    // Writing through a read-only fd: EBADF from the kernel, named.
    absl::StatusOr<size_t> n =
        co_await file->WriteAt(absl::string_view("x"), 0);
    EXPECT_FALSE(n.ok());
    EXPECT_NE(n.status().message().find("write " + path + " at 0"),
              absl::string_view::npos)
        << n.status();
    // After Close: FailedPrecondition, nothing reaches the kernel.
    absl::Status closed = file->Close();
    EXPECT_TRUE(closed.ok()) << closed;
    EXPECT_FALSE(file->is_open());
    char buf[4];
    n = co_await file->ReadAt(absl::MakeSpan(buf), 0);
    EXPECT_TRUE(absl::IsFailedPrecondition(n.status())) << n.status();
    absl::Status synced = co_await file->Sync();
    EXPECT_TRUE(absl::IsFailedPrecondition(synced)) << synced;
    EXPECT_TRUE(file->Close().ok());  // idempotent
    co_return absl::OkStatus();
  }(path));
  EXPECT_TRUE(s.ok()) << s;
  ::unlink(path.c_str());
}

// An fd number that is not open (far above any fd this test opens): every
// operation reports EBADF, and so does Close.
TEST_F(ConformanceTest, FileOnABadFdReportsBadFileDescriptor) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    File file(UniqueFd(900000), "bogus");
    char buf[8];
    absl::StatusOr<size_t> n = co_await file.ReadAt(absl::MakeSpan(buf), 0);
    EXPECT_FALSE(n.ok());
    EXPECT_NE(n.status().message().find("read bogus at 0: Bad file descriptor"),
              absl::string_view::npos)
        << n.status();
    absl::Status synced = co_await file.Sync();
    EXPECT_NE(synced.message().find("fsync bogus"), absl::string_view::npos)
        << synced;
    absl::Status closed = file.Close();
    EXPECT_NE(closed.message().find("close bogus"), absl::string_view::npos)
        << closed;
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
}

// Many reads in flight at once from many tasks all get their own bytes.
TEST_F(ConformanceTest, FileConcurrentReadsFromManyTasksGetTheirOwnBytes) {
  const std::string path = TempPath("concurrent");
  absl::Status s = rt().BlockOn([](std::string path) -> Task<absl::Status> {
    absl::StatusOr<File> file =
        co_await File::Open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (!file.ok()) co_return file.status();
    const std::string data = Pattern(256 << 10, 9);
    absl::Status w = co_await file->WriteAllAt(data, 0);
    if (!w.ok()) co_return w;
    std::vector<JoinHandle<absl::StatusOr<std::string>>> readers;
    for (int i = 0; i < 64; ++i) {
      readers.push_back(Spawn(ReadRange(&*file, i * 4096, 4096)));
    }
    for (int i = 0; i < 64; ++i) {
      absl::StatusOr<std::string> got = co_await readers[i];
      if (!got.ok()) co_return got.status();
      EXPECT_TRUE(*got == data.substr(i * 4096, 4096)) << "reader " << i;
    }
    co_return absl::OkStatus();
  }(path));
  EXPECT_TRUE(s.ok()) << s;
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace polyio::testing
