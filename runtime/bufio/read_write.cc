#include "runtime/bufio/read_write.h"

#include "absl/strings/str_cat.h"

namespace polyio::bufio_internal {

absl::Status Progress(absl::string_view what, uint64_t done, uint64_t total,
                      const absl::Status& error) {
  return absl::Status(error.code(),
                      absl::StrCat(what, ": after ", done, " of ", total,
                                   " bytes: ", error.message()));
}

absl::Status Progress(absl::string_view what, uint64_t done,
                      const absl::Status& error) {
  return absl::Status(error.code(), absl::StrCat(what, ": after ", done,
                                                 " bytes: ", error.message()));
}

}  // namespace polyio::bufio_internal
