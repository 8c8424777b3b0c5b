#include "runtime/fs/path_op.h"

#include <unistd.h>

#include <utility>

namespace polyio::internal {

PathOpFuture::PathOpFuture(OpKind kind, std::string path)
    : path_(std::move(path)) {
  Operation& op = io_.op();
  op.kind = kind;
  op.fd = AT_FDCWD;
}

PathOpFuture::~PathOpFuture() {
  if (!polled_ || taken_) return;
  // Cancelled and waited for; an open that won the race made an fd that
  // nobody else knows of.
  int32_t res = io_.Abandon();
  if (io_.op().kind == OpKind::kOpenAt && res >= 0) ::close(res);
}

Poll<int32_t> PathOpFuture::Poll(Context& cx) {
  if (!polled_) {
    // Pointers into this future, set now that it no longer moves.
    polled_ = true;
    args_.path = path_.c_str();
    args_.new_path = new_path_.c_str();
#if defined(__linux__)
    args_.statx_buf = &statx_;
#endif
    io_.op().buf = &args_;
  }
  polyio::Poll<int32_t> res = io_.PollResult(cx);
  if (res.pending()) return kPending;
  taken_ = true;
  return res.value();
}

}  // namespace polyio::internal
