// Compiles FaultBackend (and ChosenBackend) in every configuration, those
// too that never build the fault-tagged tests (tools/test's TSan step and
// clang build): a template nobody instantiates is not compiled, and the
// layer must keep building with clang as with g++.
#include "backends/fault/fault_backend.h"

#if defined(__linux__)
#include "backends/epoll/epoll_backend.h"
#include "backends/fault/chosen_backend.h"

namespace polyio {
template class FaultBackend<ChosenBackend<EpollBackend>>;
static_assert(BackendContract<FaultBackend<ChosenBackend<EpollBackend>>>);
}  // namespace polyio
#endif
