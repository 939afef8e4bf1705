// Signed tool manifests on the command line (docs/manifests.md, docs/cli.md):
//   mcpproxy manifest keygen --out FILE [--id ID]
//   mcpproxy manifest sign --key FILE [--key FILE]... --server NAME --out F [--version V]
//                          [--expires DURATION|DATE] [--package P]
//   mcpproxy manifest verify F [--public-key B64]
//   mcpproxy manifest show F
//   mcpproxy manifest check SERVER [--file F]
// None needs a daemon: sign and check read the database of the data directory, verify and check
// the config's trusted_keys.
#pragma once

#include <string>
#include <vector>

namespace mcpproxy::app {

struct ManifestOptions {
  std::string config_path;
  std::string data_dir;
  std::string out;                     // keygen, sign
  std::string key_id;                  // keygen --id
  std::vector<std::string> key_files;  // sign --key
  std::string server;                  // sign --server, check SERVER
  std::string version;                 // sign
  std::string expires;                 // sign
  std::string package;                 // sign
  std::string file;                    // verify, show, check --file
  std::string public_key;              // verify --public-key
  bool json = false;
};

int runManifestKeygen(const ManifestOptions& options);
// Exit 0 only for a valid signature (by --public-key, else by a configured trusted key).
int runManifestVerify(const ManifestOptions& options);
int runManifestSign(const ManifestOptions& options);
int runManifestShow(const ManifestOptions& options);
// Exit 0 only when the server's manifest verifies and every tool it lists now matches.
int runManifestCheck(const ManifestOptions& options);

}  // namespace mcpproxy::app
