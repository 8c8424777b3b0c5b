// polyio: everything a program needs, in one include.
#ifndef POLYIO_POLYIO_H_
#define POLYIO_POLYIO_H_

#include "platform/socket.h"                  // IWYU pragma: export
#include "platform/socket_address.h"          // IWYU pragma: export
#include "runtime/blocking/spawn_blocking.h"  // IWYU pragma: export
#include "runtime/bufio/buffered_reader.h"    // IWYU pragma: export
#include "runtime/bufio/buffered_writer.h"    // IWYU pragma: export
#include "runtime/bufio/read_write.h"         // IWYU pragma: export
#include "runtime/compose/compose.h"          // IWYU pragma: export
#include "runtime/driver/spawn.h"             // IWYU pragma: export
#include "runtime/event_loop.h"               // IWYU pragma: export
#include "runtime/fs/dir.h"                   // IWYU pragma: export
#include "runtime/fs/file.h"                  // IWYU pragma: export
#include "runtime/fs/metadata.h"              // IWYU pragma: export
#include "runtime/fs/path_ops.h"              // IWYU pragma: export
#include "runtime/net/resolve.h"              // IWYU pragma: export
#include "runtime/net/tcp_listener.h"         // IWYU pragma: export
#include "runtime/net/tcp_split.h"            // IWYU pragma: export
#include "runtime/net/tcp_stream.h"           // IWYU pragma: export
#include "runtime/net/udp_socket.h"           // IWYU pragma: export
#include "runtime/net/unix_datagram.h"        // IWYU pragma: export
#include "runtime/net/unix_listener.h"        // IWYU pragma: export
#include "runtime/net/unix_stream.h"          // IWYU pragma: export
#include "runtime/pipe/pipe.h"                // IWYU pragma: export
#include "runtime/process/command.h"          // IWYU pragma: export
#include "runtime/runtime.h"                  // IWYU pragma: export
#include "runtime/signal/signal.h"            // IWYU pragma: export
#include "runtime/sync/sync.h"                // IWYU pragma: export
#include "runtime/task/join_handle.h"         // IWYU pragma: export
#include "runtime/task/task.h"                // IWYU pragma: export
#include "runtime/time/interval.h"            // IWYU pragma: export
#include "runtime/time/pause.h"               // IWYU pragma: export
#include "runtime/time/sleep.h"               // IWYU pragma: export
#include "runtime/time/timeout.h"             // IWYU pragma: export

#endif  // POLYIO_POLYIO_H_
