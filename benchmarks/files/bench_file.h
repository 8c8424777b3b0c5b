// The file every file benchmark reads: 256 MiB, created once per process in
// a temporary directory, read once so that it sits in the page cache, and
// unlinked at once (the open fd keeps it alive; nothing is left behind).
// Also the random 4 KiB-aligned offsets all rows read at, from one fixed
// seed, so that every row reads the same blocks in the same order.
//
// Thread-safe (BenchFile::Get creates it once; the rest is immutable).
#ifndef POLYIO_BENCHMARKS_FILES_BENCH_FILE_H_
#define POLYIO_BENCHMARKS_FILES_BENCH_FILE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace polyio::bench {

inline constexpr size_t kFileSize = size_t{256} << 20;
inline constexpr size_t kBlockSize = 4096;
// Reads per benchmark iteration, whatever the queue depth: the iteration is
// long enough that spawning 32 readers (or waking 32 threads) is noise.
inline constexpr int kReadsPerIteration = 1024;

class BenchFile {
 public:
  // The process's file; the status says why it could not be made.
  static absl::StatusOr<const BenchFile*> Get();

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // Whether `block`, read at `offset`, is that block (each block starts with
  // its index): a benchmark that read the wrong bytes must not report.
  static bool IsBlockAt(const char* block, uint64_t offset) {
    uint64_t index;
    std::memcpy(&index, block, sizeof(index));
    return index == offset / kBlockSize;
  }

  // The offset of the i-th read of any reader (wraps around).
  uint64_t Offset(uint64_t i) const {
    return offsets_[i & (offsets_.size() - 1)];
  }

 private:
  BenchFile() = default;

  int fd_ = -1;
  std::string path_;
  std::vector<uint64_t> offsets_;
};

}  // namespace polyio::bench

#endif  // POLYIO_BENCHMARKS_FILES_BENCH_FILE_H_
