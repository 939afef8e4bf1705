// File-descriptor hygiene. Every descriptor the proxy holds must be close-on-exec: a child
// process (an upstream server, possibly untrusted and quarantined) must never inherit the
// proxy's listening sockets, client connections, database or log files. Boost.Asio opens
// sockets and accepts connections without SOCK_CLOEXEC, so those are marked right after they
// are created (on the event-loop thread, which is also the only thread that spawns children);
// spawning additionally closes everything above stderr in the child (defence in depth).
#pragma once

namespace mcpproxy {

// Sets FD_CLOEXEC on `fd` (ignores -1). Returns false when fcntl failed.
bool setCloseOnExec(int fd);

// Marks every descriptor above stderr that the process holds now close-on-exec. The daemon
// calls it first thing, for descriptors it inherited from whoever started it (a shell, a test
// runner or make's jobserver pipe): they must not travel on to upstream servers either.
void closeOnExecInherited();

}  // namespace mcpproxy
