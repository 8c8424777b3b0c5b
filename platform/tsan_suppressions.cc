// ThreadSanitizer's suppressions for the whole project, in one place: the
// runtime looks for one `__tsan_default_suppressions` per process, so every
// entry lives here, in an object linked into everything that links
// //platform. Each entry names a library built without TSan, never our code.

#if defined(__SANITIZE_THREAD__)
#define POLYIO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define POLYIO_TSAN 1
#endif
#endif

#if defined(POLYIO_TSAN)
// - libkqueue, the kqueue emulation used on Linux, watches each kqueue fd
//   from its own monitor thread and calls epoll_ctl on it, racing with the
//   close() that ends the kqueue: that is how the emulation notices a closed
//   kqueue (there, the kqueue fd is not a kernel object). Native kqueue has
//   no such thread.
// - Debian's Abseil is built without TSan. A race was reported once inside
//   absl's StrError (reached from absl::ErrnoToStatus, two threads turning an
//   errno into a Status at once), in code TSan sees only through glibc's
//   strerror_r interceptor; our code shares nothing there. Matched by the
//   library's name: Debian's Abseil has an inline namespace
//   (absl::debian3::base_internal::StrError), so the function pattern
//   "absl::base_internal::StrError" missed it (CI, TSan, http_hello_test_poll
//   on the multi-thread runtime, 2026-12-02).
extern "C" const char* __tsan_default_suppressions() {
  return "race:libkqueue.so\n"
         "race:libabsl_strerror.so\n"
         "race:base_internal::StrError\n";
}
#endif
