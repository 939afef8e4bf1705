// See schema_check.h.
#include "router/schema_check.h"

#include <boost/json/serialize.hpp>
#include <optional>

#include "common/utf8.h"

namespace mcpproxy::router {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxDepth = 32;  // schemas and arguments are untrusted

std::string kindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
      return "integer";
    case json::kind::double_:
      return "number";
    case json::kind::string:
      return "string";
    case json::kind::array:
      return "array";
    case json::kind::object:
      return "object";
  }
  return "value";
}

bool isInteger(const json::value& v) {
  if (v.is_int64() || v.is_uint64()) return true;
  if (v.is_double()) {
    double d = v.get_double();
    return d == static_cast<double>(static_cast<long long>(d));
  }
  return false;
}

bool matchesType(std::string_view type, const json::value& v) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_bool();
  if (type == "null") return v.is_null();
  if (type == "integer") return isInteger(v);
  if (type == "number") return v.is_number();
  return true;  // unknown type names are not ours to judge
}

std::optional<double> number(const json::value* v) {
  if (!v || !v->is_number()) return std::nullopt;
  return v->to_number<double>();
}

struct Checker {
  std::vector<std::string> problems;
  std::size_t max_problems;

  bool full() const { return problems.size() >= max_problems; }
  void add(const std::string& path, std::string message) {
    if (!full()) problems.push_back(path + ": " + std::move(message));
  }

  void check(const json::value& schema_value, const json::value& v, const std::string& path,
             std::size_t depth) {
    const auto* schema = schema_value.if_object();
    if (!schema || full() || depth > kMaxDepth) return;

    if (const auto* type = schema->if_contains("type")) {
      bool ok = true;
      std::string expected;
      if (type->is_string()) {
        ok = matchesType(type->get_string(), v);
        expected = std::string(type->get_string());
      } else if (type->is_array()) {
        ok = false;
        for (const auto& t : type->get_array()) {
          if (!t.is_string()) continue;
          if (!expected.empty()) expected += " or ";
          expected += std::string(t.get_string());
          ok = ok || matchesType(t.get_string(), v);
        }
        if (expected.empty()) ok = true;
      }
      if (!ok) {
        add(path, "expected " + expected + ", got " + kindName(v));
        return;  // further keywords would only repeat the mismatch
      }
    }
    if (const auto* values = schema->if_contains("enum"); values && values->is_array()) {
      bool found = false;
      for (const auto& candidate : values->get_array()) found = found || candidate == v;
      if (!found) {
        std::string allowed = json::serialize(*values);
        if (allowed.size() > 200) allowed = allowed.substr(0, 200) + "...";
        add(path, "must be one of " + allowed);
      }
    }
    if (const auto* constant = schema->if_contains("const"); constant && *constant != v) {
      add(path, "must be " + json::serialize(*constant));
    }
    if (v.is_number()) {
      double d = v.to_number<double>();
      if (auto min = number(schema->if_contains("minimum")); min && d < *min) {
        add(path, "must be >= " + json::serialize(schema->at("minimum")));
      }
      if (auto max = number(schema->if_contains("maximum")); max && d > *max) {
        add(path, "must be <= " + json::serialize(schema->at("maximum")));
      }
    }
    if (v.is_string()) {
      auto length = utf8Length(v.get_string());
      if (auto min = number(schema->if_contains("minLength")); min && length < *min) {
        add(path, "must be at least " + json::serialize(schema->at("minLength")) + " characters");
      }
      if (auto max = number(schema->if_contains("maxLength")); max && length > *max) {
        add(path, "must be at most " + json::serialize(schema->at("maxLength")) + " characters");
      }
    }
    if (v.is_array()) {
      const auto& array = v.get_array();
      if (auto min = number(schema->if_contains("minItems")); min && array.size() < *min) {
        add(path, "needs at least " + json::serialize(schema->at("minItems")) + " items");
      }
      if (auto max = number(schema->if_contains("maxItems")); max && array.size() > *max) {
        add(path, "allows at most " + json::serialize(schema->at("maxItems")) + " items");
      }
      if (const auto* items = schema->if_contains("items"); items && items->is_object()) {
        for (std::size_t i = 0; i < array.size() && !full(); ++i) {
          check(*items, array[i], path + "[" + std::to_string(i) + "]", depth + 1);
        }
      }
    }
    if (v.is_object()) {
      const auto& object = v.get_object();
      const json::object* properties = nullptr;
      if (const auto* p = schema->if_contains("properties")) properties = p->if_object();
      if (const auto* required = schema->if_contains("required");
          required && required->is_array()) {
        for (const auto& key : required->get_array()) {
          if (key.is_string() && !object.contains(key.get_string())) {
            add(path, "missing required property \"" + std::string(key.get_string()) + "\"");
          }
        }
      }
      const auto* additional = schema->if_contains("additionalProperties");
      for (const auto& [key, value] : object) {
        std::string child = path + "." + std::string(key);
        if (properties && properties->contains(key)) {
          check(properties->at(key), value, child, depth + 1);
        } else if (additional && additional->is_bool() && !additional->get_bool()) {
          std::string known;
          if (properties) {
            for (const auto& [name, ignored] : *properties) {
              known += (known.empty() ? "" : ", ") + std::string(name);
            }
          }
          add(child,
              "unknown property" + (known.empty() ? std::string() : " (known: " + known + ")"));
        } else if (additional && additional->is_object()) {
          check(*additional, value, child, depth + 1);
        }
      }
    }
  }
};

}  // namespace

std::vector<std::string> checkArguments(const json::value& schema, const json::value& arguments,
                                        std::size_t max_problems) {
  Checker checker{{}, max_problems};
  checker.check(schema, arguments, "args", 0);
  return std::move(checker.problems);
}

}  // namespace mcpproxy::router
