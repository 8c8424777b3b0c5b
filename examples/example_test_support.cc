// The backend checks of the examples' tests (example_test_support.h).
#include "examples/example_test_support.h"

#include <cctype>
#include <cstdlib>

#include "polyio.h"

namespace polyio::examples {
namespace {

std::string Expected() {
  const char* expected = std::getenv("POLYIO_EXPECT_BACKEND");
  return expected ? expected : "";
}

}  // namespace

std::string WhyBackendCannotRun() {
  absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create();
  if (rt.ok()) return "";
  return "backend unavailable on this host: " + rt.status().ToString();
}

bool BackendRequired() {
  std::string var = "POLYIO_REQUIRE_";
  for (char c : Expected()) {
    var += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  const char* value = std::getenv(var.c_str());
  return value != nullptr && std::string(value) == "1";
}

bool NamesExpectedBackend(const std::string& banner) {
  const std::string expected = Expected();
  if (expected.empty()) return true;
  auto names = [&](const std::string& backend) {
    return banner.find("(" + backend + ",") != std::string::npos;
  };
  if (expected == "auto") return names("epoll") || names("io_uring");
  return names(expected);
}

}  // namespace polyio::examples
