// IoUringBackend::Create where a seccomp filter denies io_uring_setup, as
// default container profiles do: a clear Unavailable status, not a crash.
// The filter goes into a forked child (it cannot be removed once
// installed), built with libc/kernel headers only.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <string>

#include "backends/io_uring/io_uring_backend.h"
#include "gtest/gtest.h"

namespace polyio {
namespace {

#if defined(__x86_64__)
constexpr uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kArch = AUDIT_ARCH_AARCH64;
#else
#error "seccomp_test: add this architecture's AUDIT_ARCH_*"
#endif

// Makes io_uring_setup fail with `err`; every other syscall is allowed.
bool DenyIoUringSetup(int err) {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(
          BPF_RET | BPF_K,
          SECCOMP_RET_ERRNO | (static_cast<uint32_t>(err) & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0]));
  prog.filter = filter;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

// In a child: deny io_uring_setup with `err`, call Create, and exit 0 only
// if it failed with Unavailable and a message containing every `want`.
int CreateUnderFilter(int err, std::initializer_list<const char*> want) {
  pid_t pid = fork();
  if (pid == 0) {
    if (!DenyIoUringSetup(err)) {
      std::perror("seccomp");
      _exit(2);
    }
    absl::StatusOr<std::unique_ptr<IoUringBackend>> b =
        IoUringBackend::Create(BackendOptions{});
    if (b.ok()) _exit(3);
    std::string message(b.status().message());
    std::fprintf(stderr, "child got: %s\n", b.status().ToString().c_str());
    if (b.status().code() != absl::StatusCode::kUnavailable) _exit(4);
    for (const char* w : want) {
      if (message.find(w) == std::string::npos) _exit(5);
    }
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

TEST(IoUringSeccomp, EpermSaysSeccompAndHowToChooseAnotherBackend) {
  EXPECT_EQ(CreateUnderFilter(EPERM, {"io_uring unavailable: io_uring_setup: ",
                                      "Operation not permitted", "seccomp",
                                      "--config=epoll or --config=auto"}),
            0);
}

TEST(IoUringSeccomp, EnosysSaysSeccompOrNoKernelSupport) {
  EXPECT_EQ(CreateUnderFilter(ENOSYS, {"io_uring_setup: ", "seccomp",
                                       "--config=epoll or --config=auto"}),
            0);
}

}  // namespace
}  // namespace polyio
