// Random tokens from OpenSSL RAND_bytes; falls back to aborting rather than weak ids.
#include "common/random.h"

#include <openssl/rand.h>

#include <cstdlib>
#include <vector>

namespace mcpproxy {

std::string randomHex(std::size_t bytes) {
  std::vector<unsigned char> buffer(bytes);
  if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1) {
    std::abort();  // Invariant: the CSPRNG works. Predictable session ids are worse than a crash.
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char b : buffer) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xF]);
  }
  return out;
}

double randomUnit() {
  std::uint64_t value = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&value), sizeof value) != 1) return 0.5;
  return static_cast<double>(value >> 11) * 0x1.0p-53;
}

}  // namespace mcpproxy
