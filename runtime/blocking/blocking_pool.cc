#include "runtime/blocking/blocking_pool.h"

#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "platform/mutex.h"

namespace polyio {
namespace internal {
namespace {

// std::condition_variable_any waits on anything with lock()/unlock(). The
// thread-safety analysis sees the mutex held across a wait, which is what
// the caller observes.
class CvLock {
 public:
  explicit CvLock(Mutex* mu) : mu_(mu) {}
  void lock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu_->Lock(); }
  void unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu_->Unlock(); }

 private:
  Mutex* mu_;
};

}  // namespace

// What the pool's threads share with it. Reference-counted: the pool holds
// one reference and every thread its own, so a thread still finishing a job
// after the pool's destructor gave up waiting touches live memory.
struct BlockingPoolShared {
  explicit BlockingPoolShared(BlockingPoolOptions o) : options(std::move(o)) {}

  // The pool's threads, taking jobs until shutdown or an idle timeout.
  void WorkLoop() ABSL_LOCKS_EXCLUDED(mu);
  // The very last thing a thread does with the pool; lets a destructor go.
  void Exited() ABSL_LOCKS_EXCLUDED(mu);
  // Idle wait; false when the thread should exit (timed out, queue empty).
  bool WaitForWork() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  BlockingJob* Pop() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  BlockingJob* TakeQueue() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

  const BlockingPoolOptions options;
  // The pool while it is not shutting down; for Current() on pool threads.
  std::atomic<BlockingPool*> owner{nullptr};

  mutable Mutex mu;
  // Idle threads wait here for a job; the destructor for `alive` to reach 0.
  std::condition_variable_any cv;
  BlockingJob* head ABSL_GUARDED_BY(mu) = nullptr;
  BlockingJob* tail ABSL_GUARDED_BY(mu) = nullptr;
  size_t queued ABSL_GUARDED_BY(mu) = 0;
  // Threads taking jobs: started and not yet out of WorkLoop.
  size_t threads ABSL_GUARDED_BY(mu) = 0;
  // Threads started and not yet through their on_thread_stop. Threads are
  // detached, so nothing joins them: the destructor waits on this count
  // instead, and a process-wide pool never leaves a finished thread unjoined.
  size_t alive ABSL_GUARDED_BY(mu) = 0;
  size_t idle ABSL_GUARDED_BY(mu) = 0;
  uint64_t jobs_run ABSL_GUARDED_BY(mu) = 0;
  // Wake-ups sent to idle threads and not yet taken: a job queued while
  // another idle thread is already on its way does not count that one twice.
  size_t notified ABSL_GUARDED_BY(mu) = 0;
  bool shutdown ABSL_GUARDED_BY(mu) = false;
};

namespace {

thread_local BlockingPool* t_entered = nullptr;
thread_local BlockingPoolShared* t_worker_of = nullptr;

void NameThisThread() {
#if defined(__linux__)
  pthread_setname_np(pthread_self(), "polyio-blocking");
#elif defined(__APPLE__)
  pthread_setname_np("polyio-blocking");
#endif
}

void ThreadMain(std::shared_ptr<BlockingPoolShared> shared) {
  NameThisThread();
  if (shared->options.on_thread_start) shared->options.on_thread_start();
  t_worker_of = shared.get();
  shared->WorkLoop();
  t_worker_of = nullptr;
  if (shared->options.on_thread_stop) shared->options.on_thread_stop();
  shared->Exited();
}

}  // namespace

BlockingJob* BlockingPoolShared::Pop() {
  BlockingJob* job = head;
  if (job == nullptr) return nullptr;
  head = job->next;
  if (head == nullptr) tail = nullptr;
  job->next = nullptr;
  --queued;
  return job;
}

BlockingJob* BlockingPoolShared::TakeQueue() {
  BlockingJob* list = head;
  head = tail = nullptr;
  queued = 0;
  return list;
}

bool BlockingPoolShared::WaitForWork() {
  ++idle;
  const Instant deadline = RealNow() + options.idle_timeout;
  bool timed_out = false;
  CvLock lock(&mu);
  for (;;) {
    if (notified > 0) {
      --notified;
      break;
    }
    if (shutdown) break;
    if (cv.wait_until(lock, deadline) == std::cv_status::timeout) {
      if (notified > 0) {
        --notified;
        break;
      }
      timed_out = true;
      break;
    }
  }
  --idle;
  return !(timed_out && head == nullptr);
}

void BlockingPoolShared::WorkLoop() {
  mu.Lock();
  for (;;) {
    if (BlockingJob* job = Pop()) {
      mu.Unlock();
      job->Run();
      job->Unref();
      mu.Lock();
      ++jobs_run;
      continue;
    }
    if (shutdown || !WaitForWork()) break;
  }
  --threads;
  mu.Unlock();
}

void BlockingPoolShared::Exited() {
  MutexLock lock(&mu);
  if (--alive == 0) cv.notify_all();  // a destructor may be waiting
}

}  // namespace internal

using internal::BlockingJob;
using internal::BlockingPoolShared;
using internal::t_entered;
using internal::t_worker_of;

BlockingPool::BlockingPool(BlockingPoolOptions options)
    : shared_(std::make_shared<BlockingPoolShared>(std::move(options))) {
  shared_->owner.store(this, std::memory_order_release);
}

BlockingPool::~BlockingPool() {
  BlockingPoolShared& s = *shared_;
  s.owner.store(nullptr, std::memory_order_release);
  BlockingJob* dropped;
  {
    MutexLock lock(&s.mu);
    s.shutdown = true;
    dropped = s.TakeQueue();
    s.cv.notify_all();
  }
  while (BlockingJob* job = dropped) {
    dropped = job->next;
    job->next = nullptr;
    job->Refuse(absl::CancelledError(
        "blocking pool: shut down before the job started"));
    job->Unref();
  }
  // Threads still running a job after the timeout finish it on their own:
  // they hold their own reference to `s`.
  MutexLock lock(&s.mu);
  internal::CvLock cv_lock(&s.mu);
  const Instant deadline = RealNow() + s.options.shutdown_timeout;
  while (s.alive > 0) {
    if (s.cv.wait_until(cv_lock, deadline) == std::cv_status::timeout) break;
  }
}

BlockingPool& BlockingPool::Global() {
  // Never destroyed: static destructors and detached threads may still
  // spawn blocking work while the process exits.
  static BlockingPool* const pool = new BlockingPool();
  return *pool;
}

BlockingPool& BlockingPool::Current() {
  if (t_entered != nullptr) return *t_entered;
  if (t_worker_of != nullptr) {
    if (BlockingPool* pool =
            t_worker_of->owner.load(std::memory_order_acquire)) {
      return *pool;
    }
  }
  return Global();
}

BlockingPool::Enter::Enter(BlockingPool* pool)
    : previous_(std::exchange(t_entered, pool)) {}

BlockingPool::Enter::~Enter() { t_entered = previous_; }

void BlockingPool::Submit(BlockingJob* job) {
  BlockingPoolShared& s = *shared_;
  absl::Status refused;
  BlockingJob* stranded = nullptr;
  {
    MutexLock lock(&s.mu);
    if (s.shutdown) {
      refused = absl::CancelledError(
          "blocking pool: shut down before the job started");
    } else {
      job->next = nullptr;
      if (s.tail == nullptr) {
        s.head = job;
      } else {
        s.tail->next = job;
      }
      s.tail = job;
      ++s.queued;
      if (s.idle > s.notified) {
        ++s.notified;
        s.cv.notify_one();
      } else if (s.threads < s.options.max_threads) {
        ++s.threads;
        ++s.alive;
        try {
          std::thread(internal::ThreadMain, shared_).detach();
        } catch (const std::system_error& e) {
          --s.threads;
          --s.alive;
          // With no thread at all, nothing would ever run the queue.
          if (s.threads == 0) {
            stranded = s.TakeQueue();
            refused = absl::ResourceExhaustedError(absl::StrCat(
                "blocking pool: cannot start a thread: ", e.what()));
          }
        }
      }
    }
  }
  if (refused.ok()) return;
  if (stranded == nullptr) stranded = job;
  while (BlockingJob* j = stranded) {
    stranded = j->next;
    j->next = nullptr;
    j->Refuse(refused);
    j->Unref();
  }
}

size_t BlockingPool::threads() const {
  MutexLock lock(&shared_->mu);
  return shared_->threads;
}

size_t BlockingPool::idle_threads() const {
  MutexLock lock(&shared_->mu);
  return shared_->idle;
}

size_t BlockingPool::queued() const {
  MutexLock lock(&shared_->mu);
  return shared_->queued;
}

uint64_t BlockingPool::jobs_run() const {
  MutexLock lock(&shared_->mu);
  return shared_->jobs_run;
}

const BlockingPoolOptions& BlockingPool::options() const {
  return shared_->options;
}

}  // namespace polyio
