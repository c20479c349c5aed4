// File: tests/testutil/tool_runner.cc
#include "testutil/tool_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

extern "C" char** environ;

namespace boltpp::testing {

namespace {

// The inherited environment with the "K=V" overrides applied.
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& overrides) {
  auto key_of = [](std::string_view kv) { return kv.substr(0, kv.find('=') + 1); };
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    bool overridden = false;
    for (const auto& o : overrides) overridden = overridden || key_of(o) == key_of(*e);
    if (!overridden) out.emplace_back(*e);
  }
  out.insert(out.end(), overrides.begin(), overrides.end());
  return out;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// In the child, after fork: async-signal-safe calls only. Never returns.
[[noreturn]] void ExecChild(pid_t parent, const char* stdin_path, const char* cwd, int out_fd,
                            int err_fd, char** argv, char** envp) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  const int in = ::open(stdin_path, O_RDONLY);
  if (in < 0) ::_exit(126);
  ::dup2(in, 0);
  ::dup2(out_fd, 1);
  ::dup2(err_fd, 2);
  if (::chdir(cwd) != 0) ::_exit(126);
  if (std::string_view(argv[0]).find('/') == std::string_view::npos) {
    ::execvpe(argv[0], argv, envp);
  } else {
    ::execve(argv[0], argv, envp);
  }
  ::_exit(127);
}

// Reads both pipes until they close or the deadline passes (then false).
// Closes both descriptors in every case.
bool Drain(int out_fd, int err_fd, ToolResult* r, std::chrono::steady_clock::time_point deadline,
           bool has_deadline) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* bufs[2] = {&r->out, &r->err};
  int open_fds = 2;
  char buf[65536];
  bool in_time = true;
  while (open_fds > 0) {
    int wait_ms = -1;
    if (has_deadline) {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::milliseconds(0)) {
        in_time = false;
        break;
      }
      wait_ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
    }
    const int n = ::poll(fds, 2, wait_ms);
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; n > 0 && i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t got = ::read(fds[i].fd, buf, sizeof(buf));
      if (got > 0) {
        bufs[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (const pollfd& p : fds) {
    if (p.fd >= 0) ::close(p.fd);
  }
  return in_time;
}

}  // namespace

ToolResult RunTool(const std::string& binary, const std::vector<std::string>& args,
                   const ToolRunOptions& opts) {
  ToolResult r;
  std::vector<std::string> argv_store{binary};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<std::string> env_store = ChildEnvironment(opts.env);
  std::vector<char*> argv = Pointers(argv_store);
  std::vector<char*> envp = Pointers(env_store);
  const std::string stdin_path = opts.stdin_file.empty() ? "/dev/null" : opts.stdin_file;

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return r;
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return r;
  }
  const auto deadline = std::chrono::steady_clock::now() + opts.timeout;
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ExecChild(parent, stdin_path.c_str(), opts.cwd.c_str(), out_pipe[1], err_pipe[1], argv.data(),
              envp.data());
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (pid < 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return r;
  }
  if (!Drain(out_pipe[0], err_pipe[0], &r, deadline, opts.timeout.count() > 0)) {
    ::kill(pid, SIGKILL);
    r.timed_out = true;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signaled = true;
    r.exit_code = 128 + WTERMSIG(status);
  }
  return r;
}

}  // namespace boltpp::testing
