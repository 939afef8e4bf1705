// Last words: on a fatal signal (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) the reason and a
// backtrace go to stderr and the log file before the process dies with the same signal, so a
// crash never leaves "nothing in the log". The handler only calls async-signal-safe functions
// (write, backtrace_symbols_fd on a preloaded unwinder) and runs on its own stack, so a stack
// overflow is reported too.
#pragma once

namespace mcpproxy {

// Installs the handlers (once; later calls do nothing).
void installFatalSignalHandlers();

}  // namespace mcpproxy
