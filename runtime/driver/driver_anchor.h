// DriverAnchor: whether a Driver still exists, for objects that may
// (wrongly) outlive it.
//
// A socket remembers the driver its operations go to (io/home_driver.h),
// and must forget its fd there before closing it. A socket destroyed after
// its Runtime would reach into a freed driver; headers say it must not, and
// this is how the library notices cheaply and stops with a message instead
// of crashing somewhere else. The driver owns one reference and clears the
// pointer when it is destroyed; every socket bound to it holds another.
//
// Thread-safety: thread-safe.
#ifndef POLYIO_RUNTIME_DRIVER_ANCHOR_H_
#define POLYIO_RUNTIME_DRIVER_ANCHOR_H_

#include <atomic>
#include <cstdint>

namespace polyio {

class Driver;

class DriverAnchor {
 public:
  // One reference, the driver's.
  explicit DriverAnchor(Driver* driver) : driver_(driver) {}
  DriverAnchor(const DriverAnchor&) = delete;
  DriverAnchor& operator=(const DriverAnchor&) = delete;

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // The driver, or null once it has been destroyed.
  Driver* driver() const { return driver_.load(std::memory_order_acquire); }
  // The driver's destructor, last.
  void Orphan() { driver_.store(nullptr, std::memory_order_release); }

 private:
  ~DriverAnchor() = default;

  std::atomic<Driver*> driver_;
  std::atomic<uint32_t> refs_{1};
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_DRIVER_ANCHOR_H_
