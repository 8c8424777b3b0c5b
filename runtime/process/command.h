// Command: a builder of child processes, as tokio's (and Rust std's).
//
//   absl::StatusOr<Child> child = Command("/bin/cat")
//                                     .Arg("-u")
//                                     .Stdin(Stdio::Piped())
//                                     .Stdout(Stdio::Piped())
//                                     .Spawn();
//   absl::StatusOr<ProcessOutput> out =
//       co_await Command("ls").Args({"-l", "/"}).Output();
//
// - The program: a path (anything with a '/', relative to the child's
//   working directory), or a name searched in the PATH of the child's
//   environment (the Command's PATH if it sets one, else the process's).
//   It is also argv[0].
// - Environment: the process's, with Env(k, v) set, EnvRemove(k) removed,
//   or none after EnvClear() (then only what Env sets).
// - CurrentDir(d): the child's working directory (posix_spawn's chdir
//   action, before exec).
// - Stdin/Stdout/Stderr: Stdio::Inherit() (the parent's), Null()
//   (/dev/null), Piped() (a pipe whose other end the Child holds:
//   Child::TakeStdin() etc.) or Fd(n) (a copy of the caller's fd n; the
//   caller keeps n). Unset, Spawn inherits all three; Output() uses null
//   stdin and piped stdout and stderr.
// - KillOnDrop(true): destroying the Child of a child still running sends
//   it SIGKILL. The default is not to (tokio's default): it runs on, and
//   polyio's reaper collects its exit so that no zombie is left.
//
// Spawning is posix_spawn (glibc's uses clone(CLONE_VM | CLONE_VFORK) and
// returns the exec's error, docs/signals.md); the calling thread waits only
// until the child has exec'd. The child starts with an empty signal mask
// and SIGPIPE at its default, whatever the parent blocks or ignores, and
// gets no fd but its three stdio ones (and the caller's own fds that are
// not close-on-exec — polyio opens every fd close-on-exec).
//
// Errors name the program and what failed, and leave nothing behind (no
// fd, no process): "spawn /no/such: No such file or directory" (NotFound),
// "spawn /etc/passwd: Permission denied", "spawn /bin/true: working
// directory /no/such: No such file or directory", "spawn frob: not found
// in PATH (/usr/bin:/bin)"; an empty program or a NUL byte in an argument
// is InvalidArgument.
//
// Thread-compatible. Spawn needs no runtime (the Child's futures do);
// Output() returns a task to await in one.
#ifndef POLYIO_RUNTIME_PROCESS_COMMAND_H_
#define POLYIO_RUNTIME_PROCESS_COMMAND_H_

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/process/child.h"
#include "runtime/task/task.h"

namespace polyio {

// Where one of the child's stdin, stdout and stderr goes.
class Stdio {
 public:
  enum class Kind { kInherit, kNull, kPiped, kFd };

  static Stdio Inherit() { return Stdio(Kind::kInherit, -1); }
  static Stdio Null() { return Stdio(Kind::kNull, -1); }
  static Stdio Piped() { return Stdio(Kind::kPiped, -1); }
  // The child gets a copy of `fd` (dup2); the caller keeps `fd` and must
  // keep it open until Spawn returns.
  static Stdio Fd(int fd) { return Stdio(Kind::kFd, fd); }

  Kind kind() const { return kind_; }
  int fd() const { return fd_; }

 private:
  Stdio(Kind kind, int fd) : kind_(kind), fd_(fd) {}
  Kind kind_;
  int fd_;
};

namespace internal {

struct Spawned;

// Everything a Command says, for the spawner (spawn.h).
struct CommandSpec {
  std::string program;
  std::vector<std::string> args;  // after argv[0]
  bool env_clear = false;
  // Key -> value; nullopt: removed.
  std::map<std::string, std::optional<std::string>, std::less<>> env;
  std::optional<std::string> dir;
  // Unset: the default of the call (Spawn or Output).
  std::optional<Stdio> stdio[3];
  bool kill_on_drop = false;
};

}  // namespace internal

class Command {
 public:
  explicit Command(std::string program) { spec_.program = std::move(program); }

  Command& Arg(std::string_view arg) {
    spec_.args.emplace_back(arg);
    return *this;
  }
  Command& Args(std::initializer_list<std::string_view> args) {
    for (std::string_view a : args) spec_.args.emplace_back(a);
    return *this;
  }
  Command& Args(absl::Span<const std::string> args) {
    for (const std::string& a : args) spec_.args.push_back(a);
    return *this;
  }
  Command& Env(std::string_view key, std::string_view value) {
    spec_.env.insert_or_assign(std::string(key), std::string(value));
    return *this;
  }
  Command& EnvRemove(std::string_view key) {
    spec_.env.insert_or_assign(std::string(key), std::nullopt);
    return *this;
  }
  // Starts from an empty environment; earlier Env calls still apply.
  Command& EnvClear() {
    spec_.env_clear = true;
    return *this;
  }
  Command& CurrentDir(std::string_view dir) {
    spec_.dir = std::string(dir);
    return *this;
  }
  Command& Stdin(Stdio s) {
    spec_.stdio[0] = s;
    return *this;
  }
  Command& Stdout(Stdio s) {
    spec_.stdio[1] = s;
    return *this;
  }
  Command& Stderr(Stdio s) {
    spec_.stdio[2] = s;
    return *this;
  }
  Command& KillOnDrop(bool kill) {
    spec_.kill_on_drop = kill;
    return *this;
  }

  // Starts the child (stdio unset: inherited).
  absl::StatusOr<Child> Spawn() const;

  // Runs the child to completion, collecting what it writes to stdout and
  // stderr (unset stdio: null stdin, piped stdout and stderr; a piped
  // stdin is closed at once). The task owns a copy of the Command. Not
  // cancel-safe: cancelled, it drops the output read so far and the Child
  // (KillOnDrop decides whether the child is killed; it is reaped either
  // way).
  Task<absl::StatusOr<ProcessOutput>> Output() const;

  const internal::CommandSpec& spec() const { return spec_; }

 private:
  static Child MakeChild(internal::Spawned&& spawned);
  static Task<absl::StatusOr<ProcessOutput>> RunToOutput(
      internal::CommandSpec spec);

  internal::CommandSpec spec_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_PROCESS_COMMAND_H_
