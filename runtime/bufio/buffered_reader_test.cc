// BufferedReader over a reader whose reads come back short, in a pattern
// the test picks: what a network gives (and the fault layer, backends/fault,
// which found the bug below), where a local socket would return everything
// at once.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "polyio.h"

namespace polyio {
namespace {

// Reads from `data`, each read at most the next size in `sizes` (then the
// last one again).
class ShortReader {
 public:
  ShortReader(std::string data, std::vector<size_t> sizes)
      : data_(std::move(data)), sizes_(std::move(sizes)) {}

  struct ReadyRead {
    absl::StatusOr<size_t> result;
    polyio::Poll<absl::StatusOr<size_t>> Poll(Context&) {
      return std::move(result);
    }
  };
  ReadyRead Read(absl::Span<char> buf) {
    size_t cap = sizes_[std::min(next_, sizes_.size() - 1)];
    ++next_;
    size_t n = std::min({buf.size(), cap, data_.size() - pos_});
    std::memcpy(buf.data(), data_.data() + pos_, n);
    pos_ += n;
    asked_.push_back(buf.size());
    return ReadyRead{n};
  }
  const std::vector<size_t>& asked() const { return asked_; }

 private:
  std::string data_;
  std::vector<size_t> sizes_;
  size_t next_ = 0;
  size_t pos_ = 0;
  std::vector<size_t> asked_;
};
static_assert(AsyncReader<ShortReader>);

// A line over its limit is refused with at most the limit plus one chunk
// buffered, however the reads fall. Reads of 300 and then 600 bytes used to
// leave a doubled buffer's whole free space (1,148 bytes) to the next read:
// 2,048 bytes buffered for a limit of 1,000 and a chunk of 512.
TEST(BufferedReaderTest, ALineOverTheLimitBuffersAtMostTheLimitAndAChunk) {
  absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create();
  ASSERT_TRUE(rt.ok()) << rt.status();
  for (std::vector<size_t> sizes :
       {std::vector<size_t>{300, 600, 100000},
        std::vector<size_t>{1, 999, 5000}, std::vector<size_t>{511, 1, 100000},
        std::vector<size_t>{100000}}) {
    ShortReader inner(std::string(1 << 16, 'x'), sizes);
    BufferedReader<ShortReader> in(inner, 512);
    absl::StatusOr<std::optional<std::string>> line =
        (*rt)->BlockOn(in.ReadLine(1000));
    EXPECT_TRUE(absl::IsResourceExhausted(line.status())) << line.status();
    EXPECT_LT(in.buffered().size(), 1000u + 512u) << "reads " << sizes[0];
    for (size_t asked : inner.asked()) EXPECT_LE(asked, 512u);
  }
}

}  // namespace
}  // namespace polyio
