// See paths.h.
#include "app/paths.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "common/files.h"

namespace mcpproxy::app {

namespace fs = std::filesystem;

fs::path homeDirectory() {
  if (const char* home = std::getenv("HOME"); home && *home) return home;
  if (const passwd* pw = getpwuid(getuid()); pw && pw->pw_dir) return pw->pw_dir;
  return ".";
}

fs::path expandHome(const std::string& path) {
  if (path == "~") return homeDirectory();
  if (path.starts_with("~/")) return homeDirectory() / path.substr(2);
  return path;
}

Result<void> ensurePrivateDirectory(const fs::path& dir) {
  // Every folder created on the way is 0700 (the data folder given with --data-dir too); the
  // folder itself is narrowed even when it existed: it holds logs, the database and secrets.
  if (auto made = makePrivateDirectories(dir); !made) return made;
  ::chmod(dir.c_str(), 0700);  // best effort
  return {};
}

fs::path configPath(const std::string& config_path, const std::string& data_dir) {
  if (!config_path.empty()) return expandHome(config_path);
  fs::path dir = data_dir.empty() ? homeDirectory() / ".mcpproxy" : expandHome(data_dir);
  return dir / "mcp_config.json";
}

}  // namespace mcpproxy::app
