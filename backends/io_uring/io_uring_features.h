// IoUringFeatures: what the kernel's io_uring offered when a backend was
// created, and which of it the backend uses.
//
// Probed once, in IoUringBackend::Create (io_uring_setup's feature flags,
// io_uring_get_probe, and small trial registrations), so that each run says
// exactly what it got. "Used" fields change how the backend works; "probed
// only" fields are reported for logs, tests and future work, and do not
// change the data path (see docs/backends.md, "io_uring").
//
// A plain value: thread-compatible.
#ifndef POLYIO_BACKENDS_IO_URING_IO_URING_FEATURES_H_
#define POLYIO_BACKENDS_IO_URING_IO_URING_FEATURES_H_

#include <cstdint>
#include <string>

namespace polyio {

struct IoUringFeatures {
  // Ring geometry as the kernel granted it (it rounds up to powers of two).
  uint32_t sq_entries = 0;
  uint32_t cq_entries = 0;

  // Used.
  bool sqpoll = false;              // a kernel thread polls the SQ
  bool coop_taskrun = false;        // IORING_SETUP_COOP_TASKRUN (5.19)
  bool submit_all = false;          // IORING_SETUP_SUBMIT_ALL (5.18)
  bool registered_ring_fd = false;  // never: see io_uring_setup.cc
  bool cancel_fd = false;  // IORING_ASYNC_CANCEL_FD|ALL (5.19): Forget = 1 SQE
  bool ext_arg = false;    // IORING_FEAT_EXT_ARG: timed wait in one syscall
  bool fast_poll = false;  // IORING_FEAT_FAST_POLL: no io-wq for sockets
  // Path operations (operation.h's path kinds); a kind without its opcode
  // completes inline with -EOPNOTSUPP and runtime/fs uses the blocking
  // pool. POLYIO_IO_URING_NO_PATH_OPS=1 (a test switch) clears them all.
  bool openat = false;    // IORING_OP_OPENAT (5.6)
  bool statx = false;     // IORING_OP_STATX (5.6)
  bool renameat = false;  // IORING_OP_RENAMEAT (5.11)
  bool unlinkat = false;  // IORING_OP_UNLINKAT (5.11)
  bool mkdirat = false;   // IORING_OP_MKDIRAT (5.15)
  bool waitid = false;    // IORING_OP_WAITID (6.7): Submit takes kWaitId

  // Probed only (the kernel has them; the data path does not use them yet).
  bool multishot_accept = false;      // 5.19 (IORING_OP_SOCKET as witness)
  bool multishot_recv = false;        // 6.0 (IORING_OP_SEND_ZC as witness)
  bool provided_buffer_ring = false;  // io_uring_register_buf_ring worked
  bool registered_files = false;      // io_uring_register_files_sparse worked

  // One line for logs: "sq=256 cq=512 cancel_fd ext_arg ...".
  std::string ToString() const;
};

}  // namespace polyio

#endif  // POLYIO_BACKENDS_IO_URING_IO_URING_FEATURES_H_
