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

Task<absl::StatusOr<uint64_t>> SpliceCopy(RefPtr<FdHandle> in,
                                          RefPtr<FdHandle> out) {
  // 1 MiB asked per splice: a pipe holds less (64 KiB by default), so each
  // call moves what the pipe can take or give.
  constexpr size_t kMaxPerSplice = size_t{1} << 20;
  uint64_t copied = 0;
  for (;;) {
    absl::StatusOr<size_t> n = co_await SpliceFuture(in, out, kMaxPerSplice);
    if (!n.ok()) co_return Progress("copy", copied, n.status());
    if (*n == 0) co_return copied;
    copied += *n;
  }
}

}  // namespace polyio::bufio_internal
