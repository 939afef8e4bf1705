// File-system helpers shared by the daemon, the CLI and the config writer.
#pragma once

#include <filesystem>

#include "common/result.h"

namespace mcpproxy {

// Creates `dir` and every missing parent with mode 0700 (std::filesystem::create_directories
// would use 0777 minus the umask): the data folder holds logs, the database and secrets.
// Directories that already exist are left as they are.
Result<void> makePrivateDirectories(const std::filesystem::path& dir);

}  // namespace mcpproxy
