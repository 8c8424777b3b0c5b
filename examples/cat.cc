// cat: files, or stdin, to stdout through polyio — cat(1) on File, Pipe and
// the bufio helpers.
//
//   cat FILE...     each FILE in turn; "-" (or no FILE at all) is stdin
//   cat: open /no/such: No such file or directory
//
// - A FILE is read with File::ReadAt (io_uring: READ SQEs; elsewhere the
//   blocking pool), stdin with PipeReader::Stdin and Copy when it is a pipe
//   or socket, else (a terminal, a file) with read(2) on the blocking pool.
// - stdout is a PipeWriter (PipeWriter::Stdout) when it is a pipe, FIFO,
//   socket, regular file or /dev/null. A terminal cannot be one (making it
//   non-blocking would change it for the shell too, runtime/pipe/pipe.h),
//   so on a terminal each write goes to the blocking pool (SpawnBlocking).
// - A FILE that cannot be read is reported and skipped, and cat exits 1 at
//   the end, as cat(1) does; an error copying stdin ends cat. A reader that
//   goes away (cat big | head -c 1) ends cat with "cat: write stdout: Broken
//   pipe" and exit 1: never SIGPIPE.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "polyio.h"

namespace {

using polyio::File;
using polyio::PipeReader;
using polyio::PipeWriter;
using polyio::Task;

constexpr size_t kChunk = 64 * 1024;

// stdout: a PipeWriter, or plain write(2) calls on the blocking pool for a
// terminal.
class Output {
 public:
  explicit Output(std::optional<PipeWriter> pipe) : pipe_(std::move(pipe)) {}

  Task<absl::Status> WriteAll(absl::Span<const char> data) {
    if (pipe_) co_return co_await pipe_->WriteAll(data);
    std::string copy(data.data(), data.size());  // the job owns its bytes
    co_return co_await polyio::SpawnBlocking([copy]() -> absl::Status {
      for (size_t done = 0; done < copy.size();) {
        ssize_t n =
            ::write(STDOUT_FILENO, copy.data() + done, copy.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return absl::ErrnoToStatus(errno, "write stdout");
        done += static_cast<size_t>(n);
      }
      return absl::OkStatus();
    });
  }

  PipeWriter* pipe() { return pipe_ ? &*pipe_ : nullptr; }

 private:
  std::optional<PipeWriter> pipe_;
};

// An error of the output ends cat; one of an input only skips it.
struct CopyError {
  absl::Status status;
  bool output = false;
};

Task<CopyError> CopyFile(const std::string& path, Output* out) {
  absl::StatusOr<File> file = co_await File::Open(path, O_RDONLY);
  if (!file.ok()) co_return CopyError{file.status()};
  std::vector<char> buf(kChunk);
  for (uint64_t offset = 0;;) {
    absl::StatusOr<size_t> n =
        co_await file->ReadAt(absl::MakeSpan(buf), offset);
    if (!n.ok()) co_return CopyError{n.status()};
    if (*n == 0) co_return CopyError{};
    absl::Status w =
        co_await out->WriteAll(absl::MakeConstSpan(buf.data(), *n));
    if (!w.ok()) co_return CopyError{w, /*output=*/true};
    offset += *n;
  }
}

// stdin that cannot be a PipeReader (a terminal, a regular file):
// read(2) on the blocking pool.
Task<CopyError> CopyStdinBlocking(Output* out) {
  for (;;) {
    absl::StatusOr<std::string> chunk =
        co_await polyio::SpawnBlocking([]() -> absl::StatusOr<std::string> {
          std::string buf(kChunk, '\0');
          ssize_t n;
          do {
            n = ::read(STDIN_FILENO, buf.data(), buf.size());
          } while (n < 0 && errno == EINTR);
          if (n < 0) return absl::ErrnoToStatus(errno, "read stdin");
          buf.resize(static_cast<size_t>(n));
          return buf;
        });
    if (!chunk.ok()) co_return CopyError{chunk.status(), /*output=*/true};
    if (chunk->empty()) co_return CopyError{};
    absl::Status w = co_await out->WriteAll(absl::MakeConstSpan(*chunk));
    if (!w.ok()) co_return CopyError{w, /*output=*/true};
  }
}

Task<CopyError> CopyStdin(Output* out) {
  absl::StatusOr<PipeReader> in = PipeReader::Stdin();
  if (absl::IsInvalidArgument(in.status())) {
    co_return co_await CopyStdinBlocking(out);
  }
  if (!in.ok()) co_return CopyError{in.status(), /*output=*/true};
  if (PipeWriter* pipe = out->pipe()) {
    absl::StatusOr<uint64_t> n = co_await polyio::Copy(*in, *pipe);
    // Copy's error says which side failed only in its text, so either ends
    // cat (a failing stdin is rare; stdin comes once anyway).
    if (!n.ok()) co_return CopyError{n.status(), /*output=*/true};
    co_return CopyError{};
  }
  std::vector<char> buf(kChunk);
  for (;;) {
    absl::StatusOr<size_t> n = co_await in->Read(absl::MakeSpan(buf));
    if (!n.ok()) co_return CopyError{n.status()};
    if (*n == 0) co_return CopyError{};
    absl::Status w =
        co_await out->WriteAll(absl::MakeConstSpan(buf.data(), *n));
    if (!w.ok()) co_return CopyError{w, /*output=*/true};
  }
}

Task<int> Cat(std::vector<std::string> paths) {
  absl::StatusOr<PipeWriter> stdout_pipe = PipeWriter::Stdout();
  Output out(stdout_pipe.ok()
                 ? std::optional<PipeWriter>(std::move(*stdout_pipe))
                 : std::nullopt);
  if (paths.empty()) paths.push_back("-");
  int code = 0;
  for (const std::string& path : paths) {
    CopyError e;  // (not a ?: of two co_awaits: g++ 12 miscompiles that)
    if (path == "-") {
      e = co_await CopyStdin(&out);
    } else {
      e = co_await CopyFile(path, &out);
    }
    if (e.status.ok()) continue;
    std::fprintf(stderr, "cat: %s\n", std::string(e.status.message()).c_str());
    code = 1;
    if (e.output) break;
  }
  co_return code;
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<std::unique_ptr<polyio::Runtime>> rt =
      polyio::Runtime::Create();
  if (!rt.ok()) {
    std::fprintf(stderr, "cat: %s\n", rt.status().ToString().c_str());
    return 1;
  }
  return (*rt)->BlockOn(Cat(std::vector<std::string>(argv + 1, argv + argc)));
}
