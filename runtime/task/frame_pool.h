// FramePool: where coroutine frames (and task headers) come from.
//
// A per-thread cache of freed blocks in 64-byte size classes up to 4 KiB;
// larger blocks go to operator new. Allocating a frame on the hot path is a
// pop from a thread-local list, not a trip to malloc. A block freed on
// another thread joins that thread's cache (blocks are plain memory, so this
// is safe); each class keeps at most kMaxCachedPerClass blocks.
//
// Under AddressSanitizer the cache is bypassed, so that ASan sees every
// frame's lifetime (use-after-free of a frame is exactly what the
// cancellation tests look for).
//
// Thread-safe (all state is thread-local).
#ifndef POLYIO_RUNTIME_FRAME_POOL_H_
#define POLYIO_RUNTIME_FRAME_POOL_H_

#include <cstddef>

namespace polyio {

void* AllocateFrame(size_t size);
void FreeFrame(void* block, size_t size) noexcept;

// Mix-in giving a class (a coroutine promise, a task header) class-specific
// operator new/delete from the frame pool.
struct FramePoolAllocated {
  static void* operator new(size_t size) { return AllocateFrame(size); }
  static void operator delete(void* block, size_t size) noexcept {
    FreeFrame(block, size);
  }
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_FRAME_POOL_H_
