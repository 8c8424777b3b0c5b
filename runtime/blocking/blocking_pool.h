// BlockingPool: threads for work that must block — file I/O on readiness
// backends, DNS lookups, user code that calls blocking APIs — so that it
// never stalls a driver thread. tokio's blocking pool, in C++.
//
// Contract:
// - Jobs run in FIFO order of submission, each on some pool thread, at most
//   once. At most `max_threads` threads exist; a job submitted while all of
//   them are busy waits in the queue (the queue is unbounded, as tokio's).
// - Threads start on demand: a job starts a thread only when no idle thread
//   is free to take it. A thread idle for `idle_timeout` exits, so a pool
//   that was busy once does not keep its threads forever.
// - A job is cancelled, and never runs, if its awaiter drops it before a
//   thread took it (BlockingJob). A running job cannot be interrupted (as in
//   tokio): it finishes, and its result is discarded.
// - Shutdown (the destructor): queued jobs are dropped, their awaiters see
//   CancelledError; running jobs are waited for, up to `shutdown_timeout`.
//   A thread still running a job after that is left to finish it on its own
//   (it holds its own reference to the pool's shared state, so nothing it
//   touches is freed under it); it exits when its job returns.
//
// Which pool SpawnBlocking uses: BlockingPool::Current() — the pool entered
// on this thread by a BlockingPool::Enter scope (a Runtime enters its own on
// its threads), the pool of the pool thread running the calling job, or else
// one process-wide pool created on first use and never destroyed (like
// tokio's, it must outlive every static destructor that might still use it).
//
// Thread-safety: thread-safe. Submit, the counters and Current from any
// thread; the destructor from any thread that is not one of its own.
#ifndef POLYIO_RUNTIME_BLOCKING_BLOCKING_POOL_H_
#define POLYIO_RUNTIME_BLOCKING_BLOCKING_POOL_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "platform/clock.h"
#include "runtime/blocking/blocking_job.h"

namespace polyio {

struct BlockingPoolOptions {
  // Upper bound on threads. 64, not tokio's 512: these threads mostly wait
  // in the kernel (disk, DNS), so the bound is about how much blocking work
  // may be in flight at once, not about cores. 64 covers queue depth 32 of
  // file reads — where an NVMe device stops gaining — twice, and a burst of
  // slow DNS lookups, while 512 stacks (8 MiB of address space each) and
  // 512 threads contending on a 2-core machine buy nothing. docs/files.md.
  size_t max_threads = 64;
  // A thread with nothing to do for this long exits (tokio: 10 s).
  Duration idle_timeout = std::chrono::seconds(10);
  // How long the destructor waits for running jobs before leaving them.
  Duration shutdown_timeout = std::chrono::seconds(10);
  // Called on each pool thread when it starts and just before it exits
  // (tokio's on_thread_start / on_thread_stop): for naming, affinity,
  // metrics. on_thread_stop runs after the thread let go of the pool, so it
  // may run after the destructor returned; it must not use the pool.
  std::function<void()> on_thread_start;
  std::function<void()> on_thread_stop;
};

namespace internal {
struct BlockingPoolShared;
}  // namespace internal

class BlockingPool {
 public:
  explicit BlockingPool(BlockingPoolOptions options = {});
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // The pool SpawnBlocking uses on this thread (see the top of this file).
  static BlockingPool& Current();
  // The process-wide pool (created on first use).
  static BlockingPool& Global();

  // Makes `pool` this thread's current pool for a scope; scopes nest.
  class Enter {
   public:
    explicit Enter(BlockingPool* pool);
    ~Enter();
    Enter(const Enter&) = delete;
    Enter& operator=(const Enter&) = delete;

   private:
    BlockingPool* previous_;
  };

  // Queues `job` (one of the two references it was born with is now the
  // pool's). After shutdown began, or when no thread can be started at all,
  // the job is refused: its awaiter sees the reason. For SpawnBlockingOn.
  void Submit(internal::BlockingJob* job);

  // Threads alive now; of them, idle; jobs waiting for a thread.
  size_t threads() const;
  size_t idle_threads() const;
  size_t queued() const;
  // Jobs that ran to their end (Runtime::Metrics).
  uint64_t jobs_run() const;

  const BlockingPoolOptions& options() const;

 private:
  std::shared_ptr<internal::BlockingPoolShared> shared_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_BLOCKING_BLOCKING_POOL_H_
