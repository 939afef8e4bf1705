// See files.h.
#include "common/files.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace mcpproxy {

Result<void> makePrivateDirectories(const std::filesystem::path& dir) {
  std::error_code ec;
  std::vector<std::filesystem::path> missing;
  for (std::filesystem::path p = dir; !p.empty() && !std::filesystem::exists(p, ec);
       p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST) {
      return makeError(ErrorCode::kIo,
                       "cannot create " + it->string() + ": " + std::strerror(errno));
    }
  }
  if (!std::filesystem::is_directory(dir, ec)) {
    return makeError(ErrorCode::kIo, dir.string() + " is not a directory");
  }
  return {};
}

}  // namespace mcpproxy
