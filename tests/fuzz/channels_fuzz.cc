// Fuzz target: the channels of runtime/sync (mpsc bounded and unbounded,
// broadcast, watch, oneshot) against models, under fuzzed sequences of
// sends, receives, cancellations, drops and closes. The first byte picks
// the channel; the rest is its program (channel_models.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/byte_reader.h"
#include "tests/fuzz/channel_models.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  polyio::fuzz::ByteReader in(data, size);
  switch (in.Byte() % 4) {
    case 0:
      polyio::fuzz::FuzzMpsc(in);
      break;
    case 1:
      polyio::fuzz::FuzzBroadcast(in);
      break;
    case 2:
      polyio::fuzz::FuzzWatch(in);
      break;
    case 3:
      polyio::fuzz::FuzzOneshot(in);
      break;
  }
  return 0;
}
