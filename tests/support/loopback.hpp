// Processes and sockets on 127.0.0.1 for the bridge tests (tests/bridge, tools/tests).
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

extern char** environ;

namespace ringwire_test {

// A free loopback port, as a ZeroMQ tcp endpoint: bound to port 0 and released, so the
// process that binds it a moment later gets it (on loopback nobody else is racing for it).
inline std::string free_tcp_address() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    return {};
  ::close(fd);
  return "tcp://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
}

// Runs `path` with `args` and this process's environment plus `env_extra` (exec, not a
// bare fork: the caller has threads). 0 when it could not be started.
inline pid_t spawn_process(const std::string& path, const std::vector<std::string>& args,
                           const std::vector<std::string>& env_extra = {}) {
  std::vector<std::string> a = args, env;
  a.insert(a.begin(), path);
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  env.insert(env.end(), env_extra.begin(), env_extra.end());
  std::vector<char*> argv, envp;
  for (auto& s : a) argv.push_back(s.data());
  for (auto& s : env) envp.push_back(s.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  pid_t pid = 0;
  return posix_spawn(&pid, path.c_str(), nullptr, nullptr, argv.data(), envp.data()) == 0 ? pid : 0;
}

// Its exit status, or 128 + the signal that ended it; -1 when it was not our child.
inline int wait_process(pid_t pid) {
  int st = 0;
  if (pid <= 0 || waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

}  // namespace ringwire_test
