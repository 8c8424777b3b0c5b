// FdTable<T>: per-fd state indexed by the fd number.
//
// Stored in fixed chunks so that a reference to one fd's state stays valid
// while other fds are added — completion callbacks may submit operations on
// new fds while a backend is walking an fd's waiters. Memory is allocated
// once per chunk of fd numbers, never per operation. Thread-hostile.
#ifndef POLYIO_BACKENDS_READINESS_FD_TABLE_H_
#define POLYIO_BACKENDS_READINESS_FD_TABLE_H_

#include <cstddef>
#include <memory>
#include <vector>

namespace polyio {

template <class T>
class FdTable {
 public:
  static constexpr size_t kChunk = 1024;

  // The state of `fd`, created (value-initialized) on first use. fd >= 0.
  T& At(int fd) {
    const size_t chunk = static_cast<size_t>(fd) / kChunk;
    // Every operation looks its fd up: the created case is the short one.
    if (chunk < chunks_.size() && chunks_[chunk]) [[likely]] {
      return chunks_[chunk][static_cast<size_t>(fd) % kChunk];
    }
    return Create(fd);
  }

  // The state of `fd` if it was ever created, else null.
  T* Find(int fd) {
    size_t chunk = static_cast<size_t>(fd) / kChunk;
    if (fd < 0 || chunk >= chunks_.size() || !chunks_[chunk]) return nullptr;
    return &chunks_[chunk][static_cast<size_t>(fd) % kChunk];
  }

  // Calls fn(fd, state) for every created entry.
  template <class Fn>
  void ForEach(Fn&& fn) {
    for (size_t c = 0; c < chunks_.size(); ++c) {
      if (!chunks_[c]) continue;
      for (size_t i = 0; i < kChunk; ++i) {
        fn(static_cast<int>(c * kChunk + i), chunks_[c][i]);
      }
    }
  }

 private:
  [[gnu::noinline]] T& Create(int fd) {
    const size_t chunk = static_cast<size_t>(fd) / kChunk;
    if (chunk >= chunks_.size()) chunks_.resize(chunk + 1);
    if (!chunks_[chunk]) chunks_[chunk] = std::make_unique<T[]>(kChunk);
    return chunks_[chunk][static_cast<size_t>(fd) % kChunk];
  }

  std::vector<std::unique_ptr<T[]>> chunks_;
};

}  // namespace polyio

#endif  // POLYIO_BACKENDS_READINESS_FD_TABLE_H_
