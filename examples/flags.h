// Tiny command-line parsing shared by the examples: `--name VALUE` or
// `--name=VALUE`, integers checked for range, errors as absl::Status so a
// program can print them and exit 1. (No absl flags: the examples stay
// readable top to bottom with their whole interface in main.)
#ifndef POLYIO_EXAMPLES_FLAGS_H_
#define POLYIO_EXAMPLES_FLAGS_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace polyio::examples {

// Parses argv[1..] into name -> value. Every argument must be a known flag
// (`known` lists the names without dashes); unknown or valueless flags are
// InvalidArgument.
absl::StatusOr<std::map<std::string, std::string>> ParseFlags(
    int argc, char** argv, absl::Span<const char* const> known);

// A decimal integer in [min, max]; "N", "NK", "NM", "NG" (powers of 1024)
// when `allow_suffix`.
absl::StatusOr<int64_t> ParseInt(const std::string& flag,
                                 const std::string& text, int64_t min,
                                 int64_t max, bool allow_suffix = false);

}  // namespace polyio::examples

#endif  // POLYIO_EXAMPLES_FLAGS_H_
