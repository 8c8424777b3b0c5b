// Command-line parsing for the examples (flags.h).
#include "examples/flags.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace polyio::examples {

absl::StatusOr<std::map<std::string, std::string>> ParseFlags(
    int argc, char** argv, absl::Span<const char* const> known) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", arg, "'"));
    }
    std::string name = arg.substr(2), value;
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", name, " needs a value"));
    }
    bool is_known = std::any_of(known.begin(), known.end(),
                                [&](const char* k) { return name == k; });
    if (!is_known) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    flags[name] = value;
  }
  return flags;
}

absl::StatusOr<int64_t> ParseInt(const std::string& flag,
                                 const std::string& text, int64_t min,
                                 int64_t max, bool allow_suffix) {
  auto invalid = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, "=", text, ": expected an integer in [", min, ", ", max,
        "]", allow_suffix ? " (suffix K, M or G allowed)" : ""));
  };
  if (text.empty()) return invalid();
  errno = 0;
  char* end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end == text.c_str()) return invalid();
  int shift = 0;
  if (allow_suffix && *end != '\0' && end[1] == '\0') {
    switch (*end) {
      case 'K':
      case 'k':
        shift = 10;
        break;
      case 'M':
      case 'm':
        shift = 20;
        break;
      case 'G':
      case 'g':
        shift = 30;
        break;
      default:
        return invalid();
    }
    ++end;
  }
  if (*end != '\0') return invalid();
  if (value > (max >> shift) || value < min) return invalid();
  value <<= shift;
  if (value < min || value > max) return invalid();
  return static_cast<int64_t>(value);
}

}  // namespace polyio::examples
