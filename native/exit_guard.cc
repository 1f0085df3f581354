// The exit guard: after a cancel signal, the process ends within its grace period even when the
// main thread cannot run JavaScript (a synchronous stretch of wasm, JS or a native call that takes
// seconds on a busy machine; measured: a build's handler ran 1.9 s after SIGTERM with six CPU
// burners beside it). A thread of its own waits for the signal; if the process is still alive at
// the deadline (or at a second signal), it removes what the command registered (its staging
// directories, its writer lock when the lock file still carries its token), writes the command's
// line to stderr and calls _exit(128 + signo). The ordinary path, JavaScript cleaning up and
// exiting first, is unchanged: the guard only acts when that path is late.
//
//   armExitGuard(graceMs) -> boolean     chains onto the SIGHUP/SIGINT/SIGTERM handlers installed
//                                        (libuv's); false when there are none to chain onto
//   exitGuardLine(text)                  the line written at the deadline; "%SIGNAL%" is replaced
//                                        by the signal's name; "" writes nothing
//   exitGuardRemove(kind, path, token) -> id   kind "dir": removed recursively; kind "lock":
//                                        unlinked if its contents hold `token`
//   exitGuardForget(id)
//   exitGuardStart(signo)                starts the grace period for a signal that reached the
//                                        process before the guard was armed (bin/indexctl.js held
//                                        it); nothing if one has started
//   exitNow(code)                        _exit(2) now: the CLI's exit after a cancellation, which
//                                        must not wait for thread-pool work (libuv joins it)
//
// The signal handler only stores the signal number and posts a semaphore (async-signal-safe), then
// calls the handler it replaced, so Node's own 'SIGINT' listeners run as before.
#include "exit_guard.h"

#include <semaphore.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

namespace indexctl {
namespace {

constexpr int kSignals[] = {SIGHUP, SIGINT, SIGTERM};

struct Removal {
  bool lock;
  std::string path;
  std::string token;
};

sem_t g_wake;
std::atomic<int> g_signo{0};
std::atomic<int> g_posts{0};
struct sigaction g_previous[NSIG];
std::once_flag g_armed;
bool g_armed_ok = false;
int g_grace_ms = 0;

std::timed_mutex g_mutex;  // the fields below; never taken by the signal handler
std::map<int64_t, Removal> g_removals;
int64_t g_next_id = 1;
std::string g_line;

const char* SignalName(int signo) {
  switch (signo) {
    case SIGHUP:
      return "SIGHUP";
    case SIGINT:
      return "SIGINT";
    default:
      return "SIGTERM";
  }
}

void OnSignal(int signo, siginfo_t* info, void* context) {
  const int saved = errno;
  int none = 0;
  g_signo.compare_exchange_strong(none, signo);
  // The first post starts the grace period, the second ends it (a second signal exits at once).
  if (g_posts.fetch_add(1) < 2) sem_post(&g_wake);
  errno = saved;
  const struct sigaction& previous = g_previous[signo];
  if (previous.sa_flags & SA_SIGINFO) {
    if (previous.sa_sigaction != nullptr) previous.sa_sigaction(signo, info, context);
  } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(signo);
  }
}

void WaitPost(const timespec* deadline) {
  for (;;) {
    const int rc = deadline == nullptr ? sem_wait(&g_wake) : sem_timedwait(&g_wake, deadline);
    if (rc == 0 || errno != EINTR) return;
  }
}

bool HoldsToken(const std::string& path, const std::string& token) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return !token.empty() && contents.find(token) != std::string::npos;
}

[[noreturn]] void ExitAtDeadline() {
  const int signo = g_signo.load();
  std::string line;
  {
    // A bounded wait: the main thread holds the mutex only to copy a string, but a busy machine
    // may deschedule it there; if it never lets go, the exit goes on and what it held is left to
    // gc.
    std::unique_lock<std::timed_mutex> guard(g_mutex, std::chrono::milliseconds(100));
    if (guard.owns_lock()) {
      for (const auto& [id, removal] : g_removals) {
        std::error_code ignored;
        if (!removal.lock) {
          std::filesystem::remove_all(removal.path, ignored);
        } else if (HoldsToken(removal.path, removal.token)) {
          ::unlink(removal.path.c_str());
        }
      }
      line = g_line;
    }
  }
  const std::string marker = "%SIGNAL%";
  for (size_t at = line.find(marker); at != std::string::npos; at = line.find(marker, at)) {
    line.replace(at, marker.size(), SignalName(signo));
  }
  for (size_t done = 0; done < line.size();) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  _exit(128 + signo);
}

void Watch() {
  sigset_t mask;
  sigemptyset(&mask);
  for (int signo : kSignals) sigaddset(&mask, signo);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  WaitPost(nullptr);
  timespec deadline{};
  clock_gettime(CLOCK_REALTIME, &deadline);  // sem_timedwait's clock
  deadline.tv_sec += g_grace_ms / 1000;
  deadline.tv_nsec += static_cast<long>(g_grace_ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec += 1;
    deadline.tv_nsec -= 1000000000L;
  }
  WaitPost(&deadline);
  ExitAtDeadline();
}

bool Arm(int grace_ms) {
  if (sem_init(&g_wake, 0, 0) != 0) return false;
  g_grace_ms = grace_ms;
  int chained = 0;
  for (int signo : kSignals) {
    struct sigaction current {};
    if (sigaction(signo, nullptr, &current) != 0) continue;
    const bool handled = (current.sa_flags & SA_SIGINFO)
                             ? current.sa_sigaction != nullptr
                             : (current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN);
    if (!handled) continue;
    g_previous[signo] = current;
    struct sigaction ours = current;
    ours.sa_sigaction = OnSignal;
    ours.sa_flags = (current.sa_flags | SA_SIGINFO) & ~SA_RESETHAND;
    if (sigaction(signo, &ours, nullptr) == 0) ++chained;
  }
  if (chained == 0) return false;
  std::thread(Watch).detach();
  return true;
}

Napi::Value ArmExitGuard(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    throw Napi::TypeError::New(env, "armExitGuard(graceMs: number)");
  }
  const int grace_ms = info[0].As<Napi::Number>().Int32Value();
  if (grace_ms < 0) throw Napi::RangeError::New(env, "graceMs must be >= 0");
  std::call_once(g_armed, [&] { g_armed_ok = Arm(grace_ms); });
  return Napi::Boolean::New(env, g_armed_ok);
}

Napi::Value ExitGuardLine(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(info.Env(), "exitGuardLine(text: string)");
  }
  std::lock_guard<std::timed_mutex> guard(g_mutex);
  g_line = info[0].As<Napi::String>().Utf8Value();
  return info.Env().Undefined();
}

Napi::Value ExitGuardRemove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsString()) {
    throw Napi::TypeError::New(
        env, "exitGuardRemove(kind: 'dir' | 'lock', path: string, token: string)");
  }
  const std::string kind = info[0].As<Napi::String>().Utf8Value();
  if (kind != "dir" && kind != "lock")
    throw Napi::TypeError::New(env, "kind must be 'dir' or 'lock'");
  std::lock_guard<std::timed_mutex> guard(g_mutex);
  const int64_t id = g_next_id++;
  g_removals[id] = Removal{kind == "lock", info[1].As<Napi::String>().Utf8Value(),
                           info[2].As<Napi::String>().Utf8Value()};
  return Napi::Number::New(env, static_cast<double>(id));
}

Napi::Value ExitGuardForget(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "exitGuardForget(id: number)");
  }
  std::lock_guard<std::timed_mutex> guard(g_mutex);
  g_removals.erase(info[0].As<Napi::Number>().Int64Value());
  return info.Env().Undefined();
}

Napi::Value ExitGuardStart(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "exitGuardStart(signo: number)");
  }
  const int signo = info[0].As<Napi::Number>().Int32Value();
  int none = 0;
  if (g_armed_ok && g_posts.compare_exchange_strong(none, 1)) {
    g_signo.compare_exchange_strong(none, signo);
    sem_post(&g_wake);
  }
  return info.Env().Undefined();
}

Napi::Value ExitNow(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber())
    throw Napi::TypeError::New(info.Env(), "exitNow(code: number)");
  const int code = info[0].As<Napi::Number>().Int32Value();
  std::fflush(nullptr);
  _exit(code & 0xff);
}

}  // namespace

void ExportExitGuard(Napi::Env env, Napi::Object exports) {
  exports.Set("armExitGuard", Napi::Function::New(env, ArmExitGuard));
  exports.Set("exitGuardLine", Napi::Function::New(env, ExitGuardLine));
  exports.Set("exitGuardRemove", Napi::Function::New(env, ExitGuardRemove));
  exports.Set("exitGuardForget", Napi::Function::New(env, ExitGuardForget));
  exports.Set("exitGuardStart", Napi::Function::New(env, ExitGuardStart));
  exports.Set("exitNow", Napi::Function::New(env, ExitNow));
}

}  // namespace indexctl
