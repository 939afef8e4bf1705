// A server's current tool list against its manifest, tool by tool: `ok` (same pin hash),
// `tampered` (listed under a name the manifest has, with another definition: the changed fields
// as JSON Pointers), `not_in_manifest` (listed, but the manifest does not vouch for it),
// `missing` (in the manifest, not listed now: nothing to block, worth showing). The hash
// decides; the field diff explains. Pure: no I/O.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "manifest/format.h"

namespace mcpproxy::manifest {

enum class ToolStatus { kOk, kTampered, kNotInManifest, kMissing };

std::string_view statusName(ToolStatus status);  // "ok", "tampered", ...

// One differing field: RFC 6901 pointer into the pinned definition ("/description",
// "/inputSchema/properties/path/type"); absent values mean the field exists on one side only.
struct FieldChange {
  std::string pointer;
  std::optional<json::value> expected;  // the manifest's
  std::optional<json::value> actual;    // the server's
};

// Changes reported per tool; the rest are counted in `changes_omitted`.
inline constexpr std::size_t kMaxChangesPerTool = 50;

struct ToolCheck {
  std::string name;
  ToolStatus status = ToolStatus::kOk;
  std::string expected_hash;         // empty for not_in_manifest
  std::string actual_hash;           // empty for missing
  std::vector<FieldChange> changes;  // tampered only
  std::size_t changes_omitted = 0;
};

struct Comparison {
  std::vector<ToolCheck> tools;  // sorted by name

  // True when nothing must be blocked (every listed tool is ok; missing ones are allowed).
  bool clean() const;
  std::size_t count(ToolStatus status) const;
  const ToolCheck* find(std::string_view name) const;
};

// `current`: the definitions the server lists now, as it sent them (only the pinned fields are
// compared). Entries without a string "name" are skipped, as the store skips them.
Comparison compareTools(const Manifest& manifest, const std::vector<json::object>& current);

// The field-level difference of two definitions' pinned fields (empty when their canonical
// forms are equal).
std::vector<FieldChange> diffDefinitions(const json::object& expected, const json::object& actual,
                                         std::size_t* omitted = nullptr);

// A server-level mismatch of identity: the manifest names a URL and the server is configured
// with another one (compared without query and fragment). nullopt when they agree or the
// manifest names none.
std::optional<std::string> identityMismatch(const Manifest& manifest,
                                            std::string_view configured_url);

// The URL without its query and fragment (what a manifest records as the server's url).
std::string urlWithoutQuery(std::string_view url);

json::object toJson(const ToolCheck& check);
json::object toJson(const Comparison& comparison);

}  // namespace mcpproxy::manifest
