#include "runtime/process/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/pipe/pipe.h"
#include "runtime/signal/signal.h"
#include "runtime/signal/signal_registry.h"

extern char** environ;

namespace polyio::internal {
namespace {

constexpr char kDefaultPath[] = "/usr/bin:/bin";

bool HasNul(std::string_view s) {
  return s.find('\0') != std::string_view::npos;
}

absl::Status CheckInput(const CommandSpec& spec) {
  if (spec.program.empty()) {
    return absl::InvalidArgumentError("spawn: the program is empty");
  }
  if (HasNul(spec.program)) {
    return absl::InvalidArgumentError("spawn: the program contains a NUL byte");
  }
  for (size_t i = 0; i < spec.args.size(); ++i) {
    if (HasNul(spec.args[i])) {
      return absl::InvalidArgumentError(absl::StrCat("spawn ", spec.program,
                                                     ": argument ", i + 1,
                                                     " contains a NUL byte"));
    }
  }
  for (const auto& [key, value] : spec.env) {
    if (key.empty() || key.find('=') != std::string::npos || HasNul(key) ||
        (value && HasNul(*value))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "spawn ", spec.program, ": bad environment variable \"", key,
          "\" (a name must be non-empty, without '=' or NUL bytes)"));
    }
  }
  if (spec.dir && (spec.dir->empty() || HasNul(*spec.dir))) {
    return absl::InvalidArgumentError(
        absl::StrCat("spawn ", spec.program,
                     ": the working directory is empty or has a NUL byte"));
  }
  for (const std::optional<Stdio>& s : spec.stdio) {
    if (s && s->kind() == Stdio::Kind::kFd && s->fd() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "spawn ", spec.program, ": Stdio::Fd(", s->fd(), ") is not an fd"));
    }
  }
  return absl::OkStatus();
}

// The PATH the child will have.
std::string ChildPath(const CommandSpec& spec) {
  auto it = spec.env.find(std::string_view("PATH"));
  if (it != spec.env.end()) return it->second ? *it->second : kDefaultPath;
  if (!spec.env_clear) {
    if (const char* path = std::getenv("PATH")) return path;
  }
  return kDefaultPath;
}

// The file to exec: the program itself if it names a path, else the first
// executable regular file of that name in the child's PATH (as execvp
// searches, but in the parent, so that a miss is an error that says so).
absl::StatusOr<std::string> ResolveProgram(const CommandSpec& spec) {
  if (spec.program.find('/') != std::string::npos) return spec.program;
  const std::string path = ChildPath(spec);
  bool denied = false;
  std::string_view rest = path;
  for (;;) {
    size_t colon = rest.find(':');
    std::string_view dir = rest.substr(0, colon);
    std::string candidate(dir.empty() ? std::string_view(".") : dir);
    candidate += '/';
    candidate += spec.program;
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
      denied = true;
    }
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  if (denied) {
    return absl::ErrnoToStatus(EACCES, absl::StrCat("spawn ", spec.program));
  }
  return absl::NotFoundError(
      absl::StrCat("spawn ", spec.program, ": not found in PATH (", path, ")"));
}

// The environment block, or null for "the process's own" (nothing changed).
char** BuildEnvironment(const CommandSpec& spec,
                        std::vector<std::string>* storage,
                        std::vector<char*>* pointers) {
  if (!spec.env_clear && spec.env.empty()) return environ;
  if (!spec.env_clear) {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      std::string_view entry(*e);
      std::string_view key = entry.substr(0, entry.find('='));
      if (spec.env.find(key) != spec.env.end()) continue;  // replaced/removed
      storage->emplace_back(entry);
    }
  }
  for (const auto& [key, value] : spec.env) {
    if (value) storage->push_back(absl::StrCat(key, "=", *value));
  }
  for (std::string& s : *storage) pointers->push_back(s.data());
  pointers->push_back(nullptr);
  return pointers->data();
}

// posix_spawn's two attribute objects, destroyed with the scope.
class SpawnActions {
 public:
  SpawnActions() {
    actions_ok_ = posix_spawn_file_actions_init(&actions_) == 0;
    attr_ok_ = posix_spawnattr_init(&attr_) == 0;
  }
  ~SpawnActions() {
    if (actions_ok_) posix_spawn_file_actions_destroy(&actions_);
    if (attr_ok_) posix_spawnattr_destroy(&attr_);
  }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;

  bool ok() const { return actions_ok_ && attr_ok_; }
  posix_spawn_file_actions_t* actions() { return &actions_; }
  posix_spawnattr_t* attr() { return &attr_; }

 private:
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
  bool actions_ok_ = false;
  bool attr_ok_ = false;
};

// The error of a failed posix_spawn, naming the working directory when it
// is the directory that is wrong (chdir runs in the child, and its errno
// alone cannot say which of the two failed).
absl::Status SpawnError(const CommandSpec& spec, int err) {
  if (spec.dir) {
    const std::string what =
        absl::StrCat("spawn ", spec.program, ": working directory ", *spec.dir);
    struct stat st;
    if (::stat(spec.dir->c_str(), &st) != 0) {
      return absl::ErrnoToStatus(errno, what);
    }
    if (!S_ISDIR(st.st_mode)) return absl::ErrnoToStatus(ENOTDIR, what);
    if (::access(spec.dir->c_str(), X_OK) != 0) {
      return absl::ErrnoToStatus(errno, what);
    }
  }
  return absl::ErrnoToStatus(err, absl::StrCat("spawn ", spec.program));
}

}  // namespace

absl::StatusOr<Spawned> SpawnProcess(const CommandSpec& spec,
                                     const Stdio (&defaults)[3]) {
  absl::Status valid = CheckInput(spec);
  if (!valid.ok()) return valid;
  absl::StatusOr<std::string> path = ResolveProgram(spec);
  if (!path.ok()) return path.status();

  std::vector<std::string> argv_storage;
  argv_storage.reserve(spec.args.size() + 1);
  argv_storage.push_back(spec.program);
  for (const std::string& a : spec.args) argv_storage.push_back(a);
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage;
  std::vector<char*> env_pointers;
  char** envp = BuildEnvironment(spec, &env_storage, &env_pointers);

  SpawnActions spawn;
  if (!spawn.ok()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("spawn ", spec.program, ": posix_spawn attributes"));
  }
  Spawned result;
  // Fds the child gets copies of; closed here once it has them.
  std::vector<UniqueFd> for_child;
  for (int i = 0; i < 3; ++i) {
    const Stdio s = spec.stdio[i].value_or(defaults[i]);
    int source = -1;
    switch (s.kind()) {
      case Stdio::Kind::kInherit:
        continue;
      case Stdio::Kind::kNull: {
        int r = posix_spawn_file_actions_addopen(
            spawn.actions(), i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
        if (r != 0) {
          return absl::ErrnoToStatus(
              r, absl::StrCat("spawn ", spec.program, ": /dev/null"));
        }
        continue;
      }
      case Stdio::Kind::kPiped: {
        UniqueFd ends[2];
        absl::Status made = MakePipe(ends);
        if (!made.ok()) {
          return absl::Status(made.code(), absl::StrCat("spawn ", spec.program,
                                                        ": ", made.message()));
        }
        // stdin: the child reads [0]; stdout, stderr: the child writes [1].
        const int child_end = i == 0 ? 0 : 1;
        source = ends[child_end].get();
        for_child.push_back(std::move(ends[child_end]));
        result.pipes[i] = std::move(ends[1 - child_end]);
        break;
      }
      case Stdio::Kind::kFd:
        source = s.fd();
        break;
    }
    // A source among 0..2 would be overwritten by the action for that
    // number if it comes first: give the child a copy above 2 instead.
    // (A source equal to its target is fine: glibc then only clears its
    // close-on-exec flag in the child.)
    if (source <= 2 && source != i) {
      UniqueFd copy(fcntl(source, F_DUPFD_CLOEXEC, 3));
      if (!copy) {
        return absl::ErrnoToStatus(
            errno, absl::StrCat("spawn ", spec.program, ": fcntl F_DUPFD fd ",
                                source));
      }
      source = copy.get();
      for_child.push_back(std::move(copy));
    }
    int r = posix_spawn_file_actions_adddup2(spawn.actions(), source, i);
    if (r != 0) {
      return absl::ErrnoToStatus(
          r, absl::StrCat("spawn ", spec.program, ": dup2 fd ", source));
    }
  }
  if (spec.dir) {
#if defined(__GLIBC__) || defined(__APPLE__) || defined(__FreeBSD__)
    int r = posix_spawn_file_actions_addchdir_np(spawn.actions(),
                                                 spec.dir->c_str());
    if (r != 0) return SpawnError(spec, r);
#else
    return absl::UnimplementedError(absl::StrCat(
        "spawn ", spec.program,
        ": a working directory needs posix_spawn_file_actions_addchdir_np"));
#endif
  }
  // The child starts clean whatever this process blocks (a program that
  // blocked SIGTERM for a signalfd, say) and with SIGPIPE at its default
  // even if this process ignores it, as Rust's std and Python do. Also at
  // their default: the signals that kqueue builds set to SIG_IGN while a
  // SignalStream listens (signal_registry.h). A child would inherit that,
  // and a `sleep` spawned while the program listened for SIGTERM ignored
  // Kill(SIGTERM).
  sigset_t empty;
  sigemptyset(&empty);
  sigset_t defaults_set;
  sigemptyset(&defaults_set);
  sigaddset(&defaults_set, SIGPIPE);
  internal::SignalRegistry::Get().AddOwnIgnores(&defaults_set);
  if (posix_spawnattr_setsigmask(spawn.attr(), &empty) != 0 ||
      posix_spawnattr_setsigdefault(spawn.attr(), &defaults_set) != 0 ||
      posix_spawnattr_setflags(
          spawn.attr(), POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) != 0) {
    return absl::InternalError(
        absl::StrCat("spawn ", spec.program, ": posix_spawnattr"));
  }

  // Watching the exit: a SIGCHLD stream exists before the child does, so
  // its exit cannot come first — unless the backend sees exits natively
  // (kqueue's EVFILT_PROC, which reports an exit that came before too) and
  // the SIGCHLD path is not forced. The pidfd, where there is one, is kept
  // either way: Kill and the reaper use it.
  const bool pidfds = UsePidfds();
  const bool native_exit =
      BackendHasNativeProcExit<Backend> && !SigchldForced();
  std::optional<SignalStream> sigchld;
  if (!pidfds && !native_exit) {
    absl::StatusOr<SignalStream> s = Signal(SIGCHLD);
    if (!s.ok()) return s.status();
    sigchld = std::move(*s);
  }

  pid_t pid = -1;
  int r = posix_spawn(&pid, path->c_str(), spawn.actions(), spawn.attr(),
                      argv.data(), envp);
  for_child.clear();
  if (r != 0) return SpawnError(spec, r);

  UniqueFd pidfd;
  if (pidfds) {
    pidfd.Reset(PidfdOpen(pid));
    if (!pidfd) {
      // Out of fds, most likely. Do not leave a child nobody watches.
      const int err = errno;
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      return absl::ErrnoToStatus(
          err, absl::StrCat("spawn ", spec.program, ": pidfd_open"));
    }
  }
  result.state =
      std::make_shared<ChildState>(pid, spec.program, spec.kill_on_drop,
                                   std::move(pidfd), std::move(sigchld));
  return result;
}

}  // namespace polyio::internal
