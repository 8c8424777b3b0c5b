#include "runtime/net/socket_errors.h"

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace polyio {

absl::Status ClosedError(absl::string_view op, absl::string_view noun) {
  return absl::FailedPreconditionError(
      absl::StrCat(op, ": the ", noun, " is closed"));
}

absl::Status BusyError(absl::string_view op, absl::string_view direction,
                       absl::string_view noun) {
  return absl::FailedPreconditionError(
      absl::StrCat(op, ": another ", direction, " is pending on this ", noun,
                   " (one receive and one send at a time)"));
}

absl::Status OperationError(const FdHandle& handle, int32_t res,
                            absl::string_view op, absl::string_view what,
                            absl::string_view noun) {
  if (handle.closed()) {
    if (res == -ECANCELED) {
      return absl::CancelledError(
          absl::StrCat(op, ": cancelled: the ", noun, " was closed"));
    }
    return ClosedError(op, noun);
  }
  return absl::ErrnoToStatus(-res, what);
}

}  // namespace polyio
