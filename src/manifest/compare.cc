// See compare.h. Leaves are compared by their canonical JSON (storage::canonicalJson), the form
// the pin hash covers, so 1 and 1.0 differ here exactly as they differ in the hash.
#include "manifest/compare.h"

#include <algorithm>
#include <map>
#include <set>

#include "storage/tool_hash.h"

namespace mcpproxy::manifest {

namespace {

// RFC 6901: "~" -> "~0", "/" -> "~1".
std::string escapePointer(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

struct Differ {
  std::vector<FieldChange>& out;
  std::size_t omitted = 0;

  void add(std::string pointer, const json::value* expected, const json::value* actual) {
    if (out.size() >= kMaxChangesPerTool) {
      ++omitted;
      return;
    }
    FieldChange change{std::move(pointer), std::nullopt, std::nullopt};
    if (expected) change.expected = *expected;
    if (actual) change.actual = *actual;
    out.push_back(std::move(change));
  }

  // Recursion depth is bounded by the parse depth limits both sides went through.
  void diff(const std::string& pointer, const json::value& expected, const json::value& actual) {
    if (expected.is_object() && actual.is_object()) {
      diffObjects(pointer, expected.get_object(), actual.get_object());
      return;
    }
    if (expected.is_array() && actual.is_array()) {
      const auto& a = expected.get_array();
      const auto& b = actual.get_array();
      std::size_t common = std::min(a.size(), b.size());
      for (std::size_t i = 0; i < common; ++i) diff(pointer + "/" + std::to_string(i), a[i], b[i]);
      for (std::size_t i = common; i < a.size(); ++i) {
        add(pointer + "/" + std::to_string(i), &a[i], nullptr);
      }
      for (std::size_t i = common; i < b.size(); ++i) {
        add(pointer + "/" + std::to_string(i), nullptr, &b[i]);
      }
      return;
    }
    if (storage::canonicalJson(expected) != storage::canonicalJson(actual)) {
      add(pointer, &expected, &actual);
    }
  }

  void diffObjects(const std::string& pointer, const json::object& expected,
                   const json::object& actual) {
    std::set<std::string_view> keys;
    for (const auto& member : expected) keys.insert(member.key());
    for (const auto& member : actual) keys.insert(member.key());
    for (std::string_view key : keys) {
      std::string child = pointer + "/" + escapePointer(key);
      const json::value* a = expected.if_contains(key);
      const json::value* b = actual.if_contains(key);
      if (a && b) {
        diff(child, *a, *b);
      } else {
        add(child, a, b);
      }
    }
  }
};

}  // namespace

std::string_view statusName(ToolStatus status) {
  switch (status) {
    case ToolStatus::kOk:
      return "ok";
    case ToolStatus::kTampered:
      return "tampered";
    case ToolStatus::kNotInManifest:
      return "not_in_manifest";
    case ToolStatus::kMissing:
      return "missing";
  }
  return "tampered";
}

bool Comparison::clean() const {
  return std::none_of(tools.begin(), tools.end(), [](const ToolCheck& t) {
    return t.status == ToolStatus::kTampered || t.status == ToolStatus::kNotInManifest;
  });
}

std::size_t Comparison::count(ToolStatus status) const {
  return static_cast<std::size_t>(std::count_if(
      tools.begin(), tools.end(), [status](const ToolCheck& t) { return t.status == status; }));
}

const ToolCheck* Comparison::find(std::string_view name) const {
  for (const auto& t : tools) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::vector<FieldChange> diffDefinitions(const json::object& expected, const json::object& actual,
                                         std::size_t* omitted) {
  std::vector<FieldChange> out;
  Differ differ{out};
  differ.diffObjects("", pinnedFields(expected), pinnedFields(actual));
  if (omitted) *omitted = differ.omitted;
  return out;
}

Comparison compareTools(const Manifest& manifest, const std::vector<json::object>& current) {
  Comparison result;
  std::set<std::string_view> listed;
  for (const auto& definition : current) {
    const json::value* name = definition.if_contains("name");
    if (!name || !name->is_string()) continue;
    std::string_view tool_name = name->get_string();
    listed.insert(tool_name);
    ToolCheck check;
    check.name = std::string(tool_name);
    check.actual_hash = storage::toolHash(definition);
    const ManifestTool* expected = manifest.find(tool_name);
    if (!expected) {
      check.status = ToolStatus::kNotInManifest;
    } else {
      check.expected_hash = expected->hash;
      if (check.expected_hash == check.actual_hash) {
        check.status = ToolStatus::kOk;
      } else {
        check.status = ToolStatus::kTampered;
        check.changes = diffDefinitions(expected->definition, definition, &check.changes_omitted);
        // The hash decides. Equal fields with different hashes mean the manifest's definition
        // does not reproduce its own hash (a signer's bug, or numbers Boost.JSON 1.81 does not
        // round-trip): say so rather than show an empty diff.
        if (check.changes.empty()) check.changes.push_back({"", std::nullopt, std::nullopt});
      }
    }
    result.tools.push_back(std::move(check));
  }
  for (const auto& tool : manifest.tools) {
    if (listed.contains(tool.name)) continue;
    ToolCheck check;
    check.name = tool.name;
    check.status = ToolStatus::kMissing;
    check.expected_hash = tool.hash;
    result.tools.push_back(std::move(check));
  }
  std::stable_sort(result.tools.begin(), result.tools.end(),
                   [](const ToolCheck& a, const ToolCheck& b) { return a.name < b.name; });
  return result;
}

std::string urlWithoutQuery(std::string_view url) {
  auto cut = url.find_first_of("?#");
  return std::string(url.substr(0, cut));
}

std::optional<std::string> identityMismatch(const Manifest& manifest,
                                            std::string_view configured_url) {
  if (manifest.server.url.empty()) return std::nullopt;
  std::string configured = urlWithoutQuery(configured_url);
  if (urlWithoutQuery(manifest.server.url) == configured) return std::nullopt;
  return "the manifest is for " + urlWithoutQuery(manifest.server.url) +
         ", but the server is configured with " + (configured.empty() ? "a command" : configured);
}

json::object toJson(const ToolCheck& check) {
  json::object out{{"name", check.name}, {"status", statusName(check.status)}};
  if (!check.expected_hash.empty()) out["expected_hash"] = check.expected_hash;
  if (!check.actual_hash.empty()) out["actual_hash"] = check.actual_hash;
  if (check.status == ToolStatus::kTampered) {
    json::array changes;
    for (const auto& c : check.changes) {
      json::object change{{"pointer", c.pointer}};
      if (c.expected) change["expected"] = *c.expected;
      if (c.actual) change["actual"] = *c.actual;
      if (c.pointer.empty() && !c.expected && !c.actual) {
        change["note"] = "the fields are equal but the hashes differ";
      }
      changes.push_back(std::move(change));
    }
    out["changes"] = std::move(changes);
    if (check.changes_omitted > 0) out["changes_omitted"] = check.changes_omitted;
  }
  return out;
}

json::object toJson(const Comparison& comparison) {
  json::array tools;
  for (const auto& t : comparison.tools) tools.push_back(toJson(t));
  return json::object{{"clean", comparison.clean()}, {"tools", std::move(tools)}};
}

}  // namespace mcpproxy::manifest
