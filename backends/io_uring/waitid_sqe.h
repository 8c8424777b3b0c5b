// IORING_OP_WAITID (Linux 6.7) for a liburing that predates it.
//
// liburing 2.3 (Debian 12, what this project builds with) has neither the
// opcode's name nor io_uring_prep_waitid, and its io_uring_sqe has no
// `waitid_flags` member. The kernel ABI is fixed, so the opcode number is
// written here and the SQE filled by hand, field by field as the kernel's
// io_waitid_prep (io_uring/waitid.c) reads it — the same fields liburing
// 2.5's io_uring_prep_waitid sets:
//
//   fd         the id (here a pidfd)        len          the idtype (P_PIDFD)
//   file_index waitid's options (WEXITED)   addr2        the siginfo_t*
//   waitid_flags (the rw_flags union)  0    addr, buf_index, addr3  0
//
// The kernel fills si_signo, si_errno, si_code, si_pid, si_uid, si_status of
// the siginfo (io_waitid_copy_si) and completes with 0, or -errno as
// waitid(2) would fail (-ECHILD when the child was reaped by someone else).
//
// Header-only; no state.
#ifndef POLYIO_BACKENDS_IO_URING_WAITID_SQE_H_
#define POLYIO_BACKENDS_IO_URING_WAITID_SQE_H_

#include <liburing.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdint>

namespace polyio {

// The kernel's include/uapi/linux/io_uring.h, enum io_uring_op:
// ... IORING_OP_SEND_ZC (47), IORING_OP_SENDMSG_ZC (48),
// IORING_OP_READ_MULTISHOT (49), IORING_OP_WAITID (50), ...
#ifdef IORING_OP_WAITID
inline constexpr int kIoRingOpWaitId = IORING_OP_WAITID;
#else
inline constexpr int kIoRingOpWaitId = 50;
static_assert(IORING_OP_SENDMSG_ZC == kIoRingOpWaitId - 2,
              "io_uring.h's opcode numbering is not the kernel's");
#endif

// waitid's idtype for a pidfd (Linux 5.4); older C libraries lack the name.
inline constexpr unsigned kPidfdIdType = 3;  // P_PIDFD

// waitid(P_PIDFD, pidfd, info, WEXITED) as one SQE.
inline void PrepareWaitId(io_uring_sqe* sqe, int pidfd, siginfo_t* info) {
  io_uring_prep_rw(kIoRingOpWaitId, sqe, pidfd, nullptr, kPidfdIdType, 0);
  sqe->rw_flags = 0;  // waitid_flags: none are defined
  sqe->file_index = WEXITED;
  sqe->addr2 = reinterpret_cast<uint64_t>(info);
}

}  // namespace polyio

#endif  // POLYIO_BACKENDS_IO_URING_WAITID_SQE_H_
