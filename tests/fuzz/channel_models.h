// The channel fuzz models, one per channel of runtime/sync: each reads a
// sequence of operations from the input, performs it on a real channel
// (futures polled by hand, probe.h) and on a plain model of what the
// channel's header promises, and FUZZ_CHECKs that the two agree — values,
// statuses, order, wakes and what a failed send hands back. channels_fuzz.cc
// picks one per input.
#ifndef POLYIO_TESTS_FUZZ_CHANNEL_MODELS_H_
#define POLYIO_TESTS_FUZZ_CHANNEL_MODELS_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/fuzz/byte_reader.h"

namespace polyio::fuzz {

void FuzzMpsc(ByteReader& in);
void FuzzBroadcast(ByteReader& in);
void FuzzWatch(ByteReader& in);
void FuzzOneshot(ByteReader& in);

// The n-th value a model sends: distinct, and long enough to live on the
// heap, so that a value destroyed twice or never shows under ASan.
inline std::string ValueNumber(uint64_t n) {
  return absl::StrCat("value number ", n, " of this input, on the heap");
}

}  // namespace polyio::fuzz

#endif  // POLYIO_TESTS_FUZZ_CHANNEL_MODELS_H_
