// A GoogleTest listener for suites that run under the fault layer
// (fault_backend.h). In a build without fault injection it registers
// nothing. It
// - names the fault streams after each test at its start
//   (fault::SetStreamName), so that a test draws the same faults whether it
//   runs in the whole suite or alone under --gtest_filter;
// - applies per-case rates: POLYIO_FAULT_CASE_RATES="Suite.Case:k=v,...;..."
//   changes the rates of the backends a listed case creates (and says so),
//   for what a case states it cannot expect under faults — e.g.
//   "short_io=0" for a case that expects one read to return everything its
//   peer wrote. Every case still runs, under every other fault;
// - prints, when a test fails, the seed, the rates and what replays it.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "backends/fault/fault_config.h"
#include "backends/selected.h"
#include "gtest/gtest.h"

namespace polyio::fault {
namespace {

// POLYIO_FAULT_CASE_RATES, parsed; a bad entry stops the program.
std::map<std::string, std::string> CaseRates() {
  std::map<std::string, std::string> out;
  const char* env = std::getenv("POLYIO_FAULT_CASE_RATES");
  if (env == nullptr) return out;
  std::string_view text(env);
  while (!text.empty()) {
    size_t semi = text.find(';');
    std::string_view entry = text.substr(0, semi);
    text = semi == std::string_view::npos ? std::string_view()
                                          : text.substr(semi + 1);
    if (entry.empty()) continue;
    size_t colon = entry.find(':');
    FaultRates check;
    std::optional<std::string> error =
        colon == std::string_view::npos
            ? std::optional<std::string>("no ':' between case and rates")
            : ParseRates(entry.substr(colon + 1), &check);
    if (error) {
      std::fprintf(stderr, "POLYIO_FAULT_CASE_RATES: \"%.*s\": %s\n",
                   static_cast<int>(entry.size()), entry.data(),
                   error->c_str());
      std::abort();
    }
    out[std::string(entry.substr(0, colon))] =
        std::string(entry.substr(colon + 1));
  }
  return out;
}

class SeedListener : public ::testing::EmptyTestEventListener {
 public:
  SeedListener() : case_rates_(CaseRates()) {}

 private:
  void OnTestProgramStart(const ::testing::UnitTest&) override {
    FaultConfig config = CurrentConfig();
    std::printf("[  FAULTS  ] fault injection on: seed %llu, rates %s\n",
                static_cast<unsigned long long>(config.seed),
                DescribeRates(config.rates).c_str());
    for (const auto& [name, rates] : case_rates_) {
      std::printf("[  FAULTS  ] %s runs with %s (POLYIO_FAULT_CASE_RATES)\n",
                  name.c_str(), rates.c_str());
    }
    std::fflush(stdout);
  }

  void OnTestStart(const ::testing::TestInfo& info) override {
    const std::string name = FullName(info);
    SetStreamName(name);
    auto it = case_rates_.find(name);
    if (it == case_rates_.end()) return;
    FaultConfig config = CurrentConfig();
    ParseRates(it->second, &config.rates);  // checked at start-up
    SetConfigForTesting(config);
    std::printf("[  FAULTS  ] %s: rates changed for this case: %s\n",
                name.c_str(), it->second.c_str());
  }

  void OnTestEnd(const ::testing::TestInfo& info) override {
    const std::string name = FullName(info);
    const bool changed = case_rates_.count(name) > 0;
    FaultConfig config = CurrentConfig();  // this case's
    if (changed) SetConfigForTesting(std::nullopt);
    SetStreamName("");
    if (!info.result()->Failed()) return;
    std::string env;
    if (const char* rates = std::getenv("POLYIO_FAULT_RATES")) {
      env += std::string(" POLYIO_FAULT_RATES=") + rates;
    }
    if (changed) {
      env += " POLYIO_FAULT_CASE_RATES='" + name + ":" + case_rates_.at(name) +
             "'";
    }
    if (const char* inner = std::getenv("POLYIO_FAULT_INNER")) {
      env += std::string(" POLYIO_FAULT_INNER=") + inner;
    }
    if (const char* flavor = std::getenv("POLYIO_TEST_RUNTIME")) {
      env += std::string(" POLYIO_TEST_RUNTIME=") + flavor;
    }
    std::printf(
        "[  FAULTS  ] %s failed under fault injection: seed %llu, rates %s\n"
        "[  FAULTS  ] replay: POLYIO_FAULT_SEED=%llu%s <test binary> "
        "--gtest_filter=%s\n",
        name.c_str(), static_cast<unsigned long long>(config.seed),
        DescribeRates(config.rates).c_str(),
        static_cast<unsigned long long>(config.seed), env.c_str(),
        name.c_str());
    std::fflush(stdout);
  }

  static std::string FullName(const ::testing::TestInfo& info) {
    return std::string(info.test_suite_name()) + "." + info.name();
  }

  std::map<std::string, std::string> case_rates_;
};

const bool registered = [] {
  if constexpr (kFaultInjection) {
    ::testing::UnitTest::GetInstance()->listeners().Append(new SeedListener);
  }
  return true;
}();

}  // namespace
}  // namespace polyio::fault
