// Raw system calls for the data path: recv, send, read and write without
// libc's wrappers, returning what the kernel returns — a count, or -errno.
//
// Why. glibc's recv, send, read and write are cancellation points: in a
// process with more than one thread each call is wrapped in
// __pthread_enable_asynccancel / __pthread_disable_asynccancel, which cost
// more user-space instructions than everything else a readiness backend
// does to move one message (callgrind, tools/bench --instr: ~80
// instructions per call, ~60 of them the wrapper). polyio never uses
// pthread_cancel (a thread cancelled inside a backend would leave its state
// half-changed anyway), and the kernel's -errno is the very result the
// backend contract wants, without the errno round trip.
//
// Where. Linux on x86-64 and AArch64. Everywhere else, and in sanitizer
// builds, these call the libc functions: ASan checks the buffers in its
// interceptors, and TSan models the happens-before a byte carries through a
// socket there; a raw syscall would hide both.
//
// Thread-safe: each call is a system call.
#ifndef POLYIO_PLATFORM_RAW_SYSCALL_H_
#define POLYIO_PLATFORM_RAW_SYSCALL_H_

#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define POLYIO_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define POLYIO_SANITIZED 1
#endif

#if defined(__linux__) && !defined(POLYIO_SANITIZED) && \
    (defined(__x86_64__) || defined(__aarch64__))
#define POLYIO_RAW_SYSCALLS 1
#endif

namespace polyio::sys {

#if defined(POLYIO_RAW_SYSCALLS)

inline long Syscall6(long n, long a1, long a2, long a3, long a4, long a5,
                     long a6) {
#if defined(__x86_64__)
  long ret;
  register long r10 __asm__("r10") = a4;
  register long r8 __asm__("r8") = a5;
  register long r9 __asm__("r9") = a6;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8),
                     "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
#else  // __aarch64__
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a1;
  register long x1 __asm__("x1") = a2;
  register long x2 __asm__("x2") = a3;
  register long x3 __asm__("x3") = a4;
  register long x4 __asm__("x4") = a5;
  register long x5 __asm__("x5") = a6;
  __asm__ volatile("svc 0"
                   : "+r"(x0)
                   : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                   : "memory", "cc");
  return x0;
#endif
}

inline long Recv(int fd, void* buf, size_t len, int flags) {
  return Syscall6(SYS_recvfrom, fd, reinterpret_cast<long>(buf),
                  static_cast<long>(len), flags, 0, 0);
}
inline long Send(int fd, const void* buf, size_t len, int flags) {
  return Syscall6(SYS_sendto, fd, reinterpret_cast<long>(buf),
                  static_cast<long>(len), flags, 0, 0);
}
inline long Read(int fd, void* buf, size_t len) {
  return Syscall6(SYS_read, fd, reinterpret_cast<long>(buf),
                  static_cast<long>(len), 0, 0, 0);
}
inline long Write(int fd, const void* buf, size_t len) {
  return Syscall6(SYS_write, fd, reinterpret_cast<long>(buf),
                  static_cast<long>(len), 0, 0, 0);
}

#else  // the libc wrappers, with the same result convention

inline long FromLibc(long r) { return r >= 0 ? r : -errno; }
inline long Recv(int fd, void* buf, size_t len, int flags) {
  return FromLibc(::recv(fd, buf, len, flags));
}
inline long Send(int fd, const void* buf, size_t len, int flags) {
  return FromLibc(::send(fd, buf, len, flags));
}
inline long Read(int fd, void* buf, size_t len) {
  return FromLibc(::read(fd, buf, len));
}
inline long Write(int fd, const void* buf, size_t len) {
  return FromLibc(::write(fd, buf, len));
}

#endif

}  // namespace polyio::sys

#endif  // POLYIO_PLATFORM_RAW_SYSCALL_H_
