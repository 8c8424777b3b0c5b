// HomeDriver: the driver an fd's operations go to.
//
// A socket's readiness state (its epoll/kqueue registration, its parked
// operations) lives in one backend, so every operation on the fd must go to
// the same driver, and that driver must forget the fd before it is closed.
// The home is bound lazily, to the driver of the thread that starts the
// first operation: on the multi-thread runtime an accepted connection thus
// lives on the worker whose task first reads it, not on the listener's.
//
// The home is held through the driver's anchor (driver_anchor.h), so that
// forgetting an fd after the driver was destroyed — a socket that outlived
// its Runtime, which the headers forbid — stops the program with a message
// naming the object, instead of reaching into freed memory.
//
// Thread-safety: Get and Forget may race (two tasks reading and writing one
// stream from two workers); the first binding wins. Not movable: it lives in
// an FdHandle (fd_handle.h), which does not move.
#ifndef POLYIO_RUNTIME_IO_HOME_DRIVER_H_
#define POLYIO_RUNTIME_IO_HOME_DRIVER_H_

#include <atomic>

#include "runtime/driver/driver.h"
#include "runtime/driver/driver_anchor.h"

namespace polyio {

class HomeDriver {
 public:
  // Bound to `driver` already (it knows the fd), or unbound (null).
  explicit HomeDriver(Driver* driver = nullptr);
  HomeDriver(const HomeDriver&) = delete;
  HomeDriver& operator=(const HomeDriver&) = delete;
  ~HomeDriver();

  // The home, bound now to the calling thread's driver if it had none;
  // null when unbound and the thread runs no driver.
  Driver* Get() {
    if (DriverAnchor* home = anchor_.load(std::memory_order_acquire)) {
      return home->driver();
    }
    return Bind();
  }

  // Before closing `fd`: its pending operations complete with -ECANCELED
  // and the home's backend drops it. No-op if no operation ever ran. Stops
  // the program, naming `owner` ("TcpStream"), if the home driver is gone.
  void Forget(int fd, const char* owner);

 private:
  Driver* Bind();

  std::atomic<DriverAnchor*> anchor_{nullptr};
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_IO_HOME_DRIVER_H_
