// See token_store.h. File layout: "MCPTOK1" magic, 24-byte nonce, secretbox ciphertext of a JSON
// document that repeats the upstream and issuer (checked on load, so swapping two files cannot
// hand one upstream's tokens to another). File names are `<upstream>.<16 hex of SHA-256(issuer)>
// .tok`: upstream names are restricted to [A-Za-z0-9_.-] by the config parser.
#include "auth/token_store.h"

#include <fcntl.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/config.h"
#include "protocol/jsonrpc.h"

namespace mcpproxy::auth {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMagic = "MCPTOK1";
constexpr std::size_t kMaxFileBytes = 1024 * 1024;

std::int64_t toSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
std::chrono::system_clock::time_point fromSeconds(std::int64_t s) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(s));
}

std::string stringOf(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}
std::int64_t intOf(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v && v->is_int64() ? v->get_int64() : 0;
}

std::string issuerHash(const std::string& issuer) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(issuer.data()), issuer.size(), digest.data());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 8; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

Result<std::string> readFile(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return makeError(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                     "cannot read " + path.string() + ": " + std::strerror(errno));
  }
  std::string out;
  std::array<char, 8192> buffer;
  while (true) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      ::close(fd);
      return makeError(ErrorCode::kIo,
                       "cannot read " + path.string() + ": " + std::strerror(saved));
    }
    if (n == 0) break;
    out.append(buffer.data(), static_cast<std::size_t>(n));
    if (out.size() > kMaxFileBytes) {
      ::close(fd);
      return makeError(ErrorCode::kLimitExceeded, path.string() + " is too large");
    }
  }
  ::close(fd);
  return out;
}

bool belongsTo(const std::string& file_name, const std::string& upstream) {
  // <upstream>.<16 hex>.tok
  const std::size_t expected = upstream.size() + 1 + 16 + 4;
  if (file_name.size() != expected || !file_name.starts_with(upstream + ".") ||
      !file_name.ends_with(".tok")) {
    return false;
  }
  return std::all_of(file_name.begin() + static_cast<long>(upstream.size()) + 1,
                     file_name.end() - 4,
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

std::string serializeStoredAuth(const StoredAuth& e) {
  json::object o;
  o["upstream"] = e.upstream;
  o["issuer"] = e.issuer;
  o["resource"] = e.resource;
  o["token_endpoint"] = e.token_endpoint;
  o["saved_at"] = toSeconds(e.saved_at);
  json::object client;
  client["client_id"] = e.client.client_id;
  client["client_secret"] = e.client.client_secret.reveal();
  client["token_endpoint_auth_method"] = e.client.token_endpoint_auth_method;
  client["redirect_uri"] = e.client.redirect_uri;
  client["source"] = e.client.source;
  o["client"] = std::move(client);
  if (e.tokens) {
    json::object t;
    t["access_token"] = e.tokens->access_token.reveal();
    t["refresh_token"] = e.tokens->refresh_token.reveal();
    t["token_type"] = e.tokens->token_type;
    t["scope"] = e.tokens->scope;
    t["expires_at"] = toSeconds(e.tokens->expires_at);
    o["tokens"] = std::move(t);
  }
  return json::serialize(o);
}

Result<StoredAuth> parseStoredAuth(std::string_view text) {
  auto parsed = protocol::parseJson(text, protocol::Limits{kMaxFileBytes, 8});
  if (!parsed || !parsed->is_object()) {
    return makeError(ErrorCode::kProtocol, "the token entry is not a JSON object");
  }
  const auto& o = parsed->get_object();
  StoredAuth e;
  e.upstream = stringOf(o, "upstream");
  e.issuer = stringOf(o, "issuer");
  e.resource = stringOf(o, "resource");
  e.token_endpoint = stringOf(o, "token_endpoint");
  e.saved_at = fromSeconds(intOf(o, "saved_at"));
  if (const auto* c = o.if_contains("client"); c && c->is_object()) {
    const auto& client = c->get_object();
    e.client.client_id = stringOf(client, "client_id");
    e.client.client_secret = Secret(stringOf(client, "client_secret"));
    e.client.token_endpoint_auth_method = stringOf(client, "token_endpoint_auth_method");
    e.client.redirect_uri = stringOf(client, "redirect_uri");
    e.client.source = stringOf(client, "source");
  }
  if (const auto* t = o.if_contains("tokens"); t && t->is_object()) {
    const auto& tokens = t->get_object();
    TokenSet set;
    set.access_token = Secret(stringOf(tokens, "access_token"));
    set.refresh_token = Secret(stringOf(tokens, "refresh_token"));
    set.token_type = stringOf(tokens, "token_type");
    set.scope = stringOf(tokens, "scope");
    set.expires_at = fromSeconds(intOf(tokens, "expires_at"));
    e.tokens = std::move(set);
  }
  if (e.upstream.empty() || e.issuer.empty()) {
    return makeError(ErrorCode::kProtocol, "the token entry has no upstream or issuer");
  }
  return e;
}

// --- MemoryTokenStore ---

asio::awaitable<Result<std::vector<StoredAuth>>> MemoryTokenStore::load(std::string upstream) {
  std::vector<StoredAuth> out;
  for (const auto& e : entries_) {
    if (e.upstream == upstream) out.push_back(e);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.saved_at > b.saved_at; });
  co_return out;
}

asio::awaitable<Result<void>> MemoryTokenStore::save(StoredAuth entry) {
  std::erase_if(entries_, [&](const auto& e) {
    return e.upstream == entry.upstream && e.issuer == entry.issuer;
  });
  entries_.push_back(std::move(entry));
  co_return Result<void>{};
}

asio::awaitable<Result<void>> MemoryTokenStore::erase(std::string upstream, std::string issuer) {
  std::erase_if(entries_, [&](const auto& e) {
    return e.upstream == upstream && (issuer.empty() || e.issuer == issuer);
  });
  co_return Result<void>{};
}

// --- EncryptedTokenStore ---

struct EncryptedTokenStore::Impl {
  fs::path dir;
  std::array<unsigned char, crypto_secretbox_KEYBYTES> key{};
  asio::thread_pool worker{1};
  ~Impl() {
    worker.join();
    sodium_memzero(key.data(), key.size());
  }
};

Result<std::unique_ptr<EncryptedTokenStore>> EncryptedTokenStore::open(
    asio::any_io_executor executor, fs::path dir, fs::path key_file) {
  (void)executor;
  if (sodium_init() < 0) return makeError(ErrorCode::kInternal, "libsodium failed to initialise");
  auto impl = std::make_unique<Impl>();
  impl->dir = std::move(dir);
  std::error_code ec;
  if (!fs::exists(impl->dir, ec)) {
    if (::mkdir(impl->dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return makeError(ErrorCode::kIo,
                       "cannot create " + impl->dir.string() + ": " + std::strerror(errno));
    }
  }
  int fd = ::open(key_file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
      ::close(fd);
      return makeError(ErrorCode::kInvalidArgument,
                       key_file.string() + " must be readable by its owner only (chmod 600)");
    }
    ssize_t n = ::read(fd, impl->key.data(), impl->key.size());
    ::close(fd);
    if (n != static_cast<ssize_t>(impl->key.size())) {
      return makeError(
          ErrorCode::kInvalidArgument,
          key_file.string() + " is not a " + std::to_string(impl->key.size()) + "-byte key");
    }
  } else if (errno == ENOENT) {
    randombytes_buf(impl->key.data(), impl->key.size());
    fd = ::open(key_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      return makeError(ErrorCode::kIo,
                       "cannot create " + key_file.string() + ": " + std::strerror(errno));
    }
    bool ok =
        ::write(fd, impl->key.data(), impl->key.size()) == static_cast<ssize_t>(impl->key.size()) &&
        ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) {
      ::unlink(key_file.c_str());
      return makeError(ErrorCode::kIo, "cannot write " + key_file.string());
    }
  } else {
    return makeError(ErrorCode::kIo,
                     "cannot read " + key_file.string() + ": " + std::strerror(errno));
  }
  return std::unique_ptr<EncryptedTokenStore>(new EncryptedTokenStore(std::move(impl)));
}

EncryptedTokenStore::EncryptedTokenStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EncryptedTokenStore::~EncryptedTokenStore() = default;

fs::path EncryptedTokenStore::pathFor(const std::string& upstream,
                                      const std::string& issuer) const {
  return impl_->dir / (upstream + "." + issuerHash(issuer) + ".tok");
}

Result<void> EncryptedTokenStore::saveNow(const StoredAuth& entry) const {
  if (entry.upstream.empty() || entry.upstream.find('/') != std::string::npos ||
      entry.upstream.starts_with(".")) {
    return makeError(ErrorCode::kInvalidArgument, "bad upstream name for the token store");
  }
  std::string plain = serializeStoredAuth(entry);
  std::string file(kMagic);
  std::array<unsigned char, crypto_secretbox_NONCEBYTES> nonce{};
  randombytes_buf(nonce.data(), nonce.size());
  file.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());
  std::string sealed(plain.size() + crypto_secretbox_MACBYTES, '\0');
  crypto_secretbox_easy(reinterpret_cast<unsigned char*>(sealed.data()),
                        reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
                        nonce.data(), impl_->key.data());
  sodium_memzero(plain.data(), plain.size());
  file += sealed;
  return config::writeFileAtomic(pathFor(entry.upstream, entry.issuer), file);
}

Result<std::vector<StoredAuth>> EncryptedTokenStore::loadNow(const std::string& upstream) const {
  std::vector<StoredAuth> out;
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(impl_->dir, ec)) {
    std::string name = item.path().filename().string();
    if (!belongsTo(name, upstream)) continue;
    auto data = readFile(item.path());
    if (!data) return std::unexpected(data.error());
    const std::size_t header = kMagic.size() + crypto_secretbox_NONCEBYTES;
    if (data->size() < header + crypto_secretbox_MACBYTES || !data->starts_with(kMagic)) {
      return makeError(ErrorCode::kProtocol, item.path().string() + " is not a token file");
    }
    std::string plain(data->size() - header - crypto_secretbox_MACBYTES, '\0');
    const auto* bytes = reinterpret_cast<const unsigned char*>(data->data());
    if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()), bytes + header,
                                   data->size() - header, bytes + kMagic.size(),
                                   impl_->key.data()) != 0) {
      return makeError(
          ErrorCode::kProtocol,
          item.path().string() + " does not decrypt with the key (tampered, or another key file)");
    }
    auto entry = parseStoredAuth(plain);
    sodium_memzero(plain.data(), plain.size());
    if (!entry) return std::unexpected(entry.error());
    if (entry->upstream != upstream || pathFor(entry->upstream, entry->issuer) != item.path()) {
      return makeError(ErrorCode::kProtocol, item.path().string() + " belongs to another entry");
    }
    out.push_back(std::move(*entry));
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return makeError(ErrorCode::kIo, "cannot list " + impl_->dir.string() + ": " + ec.message());
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.saved_at > b.saved_at; });
  return out;
}

Result<void> EncryptedTokenStore::eraseNow(const std::string& upstream,
                                           const std::string& issuer) const {
  std::error_code ec;
  if (!issuer.empty()) {
    fs::remove(pathFor(upstream, issuer), ec);
    if (ec) return makeError(ErrorCode::kIo, "cannot remove a token file: " + ec.message());
    return {};
  }
  std::vector<fs::path> doomed;
  for (const auto& item : fs::directory_iterator(impl_->dir, ec)) {
    if (belongsTo(item.path().filename().string(), upstream)) doomed.push_back(item.path());
  }
  for (const auto& path : doomed) {
    fs::remove(path, ec);
    if (ec)
      return makeError(ErrorCode::kIo, "cannot remove " + path.string() + ": " + ec.message());
  }
  return {};
}

// The file work runs on the worker thread; the caller resumes on its own executor. (The task
// lambdas are named locals: a lambda temporary inside a co_await operand trips g++ 12.)
asio::awaitable<Result<std::vector<StoredAuth>>> EncryptedTokenStore::load(std::string upstream) {
  auto task = [this, upstream]() -> asio::awaitable<Result<std::vector<StoredAuth>>> {
    co_return loadNow(upstream);
  };
  auto result = co_await asio::co_spawn(impl_->worker, std::move(task), asio::use_awaitable);
  co_return result;
}

asio::awaitable<Result<void>> EncryptedTokenStore::save(StoredAuth entry) {
  auto task = [this, entry = std::move(entry)]() -> asio::awaitable<Result<void>> {
    co_return saveNow(entry);
  };
  auto result = co_await asio::co_spawn(impl_->worker, std::move(task), asio::use_awaitable);
  co_return result;
}

asio::awaitable<Result<void>> EncryptedTokenStore::erase(std::string upstream, std::string issuer) {
  auto task = [this, upstream, issuer]() -> asio::awaitable<Result<void>> {
    co_return eraseNow(upstream, issuer);
  };
  auto result = co_await asio::co_spawn(impl_->worker, std::move(task), asio::use_awaitable);
  co_return result;
}

}  // namespace mcpproxy::auth
