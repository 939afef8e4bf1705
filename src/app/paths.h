// Where mcpproxy's files live: the data directory (~/.mcpproxy by default) and the config file
// in it. Shared by every subcommand so they agree.
#pragma once

#include <filesystem>
#include <string>

#include "common/result.h"

namespace mcpproxy::app {

std::filesystem::path homeDirectory();
// "~" and "~/x" relative to the home directory; anything else unchanged.
std::filesystem::path expandHome(const std::string& path);
// Creates `dir` (and parents) and restricts it to the user (0700, best effort).
Result<void> ensurePrivateDirectory(const std::filesystem::path& dir);

// The config file: `config_path` when given, else <data_dir or ~/.mcpproxy>/mcp_config.json.
std::filesystem::path configPath(const std::string& config_path, const std::string& data_dir);

}  // namespace mcpproxy::app
