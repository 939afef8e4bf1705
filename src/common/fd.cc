// See fd.h.
#include "common/fd.h"

#include <dirent.h>
#include <fcntl.h>

#include <cstdlib>
#include <vector>

namespace mcpproxy {

bool setCloseOnExec(int fd) {
  if (fd < 0) return false;
  int flags = ::fcntl(fd, F_GETFD);
  if (flags < 0) return false;
  if (flags & FD_CLOEXEC) return true;
  return ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == 0;
}

void closeOnExecInherited() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return;
  std::vector<int> fds;
  while (dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd <= 2 || fd == ::dirfd(dir)) continue;
    fds.push_back(static_cast<int>(fd));
  }
  ::closedir(dir);
  for (int fd : fds) setCloseOnExec(fd);
}

}  // namespace mcpproxy
