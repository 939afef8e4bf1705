// Where the OAuth client keeps what it obtained for an upstream, per (upstream, issuer): the
// dynamic client registration, the access and refresh tokens, and what refreshing needs (token
// endpoint, resource) so a restart does not mean a new login.
//
// EncryptedTokenStore writes one file per entry, `<dir>/<hex id>.tok`, sealed with libsodium's
// crypto_secretbox (XSalsa20-Poly1305, random nonce per write) under a 32-byte key kept in
// `<key file>` (mode 0600, created on first use). Files are mode 0600, written atomically.
// File I/O runs on the store's own worker thread, never on the event loop. Nothing here logs a
// token; Secret fields print as "***".
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/secret.h"

namespace mcpproxy::auth {

struct TokenSet {
  Secret access_token;
  Secret refresh_token;  // may be empty
  std::string token_type = "Bearer";
  std::string scope;                                   // space-separated, as granted
  std::chrono::system_clock::time_point expires_at{};  // epoch: unknown
};

struct ClientRegistration {
  std::string client_id;
  Secret client_secret;
  std::string
      token_endpoint_auth_method;  // none, client_secret_basic, client_secret_post, private_key_jwt
  std::string redirect_uri;        // the one registered (DCR)
  std::string source;              // "config", "cimd", "dcr", "fallback-dcr"
};

struct StoredAuth {
  std::string upstream;
  std::string issuer;
  std::string resource;        // the RFC 8707 resource the tokens are for
  std::string token_endpoint;  // for refreshing without discovery
  ClientRegistration client;   // stored only for DCR registrations
  std::optional<TokenSet> tokens;
  std::chrono::system_clock::time_point saved_at{};
};

// Serialization used by the encrypted store (exposed for tests).
std::string serializeStoredAuth(const StoredAuth& entry);
Result<StoredAuth> parseStoredAuth(std::string_view text);

class TokenStorage {
 public:
  virtual ~TokenStorage() = default;
  // Every entry of `upstream` (any issuer), newest first.
  virtual boost::asio::awaitable<Result<std::vector<StoredAuth>>> load(std::string upstream) = 0;
  virtual boost::asio::awaitable<Result<void>> save(StoredAuth entry) = 0;
  // Forgets the entry of (upstream, issuer); with an empty issuer every entry of `upstream`.
  virtual boost::asio::awaitable<Result<void>> erase(std::string upstream, std::string issuer) = 0;
};

// In memory only (tests, --stdio sessions that must not write).
class MemoryTokenStore final : public TokenStorage {
 public:
  boost::asio::awaitable<Result<std::vector<StoredAuth>>> load(std::string upstream) override;
  boost::asio::awaitable<Result<void>> save(StoredAuth entry) override;
  boost::asio::awaitable<Result<void>> erase(std::string upstream, std::string issuer) override;

 private:
  std::vector<StoredAuth> entries_;
};

class EncryptedTokenStore final : public TokenStorage {
 public:
  // `dir` is created (0700) when missing; `key_file` is read, or created with a fresh random key.
  static Result<std::unique_ptr<EncryptedTokenStore>> open(boost::asio::any_io_executor executor,
                                                           std::filesystem::path dir,
                                                           std::filesystem::path key_file);
  ~EncryptedTokenStore() override;

  boost::asio::awaitable<Result<std::vector<StoredAuth>>> load(std::string upstream) override;
  boost::asio::awaitable<Result<void>> save(StoredAuth entry) override;
  boost::asio::awaitable<Result<void>> erase(std::string upstream, std::string issuer) override;

  // Synchronous forms (the CLI, tests); the awaitable ones run these on the worker thread.
  Result<std::vector<StoredAuth>> loadNow(const std::string& upstream) const;
  Result<void> saveNow(const StoredAuth& entry) const;
  Result<void> eraseNow(const std::string& upstream, const std::string& issuer) const;

  std::filesystem::path pathFor(const std::string& upstream, const std::string& issuer) const;

 private:
  struct Impl;
  explicit EncryptedTokenStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mcpproxy::auth
