#include "runtime/runtime.h"

namespace polyio {

absl::StatusOr<std::unique_ptr<Runtime>> Runtime::Create(
    const RuntimeOptions& options) {
  absl::StatusOr<std::unique_ptr<Driver>> driver =
      Driver::Create(options.backend);
  if (!driver.ok()) return driver.status();
  return std::unique_ptr<Runtime>(new Runtime(std::move(*driver)));
}

Runtime::Runtime(std::unique_ptr<Driver> driver)
    : driver_(std::move(driver)), loop_(driver_.get()) {}

}  // namespace polyio
