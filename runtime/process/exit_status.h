// ExitStatus: how a child process ended — an exit code, or the signal that
// killed it.
//
//   ExitStatus s = *co_await child.Wait();
//   if (s.success()) ...                 // exited with code 0
//   if (s.code()) ...                    // exited: *s.code()
//   if (s.signal()) ...                  // killed: *s.signal() (SIGKILL, ...)
//   puts(s.ToString().c_str());          // "exit code 1", "killed by SIGKILL"
//
// A value type; thread-compatible.
#ifndef POLYIO_RUNTIME_PROCESS_EXIT_STATUS_H_
#define POLYIO_RUNTIME_PROCESS_EXIT_STATUS_H_

#include <optional>
#include <string>

namespace polyio {

class ExitStatus {
 public:
  static ExitStatus Exited(int code) { return ExitStatus(true, code, false); }
  static ExitStatus Killed(int signo, bool core_dumped = false) {
    return ExitStatus(false, signo, core_dumped);
  }

  // Exited with code 0.
  bool success() const { return exited_ && value_ == 0; }
  // The exit code (0..255), if the child exited.
  std::optional<int> code() const {
    return exited_ ? std::optional<int>(value_) : std::nullopt;
  }
  // The signal that ended the child, if one did.
  std::optional<int> signal() const {
    return exited_ ? std::nullopt : std::optional<int>(value_);
  }
  bool core_dumped() const { return core_dumped_; }

  // "exit code 3", "killed by SIGTERM", "killed by SIGSEGV (core dumped)".
  std::string ToString() const;

  bool operator==(const ExitStatus& other) const = default;

 private:
  ExitStatus(bool exited, int value, bool core)
      : exited_(exited), value_(value), core_dumped_(core) {}

  bool exited_;
  int value_;
  bool core_dumped_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_PROCESS_EXIT_STATUS_H_
