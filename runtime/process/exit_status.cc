#include "runtime/process/exit_status.h"

#include "absl/strings/str_cat.h"
#include "runtime/signal/signal_registry.h"

namespace polyio {

std::string ExitStatus::ToString() const {
  if (exited_) return absl::StrCat("exit code ", value_);
  char buf[16];
  return absl::StrCat("killed by ", internal::SignalRegistry::Name(value_, buf),
                      core_dumped_ ? " (core dumped)" : "");
}

}  // namespace polyio
