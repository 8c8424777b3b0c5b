#include "runtime/io/home_driver.h"

#include <cstdio>
#include <cstdlib>

namespace polyio {

HomeDriver::HomeDriver(Driver* driver) {
  if (driver == nullptr) return;
  DriverAnchor* anchor = driver->anchor();
  anchor->Ref();
  anchor_.store(anchor, std::memory_order_release);
}

HomeDriver::~HomeDriver() {
  if (DriverAnchor* anchor = anchor_.load(std::memory_order_acquire)) {
    anchor->Unref();
  }
}

Driver* HomeDriver::Bind() {
  Driver* current = Driver::Current();
  if (current == nullptr) return nullptr;
  DriverAnchor* mine = current->anchor();
  DriverAnchor* expected = nullptr;
  mine->Ref();
  if (anchor_.compare_exchange_strong(expected, mine,
                                      std::memory_order_acq_rel)) {
    return current;
  }
  mine->Unref();
  return expected->driver();  // another thread bound it first
}

void HomeDriver::Forget(int fd, const char* owner) {
  DriverAnchor* anchor = anchor_.load(std::memory_order_acquire);
  if (anchor == nullptr) return;
  Driver* home = anchor->driver();
  if (home == nullptr) {
    std::fprintf(stderr,
                 "polyio: a %s was closed after the Runtime (the driver) it "
                 "was used on had been destroyed; close or destroy it before "
                 "its Runtime\n",
                 owner);
    std::abort();
  }
  home->RunOnDriverThread([home, fd] { home->backend().Forget(fd); });
}

}  // namespace polyio
