// See scan_lookup.h. Everything here is derived from the upstreams' current tool lists and
// rebuilt lazily after invalidate(); the router invalidates whenever a server's tools change.
#include "router/scan_lookup.h"

#include <algorithm>
#include <set>

namespace mcpproxy::router {

namespace {

bool isWord(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

std::string lowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view stringField(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

}  // namespace

void ScanLookup::invalidate() {
  built_ = false;
  context_valid_ = false;
  servers_by_tool_.clear();
  mentions_.clear();
}

namespace {

// Word runs joined by single '-' or '.', starting and ending with a word byte: the names the
// word-by-word scan below can find.
bool findableName(std::string_view name) {
  if (name.empty() || !isWord(name.front()) || !isWord(name.back())) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!isWord(name[i]) && !((name[i] == '-' || name[i] == '.') && isWord(name[i + 1])))
      return false;
  }
  return true;
}

}  // namespace

void ScanLookup::ensure(const Upstreams& upstreams) {
  if (built_) return;
  built_ = true;
  for (const auto& upstream : upstreams) {
    for (const auto& tool : upstream->tools()) {
      std::string_view name = stringField(tool, "name");
      if (!name.empty()) servers_by_tool_[std::string(name)].push_back(upstream->name());
      std::string lname = lowerAscii(name);
      if (lname.size() >= 4 && findableName(lname)) mentions_.try_emplace(std::move(lname));
    }
  }
  // Each description once, word by word: a word, or a word joined to the next ones by '-' or
  // '.', that is some tool's name is a mention of it.
  for (const auto& upstream : upstreams) {
    for (const auto& tool : upstream->tools()) {
      std::string text = lowerAscii(stringField(tool, "description"));
      std::string tool_name(stringField(tool, "name"));
      std::set<std::string_view> seen;  // one entry per tool and name
      auto mention = [&](std::string_view candidate) {
        if (candidate.size() < 4 || !seen.insert(candidate).second) return;
        if (auto it = mentions_.find(std::string(candidate)); it != mentions_.end())
          it->second.emplace_back(upstream->name(), tool_name);
      };
      for (std::size_t i = 0; i < text.size();) {
        if (!isWord(text[i])) {
          ++i;
          continue;
        }
        std::size_t j = i;
        while (j < text.size() && isWord(text[j])) ++j;
        mention(std::string_view(text.data() + i, j - i));
        for (std::size_t e = j;
             e + 1 < text.size() && (text[e] == '-' || text[e] == '.') && isWord(text[e + 1]);) {
          ++e;
          while (e < text.size() && isWord(text[e])) ++e;
          mention(std::string_view(text.data() + i, e - i));
        }
        i = j;
      }
    }
  }
}

const policy::ScanContext& ScanLookup::contextFor(const std::string& server,
                                                  const Upstreams& upstreams) {
  if (context_valid_ && context_server_ == server) return context_;
  context_ = policy::ScanContext{};
  for (const auto& upstream : upstreams) {
    if (upstream->name() == server) continue;
    context_.other_server_names.push_back(upstream->name());
    for (const auto& other : upstream->tools())
      context_.other_tool_names.emplace_back(stringField(other, "name"));
  }
  policy::indexNames(context_);
  context_server_ = server;
  context_valid_ = true;
  return context_;
}

const std::vector<std::string>& ScanLookup::serversWithTool(const std::string& name,
                                                            const Upstreams& upstreams) {
  ensure(upstreams);
  static const std::vector<std::string> kNone;
  auto it = servers_by_tool_.find(name);
  return it == servers_by_tool_.end() ? kNone : it->second;
}

std::vector<std::pair<std::string, std::string>> ScanLookup::mentionsOf(
    const std::string& lower_name, const Upstreams& upstreams) {
  ensure(upstreams);
  auto it = mentions_.find(lower_name);
  if (it != mentions_.end()) return it->second;
  if (lower_name.size() < 4 || findableName(lower_name)) return {};
  // A name of another shape (rare): search the texts themselves.
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& upstream : upstreams) {
    for (const auto& tool : upstream->tools()) {
      std::string text = lowerAscii(stringField(tool, "description"));
      for (auto at = text.find(lower_name); at != std::string::npos;
           at = text.find(lower_name, at + 1)) {
        bool left = at == 0 || !isWord(text[at - 1]);
        bool right = at + lower_name.size() >= text.size() || !isWord(text[at + lower_name.size()]);
        if (!left || !right) continue;
        out.emplace_back(upstream->name(), std::string(stringField(tool, "name")));
        break;
      }
    }
  }
  return out;
}

}  // namespace mcpproxy::router
