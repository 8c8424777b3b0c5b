// ByteReader: turns a fuzzer's input into the choices of a test program.
//
//   ByteReader in(data, size);
//   while (!in.empty()) switch (in.Byte() % 6) { ... }
//
// Every read is defined on every input: past the end, reads return 0, so a
// short input is simply a program that stops early (empty() tells the loop
// when). Small on purpose (no FuzzedDataProvider): the same targets also
// build with g++ for the corpus tests. Not thread-safe.
#ifndef POLYIO_TESTS_FUZZ_BYTE_READER_H_
#define POLYIO_TESTS_FUZZ_BYTE_READER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace polyio::fuzz {

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool empty() const { return pos_ >= size_; }

  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }

  // Little-endian, `bytes` long (at most 8).
  uint64_t Bits(int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t{Byte()} << (8 * i);
    return v;
  }

  // A number in [0, n) for n > 0; n <= 256 takes one byte.
  size_t Below(size_t n) {
    return n <= 256 ? Byte() % n : static_cast<size_t>(Bits(8) % n);
  }

  bool Bool() { return Byte() & 1; }

  // The rest of the input.
  std::string_view Rest() {
    std::string_view rest(reinterpret_cast<const char*>(data_) + pos_,
                          pos_ < size_ ? size_ - pos_ : 0);
    pos_ = size_;
    return rest;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace polyio::fuzz

#endif  // POLYIO_TESTS_FUZZ_BYTE_READER_H_
