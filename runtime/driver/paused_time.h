// PausedTime: the drivers' side of paused time (runtime/time/pause.h).
//
// While the clock is paused (platform/clock.h) it moves only when told to,
// or when every driver that has run under the pause is idle: no task to
// run, nothing the backend has ready, nothing in its mailbox. Then no task
// can observe the jump, and the clock goes to the earliest timer among
// those drivers (tokio's auto-advance, extended to the multi-thread
// runtime: one worker's idleness alone does not move time while another
// worker runs tasks).
//
// Every driver joins when it is made and leaves when it is destroyed. Each
// is "busy" while a thread runs it (has entered it) except while it waits
// in GoIdle's wait; a driver no thread runs (a current-thread runtime
// between two BlockOn calls) cannot see time move and does not hold it.
//
// Thread-safe: one process-wide mutex, taken when a driver is made or
// destroyed, and otherwise only while time is paused.
#ifndef POLYIO_RUNTIME_DRIVER_PAUSED_TIME_H_
#define POLYIO_RUNTIME_DRIVER_PAUSED_TIME_H_

#include <atomic>
#include <optional>
#include <thread>

#include "backends/selected.h"
#include "platform/clock.h"

namespace polyio::internal {

// A new driver: `owner` is its owner-thread id (none while not entered).
void Join(const void* driver, Backend* backend,
          const std::atomic<std::thread::id>* owner);
// The calling driver, with nothing to do, goes idle: `next` is its earliest
// timer. Returns true when time moved (to `next` or earlier), or time is
// no longer paused: the caller turns again at once, without waiting. Returns
// false when the caller should wait in its backend (other drivers are busy, or
// nobody has a timer); it is woken if time moves, and calls Busy after.
bool GoIdle(const void* driver, std::optional<Instant> next);
// After the wait GoIdle asked for.
void Busy(const void* driver);
// The driver is destroyed. Any thread.
void Leave(const void* driver);

// runtime/time/pause.h's functions.
void PauseClock();
void ResumeClock();
void AdvanceClock(Duration d);

}  // namespace polyio::internal

#endif  // POLYIO_RUNTIME_DRIVER_PAUSED_TIME_H_
