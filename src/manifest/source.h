// Where a server's manifest and the trusted keys come from: the config's "manifest" (a local
// path or an https:// URL) and "trusted_keys", and reading a local manifest file with the size
// limit. This is the library's only I/O (readManifestFile, blocking: call it off the event
// loop). Fetching https:// manifests is the daemon's job (see docs/manifests.md, "Wiring").
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "manifest/format.h"
#include "manifest/signing.h"

namespace mcpproxy::manifest {

// The config's keys as verification keys (public keys were validated by the config parser).
std::vector<TrustedKey> trustedKeysFromConfig(const std::vector<config::TrustedKeyConfig>& keys);

struct ManifestLocation {
  bool is_url = false;
  std::string url;             // https://...
  std::filesystem::path path;  // absolute or relative to the current directory
};

// A server's "manifest" resolved: "~" expanded against `home`, relative paths against the
// directory of the config file.
ManifestLocation locateManifest(const std::string& manifest,
                                const std::filesystem::path& config_dir,
                                const std::filesystem::path& home);

// Reads a whole file of at most `max_bytes` (O_CLOEXEC; errors name the file).
Result<std::string> readManifestFile(const std::filesystem::path& path,
                                     std::size_t max_bytes = Limits{}.max_file_bytes);

}  // namespace mcpproxy::manifest
