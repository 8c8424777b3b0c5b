#include "backends/fault/fault_config.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace polyio::fault {
namespace {

struct RateField {
  const char* name;
  double FaultRates::*rate;
};

constexpr RateField kRateFields[] = {
    {"short_io", &FaultRates::short_io},
    {"hold", &FaultRates::hold},
    {"defer_inline", &FaultRates::defer_inline},
    {"cancel_late", &FaultRates::cancel_late},
    {"spurious_return", &FaultRates::spurious_return},
    {"spurious_wake", &FaultRates::spurious_wake},
    {"eintr", &FaultRates::eintr},
    {"accept_error", &FaultRates::accept_error},
    {"send_reset", &FaultRates::send_reset},
    {"dgram_enobufs", &FaultRates::dgram_enobufs},
};

std::string KnownNames() {
  std::string names;
  for (const RateField& f : kRateFields) {
    names += f.name;
    names += ", ";
  }
  names += "max_hold_turns";
  return names;
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "polyio fault injection: %s\n", message.c_str());
  std::abort();
}

std::optional<uint64_t> ParseSeed(const char* text) {
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text, &end, 0);
  if (errno != 0 || end == text || *end != '\0') return std::nullopt;
  return v;
}

FaultConfig FromEnvironment() {
  FaultConfig config;
  if (const char* seed = std::getenv("POLYIO_FAULT_SEED");
      seed != nullptr && *seed != '\0') {
    std::optional<uint64_t> v = ParseSeed(seed);
    if (!v) Die(std::string("POLYIO_FAULT_SEED is not a number: ") + seed);
    config.seed = *v;
  }
  if (const char* rates = std::getenv("POLYIO_FAULT_RATES")) {
    if (std::optional<std::string> error = ParseRates(rates, &config.rates)) {
      Die("POLYIO_FAULT_RATES: " + *error);
    }
  }
  return config;
}

struct State {
  std::mutex mu;
  std::optional<FaultConfig> for_testing;
  std::optional<FaultConfig> from_environment;
  uint64_t stream_hash = 0;
  uint64_t streams_made = 0;
  bool announced = false;
};

State& state() {
  static State* s = new State;  // never destroyed: backends outlive main
  return *s;
}

uint64_t Hash(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace

std::optional<std::string> ParseRates(std::string_view text,
                                      FaultRates* rates) {
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view()
                                           : text.substr(comma + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return "\"" + std::string(item) +
             "\" is not name=value (names: " + KnownNames() + ")";
    }
    std::string name(item.substr(0, eq));
    std::string value(item.substr(eq + 1));
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(value.c_str(), &end);
    if (value.empty() || errno != 0 || *end != '\0') {
      return "\"" + value + "\" is not a number (in " + std::string(item) + ")";
    }
    if (name == "max_hold_turns") {
      if (v < 1 || v > 1000 || v != static_cast<int>(v)) {
        return "max_hold_turns must be a whole number in [1, 1000]";
      }
      rates->max_hold_turns = static_cast<int>(v);
      continue;
    }
    bool found = false;
    for (const RateField& f : kRateFields) {
      if (name == f.name) {
        if (v < 0 || v > 1) return name + " must be in [0, 1]";
        rates->*f.rate = v;
        found = true;
      }
    }
    if (!found) {
      return "unknown fault \"" + name + "\" (names: " + KnownNames() + ")";
    }
  }
  return std::nullopt;
}

std::string DescribeRates(const FaultRates& rates) {
  std::string out;
  for (const RateField& f : kRateFields) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%s=%g,", f.name, rates.*f.rate);
    out += buf;
  }
  out += "max_hold_turns=" + std::to_string(rates.max_hold_turns);
  return out;
}

FaultConfig CurrentConfig() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.for_testing) return *s.for_testing;
  if (!s.from_environment) s.from_environment = FromEnvironment();
  return *s.from_environment;
}

void SetConfigForTesting(std::optional<FaultConfig> config) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.for_testing = std::move(config);
}

uint64_t NextStreamSeed(uint64_t seed) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  Random mix(seed ^ s.stream_hash);
  uint64_t a = mix.Next();
  return a ^ (0x2545f4914f6cdd1dull * ++s.streams_made);
}

void SetStreamName(std::string_view name) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.stream_hash = name.empty() ? 0 : Hash(name);
  s.streams_made = 0;
}

void AnnounceOnce(std::string_view inner_name, const FaultConfig& config) {
  State& s = state();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.announced) return;
    s.announced = true;
  }
  std::fprintf(stderr,
               "polyio: fault injection over %.*s: seed %llu "
               "(POLYIO_FAULT_SEED), rates %s (POLYIO_FAULT_RATES)\n",
               static_cast<int>(inner_name.size()), inner_name.data(),
               static_cast<unsigned long long>(config.seed),
               DescribeRates(config.rates).c_str());
}

}  // namespace polyio::fault
