// Mutex: std::mutex with Clang's thread-safety annotations.
//
// Shared state in polyio is guarded by this type so that `ABSL_GUARDED_BY`
// is checked by `--config=clang` (-Wthread-safety). It wraps std::mutex
// rather than absl::Mutex because Debian's Abseil is not built with the
// sanitizers, and TSan understands pthread mutexes without instrumentation.
// Thread-safe.
#ifndef POLYIO_PLATFORM_MUTEX_H_
#define POLYIO_PLATFORM_MUTEX_H_

#include <mutex>

#include "absl/base/thread_annotations.h"

namespace polyio {

class ABSL_LOCKABLE Mutex {
 public:
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* mu_;
};

}  // namespace polyio

#endif  // POLYIO_PLATFORM_MUTEX_H_
