// HomeDriver: the driver an fd's operations go to.
//
// A socket's readiness state (its epoll/kqueue registration, its parked
// operations) lives in one backend, so every operation on the fd must go to
// the same driver, and that driver must forget the fd before it is closed.
// The home is bound lazily, to the driver of the thread that starts the
// first operation: on the multi-thread runtime an accepted connection thus
// lives on the worker whose task first reads it, not on the listener's.
//
// Thread-safe: Get and Forget may race (two tasks reading and writing one
// stream from two workers); the first binding wins.
#ifndef POLYIO_RUNTIME_IO_HOME_DRIVER_H_
#define POLYIO_RUNTIME_IO_HOME_DRIVER_H_

#include <atomic>

#include "runtime/driver.h"

namespace polyio {

class HomeDriver {
 public:
  explicit HomeDriver(Driver* driver = nullptr) : driver_(driver) {}
  HomeDriver(HomeDriver&& other) noexcept
      : driver_(other.driver_.exchange(nullptr, std::memory_order_acq_rel)) {}
  HomeDriver& operator=(HomeDriver&& other) noexcept {
    driver_.store(other.driver_.exchange(nullptr, std::memory_order_acq_rel),
                  std::memory_order_release);
    return *this;
  }

  // The home, bound now to the calling thread's driver if it had none.
  Driver* Get() {
    Driver* home = driver_.load(std::memory_order_acquire);
    if (home != nullptr) return home;
    Driver* current = Driver::Current();
    if (current == nullptr) return nullptr;
    if (driver_.compare_exchange_strong(home, current,
                                        std::memory_order_acq_rel)) {
      return current;
    }
    return home;  // another thread bound it first
  }

  // Before closing `fd`: its pending operations complete with -ECANCELED
  // and the home's backend drops it. No-op if no operation ever ran.
  void Forget(int fd) {
    Driver* home = driver_.load(std::memory_order_acquire);
    if (home == nullptr) return;
    home->RunOnDriverThread([home, fd] { home->backend().Forget(fd); });
  }

 private:
  std::atomic<Driver*> driver_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_IO_HOME_DRIVER_H_
