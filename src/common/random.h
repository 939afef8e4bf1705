// Cryptographically random tokens (session ids, jitter seeds) from OpenSSL's CSPRNG.
#pragma once

#include <cstdint>
#include <string>

namespace mcpproxy {

// Hex string of `bytes` random bytes (2*bytes visible ASCII characters).
std::string randomHex(std::size_t bytes);

// Uniform double in [0, 1) for backoff jitter (not for secrets).
double randomUnit();

}  // namespace mcpproxy
