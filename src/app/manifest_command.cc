// See manifest_command.h. The commands are thin: formats, keys, verification and comparison
// live in src/manifest; this file finds files, the config and the database, and prints.
#include "app/manifest_command.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>

#include "app/cli_util.h"
#include "app/local_store.h"
#include "app/paths.h"
#include "common/log.h"
#include "common/time_format.h"
#include "config/config.h"
#include "manifest/check.h"
#include "manifest/compare.h"
#include "manifest/format.h"
#include "manifest/signing.h"
#include "manifest/source.h"
#include "storage/tool_hash.h"

namespace mcpproxy::app {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;

std::int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

CommonOptions commonOf(const ManifestOptions& options) {
  return CommonOptions{options.config_path, options.data_dir, options.json};
}

// The config for trusted keys and server entries. A missing file is an empty config; a broken
// one is a usage error (exit 2, message printed).
std::optional<config::Config> loadConfig(const ManifestOptions& options, fs::path* path_out) {
  auto path = resolveLocations(commonOf(options)).config_path;
  if (path_out) *path_out = path;
  std::error_code ec;
  if (!fs::exists(path, ec)) return config::Config{};
  std::vector<std::string> warnings;
  auto cfg = config::loadConfigFile(path, warnings);
  if (!cfg) {
    printError(cfg.error().message);
    return std::nullopt;
  }
  return std::move(*cfg);
}

// Text from a manifest (anyone may have written it) made safe for a terminal: C0 and C1 control
// characters (ESC sequences, CSI) and DEL become '?'.
std::string printable(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      out.push_back('?');
      ++i;
    } else {
      out.push_back(c < 0x20 || c == 0x7F ? '?' : static_cast<char>(c));
    }
  }
  return out;
}

std::string firstLine(std::string_view text, std::size_t max = 60) {
  auto line = text.substr(0, text.find('\n'));
  if (line.size() > max) return printable(line.substr(0, max - 3)) + "...";
  return printable(line);
}

bool validKeyId(const std::string& id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
           c == ':';
  });
}

// --expires: a date ("2026-01-01", "2026-01-01T00:00:00Z"), days ("90d") or a duration
// ("720h", "30m"). Returns the absolute time, or nullopt.
std::optional<std::int64_t> parseExpiry(const std::string& text, std::int64_t now) {
  if (auto at = parseIsoTimeUtc(text, /*allow_date_only=*/true)) return *at;
  if (text.size() > 1 && text.back() == 'd' &&
      std::all_of(text.begin(), text.end() - 1, [](char c) { return c >= '0' && c <= '9'; })) {
    if (text.size() > 6) return std::nullopt;  // at most 99999 days
    return now + std::stoll(text.substr(0, text.size() - 1)) * 86400;
  }
  auto duration = config::parseDuration(json::value(text));
  if (!duration || duration->count() <= 0) return std::nullopt;
  return now + duration->count() / 1000;
}

// Reads a key file; warns when others may read it.
Result<manifest::SigningKey> loadKey(const std::string& file) {
  auto text = manifest::readManifestFile(file, kMaxKeyFileBytes);
  if (!text) return std::unexpected(text.error());
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    std::fprintf(stderr, "warning: %s is readable by others (chmod 600 it)\n", file.c_str());
  }
  auto key = manifest::SigningKey::fromFile(*text);
  sodium_memzero(text->data(), text->size());
  if (!key) return makeError(key.error().code, file + ": " + key.error().message);
  return key;
}

// Writes a new file only (O_EXCL: never replaces, never follows a symlink) with mode 0600.
Result<void> writeNewPrivateFile(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return makeError(ErrorCode::kInvalidArgument,
                       path + " exists: refusing to overwrite a key (choose another --out)");
    }
    return makeError(ErrorCode::kIo, "cannot create " + path + ": " + std::strerror(errno));
  }
  std::size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return makeError(ErrorCode::kIo, "cannot write " + path + ": " + std::strerror(saved));
    }
    written += static_cast<std::size_t>(n);
  }
  ::fchmod(fd, 0600);  // whatever the umask
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(path.c_str());
    return makeError(ErrorCode::kIo, "cannot flush " + path);
  }
  return {};
}

std::optional<manifest::SignedManifest> readSigned(const std::string& file, int& exit_code) {
  auto text = manifest::readManifestFile(file);
  if (!text) {
    printError(text.error().message);
    exit_code = kExitFailure;
    return std::nullopt;
  }
  auto parsed = manifest::parseSignedManifest(*text);
  if (!parsed) {
    printError(file + ": malformed: " + parsed.error().message);
    exit_code = kExitFailure;
    return std::nullopt;
  }
  return std::move(*parsed);
}

// The database of the data directory (the daemon's, with the same flags); prints why not.
std::unique_ptr<LocalStore> openDataStore(const ManifestOptions& options) {
  auto where = resolveLocations(commonOf(options));
  std::string why;
  auto store = LocalStore::open(where.data_dir, &why);
  if (!store) printError(why + " (has `mcpproxy serve` run with this data dir?)");
  return store;
}

std::string expiryText(const std::optional<std::int64_t>& at) {
  return at ? manifest::formatTime(*at) : std::string("never");
}

}  // namespace

int runManifestKeygen(const ManifestOptions& options) {
  if (!options.key_id.empty() && !validKeyId(options.key_id)) {
    printError("--id: use 1-64 characters of A-Z a-z 0-9 _ - . :");
    return kExitUsage;
  }
  auto key = manifest::SigningKey::generate(options.key_id);
  std::string text = key.fileText();
  auto written = writeNewPrivateFile(options.out, text);
  sodium_memzero(text.data(), text.size());
  if (!written) {
    printError(written.error().message);
    return kExitFailure;
  }
  std::string public_key = key.publicKeyBase64();
  if (options.json) {
    printJson(
        json::object{{"file", options.out}, {"key_id", key.id()}, {"public_key", public_key}});
    return kExitOk;
  }
  std::printf("wrote the secret key to %s (mode 0600): keep it private, never commit it\n",
              options.out.c_str());
  std::printf("key id: %s\n", key.id().c_str());
  std::printf("for the verifiers' config: \"trusted_keys\": [%s]\n",
              json::serialize(json::object{{"id", key.id()}, {"public_key", public_key}}).c_str());
  std::printf("%s\n", public_key.c_str());
  return kExitOk;
}

int runManifestSign(const ManifestOptions& options) {
  log::init(log::Options{log::Level::kWarn, ""});
  std::vector<manifest::SigningKey> keys;
  for (const auto& file : options.key_files) {
    auto key = loadKey(file);
    if (!key) {
      printError(key.error().message);
      return key.error().code == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
    }
    keys.push_back(std::move(*key));
  }
  std::int64_t now = nowSeconds();
  std::optional<std::int64_t> expires;
  if (!options.expires.empty()) {
    expires = parseExpiry(options.expires, now);
    if (!expires) {
      printError("--expires: expected a date (2026-01-01), days (90d) or a duration (720h)");
      return kExitUsage;
    }
    if (*expires <= now) {
      printError("--expires: " + manifest::formatTime(*expires) + " is in the past");
      return kExitUsage;
    }
  }
  auto cfg = loadConfig(options, nullptr);
  if (!cfg) return kExitUsage;
  auto store = openDataStore(options);
  if (!store) return kExitFailure;
  auto trust = store->run(store->store().trust());
  auto approved = store->run(store->store().approvedTools(options.server));
  auto listed = store->run(store->store().tools());
  if (!trust || !approved || !listed) {
    printError("cannot read the database " + store->store().file().string());
    return kExitFailure;
  }
  auto state = trust->server_state.find(options.server);
  if (state == trust->server_state.end() || state->second != "approved") {
    bool known = std::any_of(listed->begin(), listed->end(),
                             [&](const auto& t) { return t.server == options.server; });
    printError(known ? "server '" + options.server +
                           "' is not approved (quarantined): approve it before vouching for it"
                     : "no server '" + options.server + "' is recorded in the database");
    return known ? kExitFailure : kExitNotFound;
  }

  // What the server lists now, by name: only approved definitions it still presents unchanged
  // are vouched for ("current, approved").
  std::map<std::string, const storage::ToolRecord*> current;
  for (const auto& t : *listed) {
    if (t.server == options.server && t.present) current[t.name] = &t;
  }
  manifest::Manifest m;
  m.server.name = options.server;
  m.server.package = options.package;
  for (const auto& s : cfg->servers) {
    if (s.name == options.server && !s.url.empty()) m.server.url = manifest::urlWithoutQuery(s.url);
  }
  m.version = options.version.empty() ? manifest::formatTime(now) : options.version;
  m.issued_at = now;
  m.expires_at = expires;
  for (const auto& a : *approved) {
    auto it = current.find(a.name);
    if (it == current.end()) {
      std::fprintf(stderr, "skipped %s: approved, but the server no longer lists it\n",
                   a.name.c_str());
      continue;
    }
    if (it->second->hash != a.hash) {
      std::fprintf(stderr,
                   "skipped %s: its current definition differs from the approved one (see "
                   "`mcpproxy tools diff %s:%s`)\n",
                   a.name.c_str(), options.server.c_str(), a.name.c_str());
      continue;
    }
    manifest::ManifestTool tool{a.name, a.hash, manifest::pinnedFields(a.definition)};
    if (storage::toolHash(tool.definition) != tool.hash) {
      std::fprintf(stderr,
                   "warning: the stored definition of %s does not reproduce its pin hash "
                   "(numbers beyond double precision); the manifest carries the pin hash\n",
                   a.name.c_str());
    }
    m.tools.push_back(std::move(tool));
  }
  for (const auto& [name, record] : current) {
    if (!m.find(name) && std::none_of(approved->begin(), approved->end(),
                                      [&](const auto& a) { return a.name == name; })) {
      std::fprintf(stderr,
                   "not included: %s is listed but not approved (it will be not_in_manifest)\n",
                   name.c_str());
    }
  }
  if (m.tools.empty()) {
    printError("nothing to sign: server '" + options.server +
               "' has no approved tool that it lists unchanged now");
    return kExitFailure;
  }
  std::vector<const manifest::SigningKey*> signers;
  for (const auto& k : keys) signers.push_back(&k);
  std::string envelope = manifest::signManifest(m, signers);
  if (auto r = config::writeFileAtomic(options.out, envelope); !r) {
    printError(r.error().message);
    return kExitFailure;
  }
  std::string key_ids;
  for (const auto& k : keys) key_ids += (key_ids.empty() ? "" : ", ") + k.id();
  if (options.json) {
    printJson(json::object{{"file", options.out},
                           {"server", m.server.name},
                           {"version", m.version},
                           {"tools", m.tools.size()},
                           {"issued_at", manifest::formatTime(m.issued_at)},
                           {"expires_at", m.expires_at ? json::value(manifest::formatTime(*expires))
                                                       : json::value(nullptr)},
                           {"key_ids", key_ids}});
    return kExitOk;
  }
  std::printf("signed %zu tool(s) of '%s' (version %s, expires %s) with key %s: %s\n",
              m.tools.size(), m.server.name.c_str(), m.version.c_str(),
              expiryText(m.expires_at).c_str(), key_ids.c_str(), options.out.c_str());
  return kExitOk;
}

int runManifestVerify(const ManifestOptions& options) {
  int code = kExitOk;
  auto signed_manifest = readSigned(options.file, code);
  if (!signed_manifest) {
    if (options.json) {
      printJson(json::object{{"file", options.file}, {"valid", false}, {"status", "malformed"}});
    }
    return code;
  }
  std::int64_t now = nowSeconds();
  manifest::Verification v;
  if (!options.public_key.empty()) {
    auto key = manifest::parsePublicKey(options.public_key);
    if (!key) {
      printError("--public-key: expected a 32-byte Ed25519 public key in base64");
      return kExitUsage;
    }
    v = manifest::verifyWithKey(*signed_manifest, *key, now);
  } else {
    auto cfg = loadConfig(options, nullptr);
    if (!cfg) return kExitUsage;
    auto keys = manifest::trustedKeysFromConfig(cfg->trusted_keys);
    v = manifest::verify(*signed_manifest, keys, now);
  }
  const auto& m = signed_manifest->manifest;
  if (options.json) {
    json::array signatures;
    for (const auto& s : v.signatures) {
      signatures.push_back(json::object{{"keyid", s.keyid}, {"status", statusName(s.status)}});
    }
    printJson(json::object{
        {"file", options.file},
        {"valid", v.ok()},
        {"status", statusName(v.status)},
        {"message", v.message},
        {"key_id", v.key_id},
        {"valid_until",
         v.valid_until ? json::value(manifest::formatTime(*v.valid_until)) : json::value(nullptr)},
        {"signatures", std::move(signatures)},
        {"server", m.server.name},
        {"version", m.version},
        {"tools", m.tools.size()}});
    return v.ok() ? kExitOk : kExitFailure;
  }
  if (!v.ok()) {
    printError(options.file + ": " + std::string(statusName(v.status)) + ": " +
               printable(v.message));
    return kExitFailure;
  }
  std::printf("%s: valid: %s; server '%s' version %s, %zu tool(s), expires %s\n",
              options.file.c_str(), printable(v.message).c_str(), printable(m.server.name).c_str(),
              printable(m.version).c_str(), m.tools.size(), expiryText(m.expires_at).c_str());
  return kExitOk;
}

int runManifestShow(const ManifestOptions& options) {
  int code = kExitOk;
  auto signed_manifest = readSigned(options.file, code);
  if (!signed_manifest) return code;
  const auto& m = signed_manifest->manifest;
  if (options.json) {
    auto out = manifest::toJson(m);
    json::array signatures;
    for (const auto& s : signed_manifest->signatures) {
      signatures.push_back(json::object{{"keyid", s.keyid}});
    }
    out["payloadType"] = signed_manifest->payload_type;
    out["signatures"] = std::move(signatures);
    out["verified"] = false;
    printJson(out);
    return kExitOk;
  }
  std::string keyids;
  for (const auto& s : signed_manifest->signatures) {
    keyids += (keyids.empty() ? "" : ", ") + (s.keyid.empty() ? "(no key id)" : s.keyid);
  }
  std::printf("manifest %s (not verified here: run `mcpproxy manifest verify %s`)\n",
              options.file.c_str(), options.file.c_str());
  std::printf("  server:     %s\n", printable(m.server.name).c_str());
  if (!m.server.package.empty())
    std::printf("  package:    %s\n", printable(m.server.package).c_str());
  if (!m.server.url.empty()) std::printf("  url:        %s\n", printable(m.server.url).c_str());
  std::printf("  version:    %s\n", printable(m.version).c_str());
  std::printf("  issued:     %s\n", manifest::formatTime(m.issued_at).c_str());
  std::printf("  expires:    %s\n", expiryText(m.expires_at).c_str());
  std::printf("  signatures: %s\n", printable(keyids).c_str());
  std::printf("  tools (%zu):\n", m.tools.size());
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : m.tools) {
    const auto* description = t.definition.if_contains("description");
    rows.push_back({"    " + printable(t.name), t.hash.substr(0, 12),
                    description && description->is_string() ? firstLine(description->get_string())
                                                            : std::string()});
  }
  printTable({"    NAME", "HASH", "DESCRIPTION"}, rows);
  return kExitOk;
}

int runManifestCheck(const ManifestOptions& options) {
  log::init(log::Options{log::Level::kWarn, ""});
  fs::path config_path;
  auto cfg = loadConfig(options, &config_path);
  if (!cfg) return kExitUsage;
  const config::ServerConfig* server = nullptr;
  for (const auto& s : cfg->servers) {
    if (s.name == options.server) server = &s;
  }
  if (!server) {
    printError("no server '" + options.server + "' in " + config_path.string());
    return kExitNotFound;
  }
  std::string manifest_file = options.file;
  if (manifest_file.empty()) {
    if (server->manifest.empty()) {
      printError("server '" + options.server + "' has no \"manifest\" (or pass --file)");
      return kExitUsage;
    }
    auto location =
        manifest::locateManifest(server->manifest, config_path.parent_path(), homeDirectory());
    if (location.is_url) {
      printError("the CLI reads local manifests only; download " + location.url +
                 " and pass --file");
      return kExitFailure;
    }
    manifest_file = location.path.string();
  }
  auto text = manifest::readManifestFile(manifest_file);
  if (!text) {
    printError(text.error().message);
    return kExitFailure;
  }
  auto store = openDataStore(options);
  if (!store) return kExitFailure;
  auto listed = store->run(store->store().tools());
  if (!listed) {
    printError("cannot read the database: " + listed.error().message);
    return kExitFailure;
  }
  std::vector<json::object> current;
  for (const auto& t : *listed) {
    if (t.server == options.server && t.present) current.push_back(t.definition);
  }
  auto keys = manifest::trustedKeysFromConfig(cfg->trusted_keys);
  auto check = manifest::checkServer(*text, keys, nowSeconds(), current, server->url);
  bool pass = !check.server_blocked && check.comparison.clean();
  if (options.json) {
    auto out = manifest::toJson(check);
    out["server"] = options.server;
    out["file"] = manifest_file;
    printJson(out);
    return pass ? kExitOk : kExitFailure;
  }
  if (check.server_blocked) {
    printError("server '" + options.server + "' is blocked: " + printable(check.reason));
    return kExitFailure;
  }
  std::printf("manifest %s: %s (version %s)\n", manifest_file.c_str(),
              printable(check.verification.message).c_str(),
              printable(check.manifest->version).c_str());
  for (const auto& t : check.comparison.tools) {
    std::printf("  %-16s %s\n", std::string(manifest::statusName(t.status)).c_str(),
                printable(t.name).c_str());
    for (const auto& c : t.changes) {
      if (c.pointer.empty() && !c.expected && !c.actual) {
        std::printf("      the fields are equal but the hashes differ\n");
        continue;
      }
      std::printf("      %s: %s -> %s\n", printable(c.pointer).c_str(),
                  c.expected ? json::serialize(*c.expected).c_str() : "(absent)",
                  c.actual ? json::serialize(*c.actual).c_str() : "(absent)");
    }
    if (t.changes_omitted > 0) std::printf("      ... %zu more\n", t.changes_omitted);
  }
  std::printf("%zu ok, %zu tampered, %zu not in the manifest, %zu missing: %s\n",
              check.comparison.count(manifest::ToolStatus::kOk),
              check.comparison.count(manifest::ToolStatus::kTampered),
              check.comparison.count(manifest::ToolStatus::kNotInManifest),
              check.comparison.count(manifest::ToolStatus::kMissing),
              pass ? "clean" : "tools would be blocked");
  return pass ? kExitOk : kExitFailure;
}

}  // namespace mcpproxy::app
