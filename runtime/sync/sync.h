// polyio::sync: asynchronous synchronization primitives and channels, in
// the image of tokio::sync (docs/sync.md tells what each promises).
//
//   Mutex<T>, Semaphore, Notify, Barrier, Event
//   oneshot::Channel, mpsc::Channel / UnboundedChannel, broadcast::Channel,
//   watch::Channel
//
// All are thread-safe to share between tasks on any threads, wait without
// blocking a thread, and are cancellation-safe: a waiter that is cancelled
// or destroyed loses nothing and leaves the primitive consistent.
#ifndef POLYIO_RUNTIME_SYNC_SYNC_H_
#define POLYIO_RUNTIME_SYNC_SYNC_H_

#include "runtime/sync/barrier.h"             // IWYU pragma: export
#include "runtime/sync/broadcast.h"           // IWYU pragma: export
#include "runtime/sync/cancellation_token.h"  // IWYU pragma: export
#include "runtime/sync/event.h"               // IWYU pragma: export
#include "runtime/sync/mpsc.h"                // IWYU pragma: export
#include "runtime/sync/mutex.h"               // IWYU pragma: export
#include "runtime/sync/notify.h"              // IWYU pragma: export
#include "runtime/sync/oneshot.h"             // IWYU pragma: export
#include "runtime/sync/semaphore.h"           // IWYU pragma: export
#include "runtime/sync/watch.h"               // IWYU pragma: export

#endif  // POLYIO_RUNTIME_SYNC_SYNC_H_
