#include "benchmarks/files/bench_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace polyio::bench {

absl::StatusOr<const BenchFile*> BenchFile::Get() {
  static const absl::StatusOr<BenchFile*> file = [] {
    auto f = std::unique_ptr<BenchFile>(new BenchFile);
    const char* dir = std::getenv("TEST_TMPDIR");
    if (dir == nullptr) dir = std::getenv("TMPDIR");
    if (dir == nullptr) dir = "/tmp";
    std::string path = absl::StrCat(dir, "/polyio_file_bench_XXXXXX");
    int fd = mkstemp(path.data());
    if (fd < 0) {
      return absl::StatusOr<BenchFile*>(
          absl::ErrnoToStatus(errno, absl::StrCat("mkstemp ", path)));
    }
    unlink(path.c_str());
    f->fd_ = fd;
    f->path_ = path;
    // Contents: each block starts with its own index (IsBlockAt).
    std::vector<char> chunk(1 << 20);
    for (size_t off = 0; off < kFileSize; off += chunk.size()) {
      for (size_t b = 0; b < chunk.size(); b += kBlockSize) {
        uint64_t index = (off + b) / kBlockSize;
        std::memcpy(&chunk[b], &index, sizeof(index));
      }
      size_t done = 0;
      while (done < chunk.size()) {
        ssize_t n = pwrite(fd, chunk.data() + done, chunk.size() - done,
                           static_cast<off_t>(off + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          return absl::StatusOr<BenchFile*>(
              absl::ErrnoToStatus(errno, absl::StrCat("pwrite ", path)));
        }
        done += static_cast<size_t>(n);
      }
    }
    // Read it all once: whatever write-back did, it is now in the cache.
    for (size_t off = 0; off < kFileSize; off += chunk.size()) {
      if (pread(fd, chunk.data(), chunk.size(), static_cast<off_t>(off)) < 0) {
        return absl::StatusOr<BenchFile*>(
            absl::ErrnoToStatus(errno, absl::StrCat("pread ", path)));
      }
    }
    // xorshift64*, fixed seed: the same blocks in the same order every run.
    f->offsets_.resize(1 << 16);
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (uint64_t& o : f->offsets_) {
      x ^= x >> 12;
      x ^= x << 25;
      x ^= x >> 27;
      o = ((x * 0x2545F4914F6CDD1Du) % (kFileSize / kBlockSize)) * kBlockSize;
    }
    return absl::StatusOr<BenchFile*>(f.release());
  }();
  if (!file.ok()) return file.status();
  return *file;
}

}  // namespace polyio::bench
