// What the fault layer's own tests share (fault_backend_test,
// fault_runtime_test, fault_finds_bugs_test): rates with every fault off, a
// runtime whose backends inject given rates, and the rule for a backend
// that cannot run on this host.
//
// That rule: the case is skipped, saying why — unless the run requires the
// backend (POLYIO_REQUIRE_IO_URING=1 with POLYIO_FAULT_INNER=io_uring, as
// tools/test sets where io_uring must work), where it fails instead, so a
// required backend never passes vacuously.
//
// Thread-compatible; RuntimeWith sets the layer's process-wide test config
// for the duration of Runtime::Create only.
#ifndef POLYIO_BACKENDS_FAULT_FAULT_TEST_SUPPORT_H_
#define POLYIO_BACKENDS_FAULT_FAULT_TEST_SUPPORT_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "backends/fault/fault_config.h"
#include "gtest/gtest.h"
#include "polyio.h"

namespace polyio::fault_testing {

// Every rate 0: the layer passes each call through unchanged.
fault::FaultRates NoFaults();

// POLYIO_TEST_RUNTIME=multi_thread: the case runs on the multi-thread
// runtime (2 workers), else on the current-thread one.
bool MultiThreadRun();

// A runtime of the run's flavor whose backends inject `rates` from `seed`,
// or why it cannot be made here.
absl::StatusOr<std::unique_ptr<Runtime>> RuntimeWith(
    const fault::FaultRates& rates, uint64_t seed);

// True when this run must have its backend (see above).
bool BackendRequired();

}  // namespace polyio::fault_testing

// Skips the case (or fails it, when the backend is required) unless
// `status` is OK. In a test body or SetUp: it returns from the function.
#define POLYIO_FAULT_SKIP_UNLESS_OK(status)                       \
  do {                                                            \
    const absl::Status polyio_fault_status_ = (status);           \
    if (!polyio_fault_status_.ok()) {                             \
      if (::polyio::fault_testing::BackendRequired()) {           \
        FAIL() << "the backend is required but cannot run here: " \
               << polyio_fault_status_;                           \
      }                                                           \
      GTEST_SKIP() << "the backend cannot run on this host: "     \
                   << polyio_fault_status_;                       \
    }                                                             \
  } while (0)

#endif  // POLYIO_BACKENDS_FAULT_FAULT_TEST_SUPPORT_H_
