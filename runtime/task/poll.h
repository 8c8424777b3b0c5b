// Poll<T>: what one poll of a future gives — ready with a T, or pending.
//
// As in Rust's std::task::Poll. A future that returns Pending has arranged
// for the Context's waker to be called when it is worth polling again.
// Value type; thread-compatible.
#ifndef POLYIO_RUNTIME_POLL_H_
#define POLYIO_RUNTIME_POLL_H_

#include <optional>
#include <utility>

namespace polyio {

struct PendingTag {};
inline constexpr PendingTag kPending{};

template <class T>
class [[nodiscard]] Poll {
 public:
  using value_type = T;

  Poll(PendingTag) {}  // NOLINT: implicit, so `return kPending;` reads well.
  Poll(T value) : value_(std::move(value)) {}  // NOLINT: implicit, likewise.

  bool ready() const { return value_.has_value(); }
  bool pending() const { return !value_.has_value(); }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }

 private:
  std::optional<T> value_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_POLL_H_
