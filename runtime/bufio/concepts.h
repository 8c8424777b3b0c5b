// AsyncReader, AsyncWriter: what the helpers of runtime/bufio take.
//
// A reader is anything with `Read(absl::Span<char>)` returning a future of
// absl::StatusOr<size_t> — the bytes read, 0 at end of stream; a writer
// anything with `Write(absl::Span<const char>)` returning a future of the
// bytes written (possibly fewer than asked). TcpStream is both; so are the
// other byte streams (pipes, Unix streams) and a user's own type with the
// same two methods. Checked at compile time: no virtual call, no type
// erasure between a helper and the stream's futures.
#ifndef POLYIO_RUNTIME_BUFIO_CONCEPTS_H_
#define POLYIO_RUNTIME_BUFIO_CONCEPTS_H_

#include <concepts>
#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/task/future.h"

namespace polyio {

template <class R>
concept AsyncReader = requires(R& r, absl::Span<char> buf) {
  requires Future<decltype(r.Read(buf))>;
  requires std::same_as<FutureOutput<decltype(r.Read(buf))>,
                        absl::StatusOr<size_t>>;
};

template <class W>
concept AsyncWriter = requires(W& w, absl::Span<const char> buf) {
  requires Future<decltype(w.Write(buf))>;
  requires std::same_as<FutureOutput<decltype(w.Write(buf))>,
                        absl::StatusOr<size_t>>;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_BUFIO_CONCEPTS_H_
