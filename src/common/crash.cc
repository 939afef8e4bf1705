// See crash.h.
#include "common/crash.h"

#include <execinfo.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#include "common/log.h"

namespace mcpproxy {

namespace {

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
constexpr int kMaxFrames = 64;
constexpr std::size_t kAltStackBytes = 64 * 1024;

bool g_installed = false;

void writeAll(int fd, const char* text, std::size_t length) {
  while (length > 0) {
    ssize_t n = ::write(fd, text, length);
    if (n <= 0) return;
    text += n;
    length -= static_cast<std::size_t>(n);
  }
}

void writeText(int fd, const char* text) {
  writeAll(fd, text, ::strlen(text));
}

// Formats `value` in hex into `out` (at least 19 bytes) without allocating.
void hex(std::uintptr_t value, char* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  out[0] = '0';
  out[1] = 'x';
  char reversed[16];
  int n = 0;
  do {
    reversed[n++] = kDigits[value & 0xf];
    value >>= 4;
  } while (value != 0 && n < 16);
  for (int i = 0; i < n; ++i) out[2 + i] = reversed[n - 1 - i];
  out[2 + n] = '\0';
}

void report(int fd, int signal, const siginfo_t* info, void* const* frames, int count) {
  char number[4] = {static_cast<char>('0' + signal / 10 % 10), static_cast<char>('0' + signal % 10),
                    '\0', '\0'};
  writeText(fd, "\nmcpproxy: FATAL: signal ");
  writeText(fd, signal >= 10 ? number : number + 1);
  writeText(fd, " (");
  writeText(fd, sigabbrev_np(signal) ? sigabbrev_np(signal) : "?");
  writeText(fd, ": ");
  writeText(fd, sigdescr_np(signal) ? sigdescr_np(signal) : "unknown");
  writeText(fd, ")");
  if (info && (signal == SIGSEGV || signal == SIGBUS || signal == SIGILL || signal == SIGFPE)) {
    char address[24];
    hex(reinterpret_cast<std::uintptr_t>(info->si_addr), address);
    writeText(fd, " at address ");
    writeText(fd, address);
  }
  writeText(fd, "; backtrace follows (resolve with addr2line -e mcpproxy):\n");
  backtrace_symbols_fd(frames, count, fd);
  writeText(fd, "mcpproxy: end of backtrace\n");
}

void onFatalSignal(int signal, siginfo_t* info, void* /*context*/) {
  void* frames[kMaxFrames];
  int count = backtrace(frames, kMaxFrames);
  report(STDERR_FILENO, signal, info, frames, count);
  if (int fd = log::fileDescriptor(); fd >= 0) report(fd, signal, info, frames, count);
  // Die of the same signal, so the exit status and any core dump tell the truth.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(signal, &dfl, nullptr);
  raise(signal);
}

}  // namespace

void installFatalSignalHandlers() {
  if (g_installed) return;
  g_installed = true;
  // backtrace() loads libgcc's unwinder on first use, which allocates: do it now, not in the
  // handler.
  void* warmup[2];
  backtrace(warmup, 2);
  static char* alt_stack = static_cast<char*>(std::malloc(kAltStackBytes));
  if (alt_stack) {
    stack_t stack{};
    stack.ss_sp = alt_stack;
    stack.ss_size = kAltStackBytes;
    sigaltstack(&stack, nullptr);
  }
  for (int signal : kFatalSignals) {
    struct sigaction action {};
    action.sa_sigaction = onFatalSignal;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
    sigemptyset(&action.sa_mask);
    sigaction(signal, &action, nullptr);
  }
}

}  // namespace mcpproxy
