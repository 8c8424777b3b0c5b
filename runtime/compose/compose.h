// Composition, in one include: WhenAll, WhenAny / Select, Yield (futures
// polled inside the awaiting task) and TaskGroup (spawned children that end
// together). docs/compose.md compares them with tokio, asyncio and C#.
#ifndef POLYIO_RUNTIME_COMPOSE_COMPOSE_H_
#define POLYIO_RUNTIME_COMPOSE_COMPOSE_H_

#include "runtime/compose/task_group.h"  // IWYU pragma: export
#include "runtime/compose/when_all.h"    // IWYU pragma: export
#include "runtime/compose/when_any.h"    // IWYU pragma: export
#include "runtime/compose/yield.h"       // IWYU pragma: export

#endif  // POLYIO_RUNTIME_COMPOSE_COMPOSE_H_
