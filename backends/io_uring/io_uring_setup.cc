#include "backends/io_uring/io_uring_setup.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "backends/io_uring/io_uring_backend.h"
#include "backends/io_uring/waitid_sqe.h"

namespace polyio {
namespace {

// The SQ size io_uring accepts at most (IORING_MAX_ENTRIES).
constexpr uint32_t kMaxEntries = 32768;

// user_data of the trial cancel in ProbeCancelFd; never an Operation address.
constexpr uint64_t kProbeTag = 3;

bool EnvSwitch(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && std::strcmp(v, "1") == 0;
}

bool ForcedUnavailable() {
  return EnvSwitch("POLYIO_IO_URING_FORCE_UNAVAILABLE");
}

// -1 when the sysctl does not exist (kernels before 6.6).
int IoUringDisabledSysctl() {
  FILE* f = std::fopen("/proc/sys/kernel/io_uring_disabled", "re");
  if (f == nullptr) return -1;
  int value = -1;
  if (std::fscanf(f, "%d", &value) != 1) value = -1;
  std::fclose(f);
  return value;
}

// Why io_uring_setup failed with `err`, in words a user can act on.
std::string SetupFailure(int err) {
  std::string reason = absl::StrCat("io_uring_setup: ", std::strerror(err));
  int sysctl = IoUringDisabledSysctl();
  switch (err) {
    case ENOSYS:
      absl::StrAppend(&reason,
                      " (kernel built without io_uring, or blocked by a "
                      "seccomp filter as in default container profiles)");
      break;
    case EPERM:
      if (sysctl == 2) {
        absl::StrAppend(&reason, " (kernel.io_uring_disabled=2)");
      } else if (sysctl == 1) {
        absl::StrAppend(&reason,
                        " (kernel.io_uring_disabled=1 and this process is "
                        "not in kernel.io_uring_group, or blocked by seccomp)");
      } else {
        absl::StrAppend(&reason,
                        " (blocked by seccomp or kernel.io_uring_disabled)");
      }
      break;
    case ENOMEM:
      absl::StrAppend(&reason, " (RLIMIT_MEMLOCK too low for the ring?)");
      break;
    default:
      break;
  }
  return reason;
}

int TrySetup(uint32_t entries, uint32_t flags, uint32_t sqpoll_idle_ms,
             io_uring* ring) {
  io_uring_params params{};
  params.flags = flags | IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
  params.cq_entries = entries * 2;
  if (flags & IORING_SETUP_SQPOLL) params.sq_thread_idle = sqpoll_idle_ms;
  return io_uring_queue_init_params(entries, ring, &params);
}

// Does IORING_OP_ASYNC_CANCEL take IORING_ASYNC_CANCEL_FD|ALL? Older kernels
// reject the flags with -EINVAL. The trial cancels by the ring's own fd,
// which no operation uses.
bool ProbeCancelFd(io_uring* ring) {
  io_uring_sqe* sqe = io_uring_get_sqe(ring);
  if (sqe == nullptr) return false;
  io_uring_prep_cancel_fd(sqe, ring->ring_fd, IORING_ASYNC_CANCEL_ALL);
  io_uring_sqe_set_data64(sqe, kProbeTag);
  if (io_uring_submit_and_wait(ring, 1) < 0) return false;
  io_uring_cqe* cqe = nullptr;
  bool supported = false;
  while (io_uring_peek_cqe(ring, &cqe) == 0) {
    if (cqe->user_data == kProbeTag) supported = cqe->res != -EINVAL;
    io_uring_cqe_seen(ring, cqe);
  }
  return supported;
}

bool ProbeBufferRing(io_uring* ring) {
  long page = sysconf(_SC_PAGESIZE);
  void* mem = mmap(nullptr, static_cast<size_t>(page), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return false;
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(mem);
  reg.ring_entries = 1;
  reg.bgid = 0;
  bool ok = io_uring_register_buf_ring(ring, &reg, 0) == 0;
  if (ok) io_uring_unregister_buf_ring(ring, 0);
  munmap(mem, static_cast<size_t>(page));
  return ok;
}

bool ProbeRegisteredFiles(io_uring* ring) {
  if (io_uring_register_files_sparse(ring, 1) != 0) return false;
  io_uring_unregister_files(ring);
  return true;
}

// The opcodes Prepare() issues, with the kernel that brought them.
struct NeededOp {
  int opcode;
  const char* name;
};
constexpr NeededOp kNeededOps[] = {
    {IORING_OP_READ, "IORING_OP_READ"},
    {IORING_OP_WRITE, "IORING_OP_WRITE"},
    {IORING_OP_RECV, "IORING_OP_RECV"},
    {IORING_OP_SEND, "IORING_OP_SEND"},
    {IORING_OP_RECVMSG, "IORING_OP_RECVMSG"},
    {IORING_OP_SENDMSG, "IORING_OP_SENDMSG"},
    {IORING_OP_ACCEPT, "IORING_OP_ACCEPT"},
    {IORING_OP_CONNECT, "IORING_OP_CONNECT"},
    {IORING_OP_POLL_ADD, "IORING_OP_POLL_ADD"},
    {IORING_OP_CLOSE, "IORING_OP_CLOSE"},
    {IORING_OP_FSYNC, "IORING_OP_FSYNC"},
    {IORING_OP_ASYNC_CANCEL, "IORING_OP_ASYNC_CANCEL"},
};

}  // namespace

absl::Status IoUringUnavailable(const std::string& reason) {
  return absl::UnavailableError(
      absl::StrCat("io_uring unavailable: ", reason, kIoUringAdvice));
}

absl::Status OpenRing(const BackendOptions& options, io_uring* ring,
                      IoUringFeatures* features) {
  if (ForcedUnavailable()) {
    return IoUringUnavailable(
        "forced by POLYIO_IO_URING_FORCE_UNAVAILABLE=1 (test switch)");
  }
  uint32_t entries = options.ring_entries == 0 ? 1 : options.ring_entries;
  if (entries > kMaxEntries) entries = kMaxEntries;

  // Most wanted first; each retry drops what an older kernel rejects with
  // EINVAL (COOP_TASKRUN and TASKRUN_FLAG: 5.19, SUBMIT_ALL: 5.18), and
  // SQPOLL last. TASKRUN_FLAG lets io_uring_peek_cqe see that deferred
  // completions wait for a kernel entry.
  const uint32_t optional = options.modern_features
                                ? IORING_SETUP_COOP_TASKRUN |
                                      IORING_SETUP_TASKRUN_FLAG |
                                      IORING_SETUP_SUBMIT_ALL
                                : 0;
  const uint32_t sqpoll = options.sqpoll ? IORING_SETUP_SQPOLL : 0;
  const uint32_t attempts[] = {sqpoll | optional, sqpoll, 0};
  int err = 0;
  uint32_t flags = 0;
  for (uint32_t a : attempts) {
    flags = a;
    err = TrySetup(entries, flags, options.sqpoll_idle_ms, ring);
    // ENOSYS/EPERM will not change with other flags (except for SQPOLL,
    // which needs privileges on kernels before 5.11).
    if (err == 0 || (err != -EINVAL && !(flags & IORING_SETUP_SQPOLL))) break;
  }
  if (err < 0) return IoUringUnavailable(SetupFailure(-err));

  features->sq_entries = ring->sq.ring_entries;
  features->cq_entries = ring->cq.ring_entries;
  features->sqpoll = flags & IORING_SETUP_SQPOLL;
  features->coop_taskrun = flags & IORING_SETUP_COOP_TASKRUN;
  features->submit_all = flags & IORING_SETUP_SUBMIT_ALL;
  features->ext_arg = ring->features & IORING_FEAT_EXT_ARG;
  features->fast_poll = ring->features & IORING_FEAT_FAST_POLL;

  absl::Status refused;
  if (!(ring->features & IORING_FEAT_NODROP)) {
    refused = IoUringUnavailable(
        "the kernel lacks IORING_FEAT_NODROP (Linux < 5.5), so completions "
        "could be lost when the completion queue is full");
  }
  io_uring_probe* probe =
      refused.ok() ? io_uring_get_probe_ring(ring) : nullptr;
  if (refused.ok() && probe == nullptr) {
    refused = IoUringUnavailable(
        "io_uring_get_probe failed (Linux < 5.6 cannot report its opcodes)");
  }
  if (probe != nullptr) {
    for (const NeededOp& op : kNeededOps) {
      if (!io_uring_opcode_supported(probe, op.opcode)) {
        refused = IoUringUnavailable(
            absl::StrCat("the kernel lacks ", op.name, " (needs Linux 5.6+)"));
        break;
      }
    }
    features->multishot_accept =
        io_uring_opcode_supported(probe, IORING_OP_SOCKET);
    features->multishot_recv =
        io_uring_opcode_supported(probe, IORING_OP_SEND_ZC);
    // Test switch: the path operations as on a kernel without them.
    if (!EnvSwitch("POLYIO_IO_URING_NO_PATH_OPS")) {
      features->openat = io_uring_opcode_supported(probe, IORING_OP_OPENAT);
      features->statx = io_uring_opcode_supported(probe, IORING_OP_STATX);
      features->renameat = io_uring_opcode_supported(probe, IORING_OP_RENAMEAT);
      features->unlinkat = io_uring_opcode_supported(probe, IORING_OP_UNLINKAT);
      features->mkdirat = io_uring_opcode_supported(probe, IORING_OP_MKDIRAT);
    }
    features->waitid = io_uring_opcode_supported(probe, kIoRingOpWaitId);
    io_uring_free_probe(probe);
  }
  if (!refused.ok()) {
    io_uring_queue_exit(ring);
    return refused;
  }

  features->cancel_fd = ProbeCancelFd(ring);
  if (options.modern_features) {
    features->provided_buffer_ring = ProbeBufferRing(ring);
    features->registered_files = ProbeRegisteredFiles(ring);
    // The ring's own fd is not registered (io_uring_register_ring_fd):
    // the registration belongs to the registering thread, and a driver may
    // be created on one thread and run on another (Runtime::BlockOn from
    // any thread); io_uring_enter from another thread then fails with
    // EINVAL. It would save one fget/fput per io_uring_enter, i.e. per turn.
  } else {
    features->multishot_accept = features->multishot_recv = false;
    features->waitid = false;
  }
  return absl::OkStatus();
}

std::string IoUringFeatures::ToString() const {
  std::string out = absl::StrCat("sq=", sq_entries, " cq=", cq_entries);
  auto flag = [&out](bool on, const char* name) {
    if (on) absl::StrAppend(&out, " ", name);
  };
  flag(sqpoll, "sqpoll");
  flag(coop_taskrun, "coop_taskrun");
  flag(submit_all, "submit_all");
  flag(registered_ring_fd, "registered_ring_fd");
  flag(cancel_fd, "cancel_fd");
  flag(ext_arg, "ext_arg");
  flag(fast_poll, "fast_poll");
  flag(openat, "openat");
  flag(statx, "statx");
  flag(renameat, "renameat");
  flag(unlinkat, "unlinkat");
  flag(mkdirat, "mkdirat");
  flag(waitid, "waitid");
  absl::StrAppend(&out, " | probed:");
  flag(multishot_accept, "multishot_accept");
  flag(multishot_recv, "multishot_recv");
  flag(provided_buffer_ring, "provided_buffer_ring");
  flag(registered_files, "registered_files");
  return out;
}

}  // namespace polyio
