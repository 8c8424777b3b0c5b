// CountedOp: an Operation that counts how it completed, for the tests of
// backends and of the reactor.
//
// `callbacks` counts on_complete calls; a test that submits through a helper
// which records Submit's `true` in `finished_inline` can ask completions()
// for "completed, whichever way". Copyable until submitted (the factories
// return by value); from Submit to completion it belongs to the backend, as
// every Operation does. Thread-compatible.
#ifndef POLYIO_BACKENDS_COUNTED_OP_H_
#define POLYIO_BACKENDS_COUNTED_OP_H_

#include <cstddef>

#include "backends/operation.h"

namespace polyio {

struct CountedOp : Operation {
  int callbacks = 0;
  bool finished_inline = false;

  CountedOp() { on_complete = &Count; }
  int completions() const { return callbacks + (finished_inline ? 1 : 0); }

  static void Count(Operation* op) { ++static_cast<CountedOp*>(op)->callbacks; }
};

// An operation of a kind that moves `len` bytes at `buf` (kRead, kWrite,
// kRecv, kSend, kPread, kPwrite) on `fd`.
inline CountedOp TransferOp(OpKind kind, int fd, void* buf, size_t len) {
  CountedOp op;
  op.kind = kind;
  op.fd = fd;
  op.buf = buf;
  op.len = len;
  return op;
}

}  // namespace polyio

#endif  // POLYIO_BACKENDS_COUNTED_OP_H_
