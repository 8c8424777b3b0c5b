#include "runtime/task/frame_pool.h"

#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define POLYIO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POLYIO_ASAN 1
#endif
#endif

namespace polyio {
namespace {

constexpr size_t kGranule = 64;
constexpr size_t kClasses = 64;  // up to 4 KiB
constexpr size_t kMaxCachedPerClass = 4096;

struct FreeBlock {
  FreeBlock* next;
};

class ThreadCache {
 public:
  ~ThreadCache() {
    for (size_t c = 0; c < kClasses; ++c) {
      while (FreeBlock* b = heads_[c]) {
        heads_[c] = b->next;
        ::operator delete(b);
      }
    }
  }

  void* Pop(size_t cls) {
    FreeBlock* b = heads_[cls];
    if (b == nullptr) return nullptr;
    heads_[cls] = b->next;
    --counts_[cls];
    return b;
  }

  bool Push(size_t cls, void* block) {
    if (counts_[cls] >= kMaxCachedPerClass) return false;
    auto* b = static_cast<FreeBlock*>(block);
    b->next = heads_[cls];
    heads_[cls] = b;
    ++counts_[cls];
    return true;
  }

 private:
  FreeBlock* heads_[kClasses] = {};
  size_t counts_[kClasses] = {};
};

// Once a thread's cache has been destroyed (thread exit), frames freed later
// by destructors on that thread go straight back to the heap.
thread_local bool cache_gone = false;
struct CacheHolder {
  ThreadCache cache;
  ~CacheHolder() { cache_gone = true; }
};
thread_local CacheHolder holder;

[[maybe_unused]] size_t ClassOf(size_t size) {
  return (size + kGranule - 1) / kGranule - 1;
}

}  // namespace

void* AllocateFrame(size_t size) {
#if !defined(POLYIO_ASAN)
  size_t cls = ClassOf(size);
  if (cls < kClasses && !cache_gone) {
    if (void* b = holder.cache.Pop(cls)) return b;
    return ::operator new((cls + 1) * kGranule);
  }
#endif
  return ::operator new(size);
}

void FreeFrame(void* block, size_t size) noexcept {
#if !defined(POLYIO_ASAN)
  size_t cls = ClassOf(size);
  if (cls < kClasses) {
    if (!cache_gone && holder.cache.Push(cls, block)) return;
    ::operator delete(block);
    return;
  }
#endif
  (void)size;
  ::operator delete(block);
}

}  // namespace polyio
