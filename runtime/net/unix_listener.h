// UnixListener: a listening Unix-domain stream socket; Accept() is a future
// of a UnixStream.
//
//   absl::StatusOr<UnixListener> l = UnixListener::Bind("app.sock");
//   for (;;) {
//     absl::StatusOr<UnixStream> s = co_await l->Accept();
//     if (s.ok()) Spawn(Serve(std::move(*s))).Detach();
//   }
//
// Bind(path) creates the socket file; a file already there fails the bind
// ("bind app.sock: Address already in use") and is left alone: the
// listener never removes what it did not create. A path that starts with
// '\0', or BindAbstract(name), binds an abstract name (Linux), which has no
// file. A path longer than sun_path holds is InvalidArgument naming the call
// and the path.
//
// The socket file. Close() (or destroying the listener) removes the file
// Bind created — if it is still that file: one that was removed and
// replaced meanwhile (by another program, another listener) is not the
// listener's and stays.
//
// Accept is TcpListener's (accept_future.h): cancel-safe, backs off when
// out of fds. Same threading, Close and lifetime rules as TcpListener: Close
// ends a pending Accept with CancelledError, later ones fail with
// FailedPrecondition ("accept: the listener is closed"). Move-only;
// thread-compatible.
#ifndef POLYIO_RUNTIME_NET_UNIX_LISTENER_H_
#define POLYIO_RUNTIME_NET_UNIX_LISTENER_H_

#include <sys/types.h>

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "platform/ref_ptr.h"
#include "platform/unique_fd.h"
#include "runtime/io/fd_handle.h"
#include "runtime/net/accept_future.h"
#include "runtime/net/unix_address.h"
#include "runtime/net/unix_stream.h"

namespace polyio {

using UnixAcceptFuture = AcceptFutureOf<UnixStream>;

class UnixListener {
 public:
  static absl::StatusOr<UnixListener> Bind(absl::string_view path,
                                           int backlog = 1024);
  static absl::StatusOr<UnixListener> BindAbstract(absl::string_view name,
                                                   int backlog = 1024);
  static absl::StatusOr<UnixListener> Bind(const UnixAddress& addr,
                                           int backlog = 1024);
  UnixListener(UnixListener&& other) noexcept;
  UnixListener& operator=(UnixListener&& other) noexcept;
  ~UnixListener() { Close(); }

  UnixAcceptFuture Accept() { return UnixAcceptFuture(handle_); }
  absl::StatusOr<UnixAddress> LocalAddress() const;
  // Ends a pending Accept (CancelledError), closes the socket and removes
  // the socket file if it is still the one Bind created. Idempotent.
  void Close();
  // The fd, or -1 once closed.
  int fd() const { return handle_ ? handle_->fd() : -1; }

 private:
  // The file Bind made, known by its device and inode.
  struct SocketFile {
    std::string path;
    dev_t dev;
    ino_t ino;
  };
  UnixListener(UniqueFd fd, std::optional<SocketFile> file);

  RefPtr<FdHandle> handle_;
  std::optional<SocketFile> file_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_NET_UNIX_LISTENER_H_
