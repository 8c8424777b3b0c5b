// OpList: an intrusive FIFO of Operations, linked through their `link`.
//
// O(1) push, pop and unlink with no allocation, which is how the readiness
// backends park operations on an fd (invariant 3 of backends/backend.h).
// An Operation is in at most one OpList at a time. Thread-hostile.
#ifndef POLYIO_BACKENDS_READINESS_OP_LIST_H_
#define POLYIO_BACKENDS_READINESS_OP_LIST_H_

#include "backends/operation.h"
#include "platform/intrusive_list.h"

namespace polyio {

using OpList = IntrusiveList<Operation, &Operation::link>;

}  // namespace polyio

#endif  // POLYIO_BACKENDS_READINESS_OP_LIST_H_
