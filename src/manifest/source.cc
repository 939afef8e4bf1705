// See source.h.
#include "manifest/source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mcpproxy::manifest {

std::vector<TrustedKey> trustedKeysFromConfig(const std::vector<config::TrustedKeyConfig>& keys) {
  std::vector<TrustedKey> out;
  for (const auto& k : keys) {
    auto key = parsePublicKey(k.public_key);
    if (!key) continue;  // unreachable: parseConfig refuses such keys
    out.push_back({k.id, *key, k.not_before, k.not_after, k.revoked});
  }
  return out;
}

ManifestLocation locateManifest(const std::string& manifest,
                                const std::filesystem::path& config_dir,
                                const std::filesystem::path& home) {
  ManifestLocation out;
  if (manifest.starts_with("https://")) {
    out.is_url = true;
    out.url = manifest;
    return out;
  }
  if (manifest == "~" || manifest.starts_with("~/")) {
    out.path = home / manifest.substr(manifest.size() > 1 ? 2 : 1);
  } else if (std::filesystem::path(manifest).is_absolute()) {
    out.path = manifest;
  } else {
    out.path = config_dir / manifest;
  }
  return out;
}

Result<std::string> readManifestFile(const std::filesystem::path& path, std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return makeError(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                     "cannot read " + path.string() + ": " + std::strerror(errno));
  }
  std::string text;
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      ::close(fd);
      return makeError(ErrorCode::kIo,
                       "cannot read " + path.string() + ": " + std::strerror(saved));
    }
    if (n == 0) break;
    if (text.size() + static_cast<std::size_t>(n) > max_bytes) {
      ::close(fd);
      return makeError(ErrorCode::kLimitExceeded,
                       path.string() + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

}  // namespace mcpproxy::manifest
