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

void ScanLookup::ensure(const Upstreams& upstreams) {
  if (built_) return;
  built_ = true;
  // Names that can be mentioned: 4+ bytes, starting with a word byte. Names with other bytes
  // ('-', '.') span several words; they are found from their leading word.
  std::unordered_map<std::string, std::vector<std::string>> by_head;
  for (const auto& upstream : upstreams) {
    for (const auto& tool : upstream->tools()) {
      std::string_view name = stringField(tool, "name");
      if (!name.empty()) servers_by_tool_[std::string(name)].push_back(upstream->name());
      std::string lname = lowerAscii(name);
      std::size_t head = 0;
      while (head < lname.size() && isWord(lname[head])) ++head;
      if (lname.size() < 4 || head == 0) continue;
      if (head < lname.size()) {
        auto& list = by_head[lname.substr(0, head)];
        if (std::find(list.begin(), list.end(), lname) == list.end()) list.push_back(lname);
      }
      mentions_.try_emplace(std::move(lname));
    }
  }
  for (const auto& upstream : upstreams) {
    for (const auto& tool : upstream->tools()) {
      std::string text = lowerAscii(stringField(tool, "description"));
      std::string tool_name(stringField(tool, "name"));
      std::set<std::string_view> seen;  // one entry per tool and name
      auto mention = [&](std::string_view name) {
        if (!seen.insert(name).second) return;
        if (auto it = mentions_.find(std::string(name)); it != mentions_.end())
          it->second.emplace_back(upstream->name(), tool_name);
      };
      for (std::size_t i = 0; i < text.size();) {
        if (!isWord(text[i])) {
          ++i;
          continue;
        }
        std::size_t j = i;
        while (j < text.size() && isWord(text[j])) ++j;
        std::string_view word(text.data() + i, j - i);
        if (word.size() >= 4) mention(word);
        if (auto it = by_head.find(std::string(word)); it != by_head.end()) {
          for (const std::string& name : it->second) {
            std::size_t end = i + name.size();
            if (text.compare(i, name.size(), name) == 0 &&
                (end >= text.size() || !isWord(text[end])))
              mention(name);
          }
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
  if (lower_name.size() < 4 || isWord(lower_name[0])) return {};
  // A name starting with a non-word byte (rare): search the texts themselves.
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
