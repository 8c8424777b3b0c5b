// The fault layer tests' shared pieces (fault_test_support.h).
#include "backends/fault/fault_test_support.h"

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

namespace polyio::fault_testing {
namespace {

bool EnvIs(const char* name, const char* value) {
  const char* v = std::getenv(name);
  return v != nullptr && std::string(v) == value;
}

}  // namespace

fault::FaultRates NoFaults() {
  fault::FaultRates r;
  r.short_io = r.hold = r.defer_inline = r.cancel_late = 0;
  r.spurious_return = r.spurious_wake = r.eintr = r.accept_error = 0;
  r.send_reset = r.dgram_enobufs = 0;
  return r;
}

bool MultiThreadRun() { return EnvIs("POLYIO_TEST_RUNTIME", "multi_thread"); }

absl::StatusOr<std::unique_ptr<Runtime>> RuntimeWith(
    const fault::FaultRates& rates, uint64_t seed) {
  fault::SetConfigForTesting(fault::FaultConfig{seed, rates});
  RuntimeOptions options;
  if (MultiThreadRun()) {
    options.flavor = RuntimeFlavor::kMultiThread;
    options.worker_threads = 2;
  }
  absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create(options);
  fault::SetConfigForTesting(std::nullopt);
  return rt;
}

bool BackendRequired() {
  return EnvIs("POLYIO_REQUIRE_IO_URING", "1") &&
         EnvIs("POLYIO_FAULT_INNER", "io_uring");
}

}  // namespace polyio::fault_testing
