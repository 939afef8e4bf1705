// See cli_util.h. The config document is edited as JSON rather than re-serialised from
// config::Config so a command that adds one server does not reorder, drop or rewrite anything
// else a person wrote; every write is validated by the real parser first and is atomic.
#include "app/cli_util.h"

#include <unistd.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "app/paths.h"
#include "protocol/jsonrpc.h"

namespace mcpproxy::app {

namespace json = boost::json;
namespace fs = std::filesystem;

Locations resolveLocations(const CommonOptions& options) {
  Locations out;
  out.config_path = configPath(options.config_path, options.data_dir);
  if (!options.data_dir.empty()) {
    out.data_dir = expandHome(options.data_dir);
  } else {
    std::vector<std::string> warnings;
    auto cfg = config::loadConfigFile(out.config_path, warnings);
    out.data_dir =
        cfg && !cfg->data_dir.empty() ? expandHome(cfg->data_dir) : homeDirectory() / ".mcpproxy";
  }
  out.socket_path = out.data_dir / "mcpproxy.sock";
  return out;
}

namespace {

json::value* serversValue(json::object& root) {
  return root.if_contains("mcpServers");
}

}  // namespace

std::vector<std::string> ConfigDocument::serverNames() const {
  std::vector<std::string> names;
  const auto* servers = root.if_contains("mcpServers");
  if (!servers) return names;
  if (servers->is_array()) {
    for (const auto& entry : servers->get_array()) {
      const auto* name = entry.is_object() ? entry.get_object().if_contains("name") : nullptr;
      if (name && name->is_string()) names.emplace_back(name->get_string());
    }
  } else if (servers->is_object()) {
    for (const auto& [key, entry] : servers->get_object()) names.emplace_back(key);
  }
  return names;
}

json::object* ConfigDocument::findServer(std::string_view name) {
  json::value* servers = serversValue(root);
  if (!servers) return nullptr;
  if (servers->is_array()) {
    for (auto& entry : servers->get_array()) {
      if (!entry.is_object()) continue;
      const auto* n = entry.get_object().if_contains("name");
      if (n && n->is_string() && n->get_string() == name) return &entry.get_object();
    }
  } else if (servers->is_object()) {
    auto* entry = servers->get_object().if_contains(name);
    if (entry && entry->is_object()) return &entry->get_object();
  }
  return nullptr;
}

void ConfigDocument::addServer(json::object entry) {
  json::value* servers = serversValue(root);
  if (!servers || servers->is_null()) {
    root["mcpServers"] = json::array{};
    servers = serversValue(root);
  }
  if (servers->is_object()) {
    std::string name(entry.at("name").as_string());
    entry.erase("name");
    servers->get_object()[name] = std::move(entry);
  } else if (servers->is_array()) {
    servers->get_array().push_back(std::move(entry));
  }
}

bool ConfigDocument::removeServer(std::string_view name) {
  json::value* servers = serversValue(root);
  if (!servers) return false;
  if (servers->is_object()) return servers->get_object().erase(name) > 0;
  if (!servers->is_array()) return false;
  auto& array = servers->get_array();
  for (auto it = array.begin(); it != array.end(); ++it) {
    const auto* n = it->is_object() ? it->get_object().if_contains("name") : nullptr;
    if (n && n->is_string() && n->get_string() == name) {
      array.erase(it);
      return true;
    }
  }
  return false;
}

Result<ConfigDocument> loadConfigDocument(const fs::path& path) {
  ConfigDocument document;
  document.path = path;
  std::error_code ec;
  std::string text;
  if (fs::exists(path, ec)) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return makeError(ErrorCode::kIo, "cannot read config file " + path.string());
    std::ostringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
    document.existed = true;
  } else {
    text = config::defaultConfigText();
  }
  // The real parser first, so a broken file is reported with the field that is wrong.
  std::vector<std::string> warnings;
  if (auto parsed = config::parseConfig(text, warnings); !parsed) {
    return makeError(ErrorCode::kInvalidArgument,
                     "config file " + path.string() + ": " + parsed.error().message);
  }
  protocol::Limits limits;
  limits.max_message_bytes = 64 * 1024 * 1024;
  auto value = protocol::parseJson(text, limits);
  if (!value || !value->is_object()) {
    return makeError(ErrorCode::kInvalidArgument, "config file " + path.string() + ": not JSON");
  }
  document.root = std::move(value->get_object());
  return document;
}

Result<void> saveConfigDocument(const ConfigDocument& document) {
  std::string text = prettyJson(document.root);
  std::vector<std::string> warnings;
  if (auto parsed = config::parseConfig(text, warnings); !parsed) {
    return makeError(ErrorCode::kInvalidArgument,
                     "the change would break the config: " + parsed.error().message);
  }
  return config::writeFileAtomic(document.path, text);
}

namespace {

void pretty(const json::value& value, std::string& out, int indent) {
  auto newline = [&](int level) {
    out += '\n';
    out.append(static_cast<std::size_t>(level) * 2, ' ');
  };
  if (value.is_object()) {
    const auto& object = value.get_object();
    if (object.empty()) {
      out += "{}";
      return;
    }
    out += '{';
    bool first = true;
    for (const auto& [key, member] : object) {
      if (!first) out += ',';
      first = false;
      newline(indent + 1);
      out += json::serialize(json::string(key));
      out += ": ";
      pretty(member, out, indent + 1);
    }
    newline(indent);
    out += '}';
  } else if (value.is_array()) {
    const auto& array = value.get_array();
    // Arrays of scalars (args) stay on one line.
    bool scalars = std::all_of(array.begin(), array.end(), [](const json::value& v) {
      return !v.is_object() && !v.is_array();
    });
    if (array.empty() || scalars) {
      out += json::serialize(value);
      return;
    }
    out += '[';
    bool first = true;
    for (const auto& element : array) {
      if (!first) out += ',';
      first = false;
      newline(indent + 1);
      pretty(element, out, indent + 1);
    }
    newline(indent);
    out += ']';
  } else {
    out += json::serialize(value);
  }
}

}  // namespace

std::string prettyJson(const json::value& value) {
  std::string out;
  pretty(value, out, 0);
  out += '\n';
  return out;
}

void printJson(const json::value& value) {
  std::string text = json::serialize(value);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
}

void printTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  };
  measure(header);
  for (const auto& row : rows) measure(row);
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(width[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::printf("%s\n", line.c_str());
  };
  print(header);
  for (const auto& row : rows) print(row);
}

void printLineDiff(const std::string& a, const std::string& b, std::size_t context) {
  auto lines = [](const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
      auto end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      out.push_back(text.substr(start, end - start));
      start = end + 1;
    }
    return out;
  };
  auto left = lines(a), right = lines(b);
  // Longest common subsequence: config files and definitions are small, quadratic is fine.
  std::vector<std::vector<int>> lcs(left.size() + 1, std::vector<int>(right.size() + 1));
  for (std::size_t i = left.size(); i-- > 0;) {
    for (std::size_t j = right.size(); j-- > 0;) {
      lcs[i][j] =
          left[i] == right[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::vector<std::pair<char, std::string>> out;
  std::size_t i = 0, j = 0;
  while (i < left.size() || j < right.size()) {
    if (i < left.size() && j < right.size() && left[i] == right[j]) {
      out.emplace_back(' ', left[i]);
      ++i, ++j;
    } else if (i < left.size() && (j == right.size() || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.emplace_back('-', left[i++]);  // removals first, as diff(1) prints them
    } else {
      out.emplace_back('+', right[j++]);
    }
  }
  std::vector<bool> show(out.size(), false);
  for (std::size_t k = 0; k < out.size(); ++k) {
    if (out[k].first == ' ') continue;
    std::size_t from = k >= context ? k - context : 0;
    std::size_t to = std::min(
        out.size(), context == static_cast<std::size_t>(-1) ? out.size() : k + context + 1);
    for (std::size_t m = from; m < to; ++m) show[m] = true;
  }
  bool all = context == static_cast<std::size_t>(-1);
  bool skipped = false;
  for (std::size_t k = 0; k < out.size(); ++k) {
    if (!all && !show[k]) {
      skipped = true;
      continue;
    }
    if (skipped) std::printf("  ...\n");
    skipped = false;
    std::printf("%c %s\n", out[k].first, out[k].second.c_str());
  }
}

void printError(std::string_view message) {
  // Messages relayed from the daemon may already name the proxy: one prefix is enough.
  while (message.starts_with("mcpproxy: ")) message.remove_prefix(10);
  std::fprintf(stderr, "mcpproxy: %.*s\n", static_cast<int>(message.size()), message.data());
}

fs::path selfExecutable() {
  std::error_code ec;
  auto path = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "mcpproxy";
  return path;
}

}  // namespace mcpproxy::app
