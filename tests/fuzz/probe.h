// Probe: a future polled by hand, outside any runtime — the approach of
// runtime/sync/sync_model_test.cc, for the fuzz targets' channel models.
//
//   Probe<Receiver<int>::RecvFuture> p(rx.Recv());
//   if (p.PollOnce()) use(*p.result);    // ready: the output is kept
//   else if (p.woken()) ...              // pending, and woken since
//
// Each poll builds a Context from the probe's own waker (CountingWaker,
// which counts its wakes), its cancellation flag, and a budget the caller
// may set to 0 to take the path where a task has spent its share. So
// every interleaving an input names is exact and repeatable: no threads, no
// scheduler. A Probe owns its future and never moves it (the futures must
// not move once polled); keep probes in unique_ptrs.
#ifndef POLYIO_TESTS_FUZZ_PROBE_H_
#define POLYIO_TESTS_FUZZ_PROBE_H_

#include <atomic>
#include <optional>
#include <utility>

#include "runtime/task/context.h"
#include "runtime/task/future.h"
#include "runtime/task/poll.h"
#include "runtime/task/waker.h"
#include "tests/fuzz/check.h"

namespace polyio::fuzz {

// A waker that counts how often it was woken. Reference-counted like a
// task's waker: the probe holds one reference and every clone another, so
// a clone that outlives the probe (kept by a channel) is still valid.
struct CountingWaker {
  int wakes = 0;
  int live_clones = 0;  // clones the future under test still holds

  Waker Get() {
    ++live_clones;
    return Waker(this, &kVTable);
  }
  // The probe's own reference.
  void Release() {
    released_ = true;
    if (live_clones == 0) delete this;
  }

  static void* Clone(void* d) {
    ++static_cast<CountingWaker*>(d)->live_clones;
    return d;
  }
  static void Wake(void* d) {
    ++static_cast<CountingWaker*>(d)->wakes;
    Drop(d);
  }
  static void WakeByRef(void* d) { ++static_cast<CountingWaker*>(d)->wakes; }
  static void Drop(void* d) {
    auto* w = static_cast<CountingWaker*>(d);
    if (--w->live_clones == 0 && w->released_) delete w;
  }
  static constexpr WakerVTable kVTable = {&Clone, &Wake, &WakeByRef, &Drop};

 private:
  bool released_ = false;
};

template <class F>
class Probe {
 public:
  using Output = FutureOutput<F>;
  // `check_wakers`: whether destroying the probe checks that the future let
  // go of its waker clones (see the destructor).
  explicit Probe(F f, bool check_wakers = true) : check_wakers_(check_wakers) {
    future_.emplace(std::move(f));
  }
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;
  // A future must let go of every clone of the waker it was polled with
  // when it is destroyed: a clone left behind would keep a task alive.
  ~Probe() {
    future_.reset();
    FUZZ_CHECK(!check_wakers_ || waker_->live_clones == 0,
               "a destroyed future left %d waker clones behind",
               waker_->live_clones);
    waker_->Release();
  }

  // Polls once; true when ready (the output is then in `result`). The wake
  // count restarts at every poll: woken() says "woken since the last poll".
  bool PollOnce(int budget = Context::kDefaultBudget) {
    waker_->wakes = 0;
    Waker w = waker_->Get();
    Context cx(w, &cancelled_, &budget);
    polyio::Poll<Output> p = future_->Poll(cx);
    ++polls_;
    if (p.ready()) result.emplace(std::move(p).value());
    return p.ready();
  }

  void Cancel() { cancelled_ = true; }
  bool woken() const { return waker_->wakes > 0; }
  int polls() const { return polls_; }
  F& future() { return *future_; }

  std::optional<Output> result;

 private:
  const bool check_wakers_;
  CountingWaker* waker_ = new CountingWaker;  // released by ~Probe
  std::atomic<bool> cancelled_{false};
  int polls_ = 0;
  std::optional<F> future_;
};

}  // namespace polyio::fuzz

#endif  // POLYIO_TESTS_FUZZ_PROBE_H_
