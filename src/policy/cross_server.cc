// Cross-server checks (see cross_server.h). Texts are read word by word: each word, and each
// run of words joined by '-' or '.', is looked up in hash maps of every server's tool names and
// of the server names, so the cost is linear in the text whatever the number of servers (70
// servers of 15 tools made a name-by-name search dominate start-up; docs/benchmarks.md). A hit
// becomes a finding only when the text uses it as a reference (referenceLike below): real
// servers name tools after plain words ("query", "search", "fill", "connect") and attacker
// servers can pick "from", "to" or "path" on purpose, so a word that merely equals a name is
// prose. Which tools refer to which names is computed once per index, so a tool can also be told
// who refers to it.
#include "policy/cross_server.h"

#include <algorithm>
#include <array>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "policy/text.h"

namespace mcpproxy::policy {

namespace json = boost::json;
using text::isWordByte;
using text::lowerAscii;

namespace {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// Words right after a name that make it something other than a tool ("the `query` parameter").
constexpr std::array<std::string_view, 30> kNotATool = {
    "parameter", "parameters", "param",     "params",     "argument", "arguments",
    "arg",       "args",       "field",     "fields",     "property", "properties",
    "option",    "options",    "key",       "keys",       "value",    "values",
    "column",    "columns",    "attribute", "attributes", "flag",     "setting",
    "settings",  "variable",   "header",    "operator",   "clause",   "keyword"};
// Words next to a name that make it a tool ("the fetch tool", "call fetch"). Plurals and
// "function" are prose in real descriptions ("regular search tools", "cleanup function").
constexpr std::array<std::string_view, 7> kToolWordsBefore = {
    "tool", "call", "calling", "invoke", "invoking", "called", "named"};
// "of server X", "on server X" (an article makes it prose: "from the server filesystem").
constexpr std::array<std::string_view, 6> kServerPrepositions = {"of",      "on",   "via",
                                                                 "through", "from", "in"};

// Phrases that turn a reference into an order about which tool the model uses, or into a
// trigger on another server's tool ("When create_issue is called, ..."). Only sentences that
// already name another server's tool as a reference are looked at, so common words are safe.
constexpr std::array<std::string_view, 32> kRedirections = {
    "instead of",     "instead",         "rather than",      "in place of",    "before using",
    "before calling", "before you use",  "before you call",  "prior to using", "prior to calling",
    "do not use",     "don't use",       "never use",        "must not use",   "stop using",
    "any other tool", "all other tools", "every other tool", "deprecated",     "no longer",
    "replaces",       "overrides",       "whenever",         "when ",          "every time",
    "each time",      "after every",     "after each",       "before every",   "before each",
    "after calling",  "after using"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

// A name written as code: snake_case or dotted (camelCase is judged as written in the text).
bool codeLikeName(std::string_view name) {
  return name.find('_') != std::string_view::npos || name.find('.') != std::string_view::npos;
}

bool camelCase(std::string_view s) {
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] >= 'A' && s[i] <= 'Z' && s[i - 1] >= 'a' && s[i - 1] <= 'z') return true;
  }
  return false;
}

// The lower-case word before position b (skipping spaces and one article) and after e.
std::string_view wordBefore(std::string_view lower, std::size_t b) {
  auto back = [&](std::size_t& i) -> std::string_view {
    while (i > 0 && (lower[i - 1] == ' ' || lower[i - 1] == '\t')) --i;
    std::size_t end = i;
    while (i > 0 && isWordByte(lower[i - 1])) --i;
    return lower.substr(i, end - i);
  };
  std::size_t i = b;
  std::string_view word = back(i);
  if (word == "the" || word == "a" || word == "an") word = back(i);
  return word;
}

std::string_view wordAfter(std::string_view lower, std::size_t e) {
  std::size_t i = e;
  if (i < lower.size() && (lower[i] == '`' || lower[i] == '\'' || lower[i] == '"')) ++i;
  while (i < lower.size() && (lower[i] == ' ' || lower[i] == '\t')) ++i;
  std::size_t b = i;
  while (i < lower.size() && isWordByte(lower[i])) ++i;
  return lower.substr(b, i - b);
}

// One text of a definition: description, title, or a description/title inside a schema.
struct Text {
  std::string path;
  std::string_view original;
  std::string lower;
};

void collectSchemaTexts(const std::string& path, const json::value& v, std::size_t depth,
                        std::vector<Text>& out, std::vector<std::string>& params,
                        bool in_properties) {
  if (depth > kMaxScanDepth || out.size() >= kMaxScanFields) return;
  if (v.is_array()) {
    std::size_t i = 0;
    for (const auto& e : v.get_array()) {
      collectSchemaTexts(path + "[" + std::to_string(i++) + "]", e, depth + 1, out, params, false);
    }
    return;
  }
  if (!v.is_object()) return;
  for (const auto& kv : v.get_object()) {
    std::string child = path + "." + std::string(kv.key());
    if (in_properties) params.push_back(lowerAscii(kv.key()));
    if (!in_properties && (kv.key() == "description" || kv.key() == "title") &&
        kv.value().is_string() && out.size() < kMaxScanFields) {
      std::string_view s = kv.value().get_string();
      s = s.substr(0, std::min(s.size(), kMaxScanBytes));
      out.push_back({child, s, lowerAscii(s)});
      continue;
    }
    collectSchemaTexts(child, kv.value(), depth + 1, out, params,
                       kv.key() == "properties" && !in_properties);
  }
}

std::string_view stringField(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

}  // namespace

struct CrossServerIndex::Data {
  struct Offer {
    std::size_t server;
    std::string name;  // as the server spells it
  };
  struct Referrer {
    std::size_t server;
    std::string tool;
  };
  std::vector<std::string> servers;
  StringMap<std::size_t> server_by_lower;
  std::vector<std::vector<std::string>> tools_of;            // by server id
  std::vector<std::vector<std::string>> titles_of;           // by server id
  std::vector<std::unordered_set<std::string>> lower_tools;  // by server id
  StringMap<std::vector<Offer>> offers;                      // lower tool name -> who offers it
  StringMap<std::vector<Referrer>> referrers;                // lower tool name -> who refers to it
  StringMap<std::size_t> referrer_counts;                    // including those not kept

  // The id of `server`, or servers.size() when it is not in the universe.
  std::size_t idOf(std::string_view server) const {
    auto it = server_by_lower.find(lowerAscii(server));
    return it == server_by_lower.end() ? servers.size() : it->second;
  }
  bool ownTool(std::size_t server, std::string_view lower_name) const {
    return server < lower_tools.size() && lower_tools[server].contains(std::string(lower_name));
  }
};

namespace {

using Data = CrossServerIndex::Data;

// One reference found in a text.
struct Reference {
  std::size_t text;  // index into the definition's texts
  std::size_t begin, end;
  bool to_server;                    // a server name rather than a tool name
  std::string target;                // lower-case name
  std::vector<std::size_t> servers;  // the servers it points at (never the referring one)
  bool directive;                    // inside an order or a redirection
};

class ReferenceFinder {
 public:
  ReferenceFinder(const Data& data, std::size_t own_server, const json::object& definition)
      : data_(data), own_(own_server) {
    self_ = lowerAscii(stringField(definition, "name"));
    for (const char* key : {"title", "description"}) {
      std::string_view s = stringField(definition, key);
      if (!s.empty()) texts_.push_back({key, s.substr(0, kMaxScanBytes), {}});
    }
    if (const auto* a = definition.if_contains("annotations"); a && a->is_object()) {
      std::string_view s = stringField(a->get_object(), "title");
      if (!s.empty()) texts_.push_back({"annotations.title", s.substr(0, kMaxScanBytes), {}});
    }
    for (auto& t : texts_) t.lower = lowerAscii(t.original);
    for (const char* key : {"inputSchema", "outputSchema"}) {
      if (const auto* v = definition.if_contains(key)) {
        collectSchemaTexts(key, *v, 0, texts_, params_, false);
      }
    }
  }

  const std::vector<Text>& texts() const { return texts_; }

  // At most kMaxReferencesPerTool, in text order.
  std::vector<Reference> find() {
    std::vector<Reference> out;
    for (std::size_t ti = 0; ti < texts_.size() && out.size() < kMaxReferencesPerTool; ++ti) {
      findIn(ti, out);
    }
    return out;
  }

 private:
  void findIn(std::size_t ti, std::vector<Reference>& out) {
    const Text& t = texts_[ti];
    const std::string& l = t.lower;
    // Sentences and whether each orders or redirects the model, worked out on first use.
    std::vector<std::pair<std::size_t, std::size_t>> sentences;
    std::vector<signed char> directive;  // -1 unknown
    auto directiveAt = [&](std::size_t p) {
      if (sentences.empty()) {
        sentences = text::splitSentences(l);
        directive.assign(sentences.size(), -1);
      }
      auto it = std::upper_bound(sentences.begin(), sentences.end(), p,
                                 [](std::size_t v, const auto& span) { return v < span.second; });
      if (it == sentences.end() || p < it->first) return false;
      signed char& known = directive[static_cast<std::size_t>(it - sentences.begin())];
      if (known < 0) {
        auto [sb, se] = *it;
        bool yes = text::findObligation(l, sb, se).first != std::string_view::npos;
        std::string_view s(l.data() + sb, se - sb);
        for (std::string_view r : kRedirections) yes = yes || s.find(r) != std::string_view::npos;
        known = yes ? 1 : 0;
      }
      return known == 1;
    };
    for (std::size_t i = 0; i < l.size() && out.size() < kMaxReferencesPerTool;) {
      if (!isWordByte(l[i])) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < l.size() && isWordByte(l[j])) ++j;
      consider(ti, i, j, out, directiveAt);
      // "server__tool": the proxy's own prefixed form names both.
      std::string_view word(l.data() + i, j - i);
      if (std::size_t sep = word.find("__"); sep != std::string_view::npos && sep > 0) {
        consider(ti, i, i + sep, out, directiveAt, /*prefixed=*/true);
        if (i + sep + 2 < j) consider(ti, i + sep + 2, j, out, directiveAt, /*prefixed=*/true);
      }
      std::size_t e = j;
      for (std::size_t parts = 1; parts < kMaxJoinedParts && e + 1 < l.size() &&
                                  (l[e] == '-' || l[e] == '.') && isWordByte(l[e + 1]);
           ++parts) {
        ++e;
        while (e < l.size() && isWordByte(l[e])) ++e;
        consider(ti, i, e, out, directiveAt);
      }
      i = j;
    }
  }

  template <class Directive>
  void consider(std::size_t ti, std::size_t b, std::size_t e, std::vector<Reference>& out,
                Directive& directiveAt, bool prefixed = false) {
    const Text& t = texts_[ti];
    std::string_view candidate(t.lower.data() + b, e - b);
    if (candidate.size() < 3 || candidate == self_) return;
    if (std::find(params_.begin(), params_.end(), candidate) != params_.end()) return;
    if (auto it = data_.offers.find(candidate); it != data_.offers.end()) {
      // The server's own tool, even if others offer the same name: not cross-server.
      if (!data_.ownTool(own_, candidate) && !seen(ti, candidate, false, out)) {
        bool camel = false;
        for (const auto& offer : it->second) {
          camel |= camelCase(offer.name) && t.original.substr(b, e - b) == offer.name;
        }
        if (prefixed || referenceLike(t, b, e, codeLikeName(candidate) || camel, false)) {
          std::vector<std::size_t> servers;
          for (const auto& offer : it->second) servers.push_back(offer.server);
          add(out, {ti, b, e, false, std::string(candidate), std::move(servers), directiveAt(b)});
        }
      }
    }
    if (auto it = data_.server_by_lower.find(candidate); it != data_.server_by_lower.end() &&
                                                         it->second != own_ &&
                                                         !seen(ti, candidate, true, out)) {
      bool qualified = e + 1 < t.lower.size() && t.lower[e] == ':' && isWordByte(t.lower[e + 1]);
      if (prefixed || qualified || referenceLike(t, b, e, codeLikeName(candidate), true)) {
        add(out, {ti, b, e, true, std::string(candidate), {it->second}, directiveAt(b)});
      }
    }
  }

  // Is the name at [b, e) used as a reference, not as a word of the sentence? Code-like names
  // are; so are "the NAME tool", "tool NAME", "call NAME", "NAME server", "server:tool". Quotes
  // count for names of several parts ('resolve-library-id'): a quoted plain word is mostly a
  // value in real schemas ("Use 'classic' ... and 'search' for Atlas Search indexes").
  bool referenceLike(const Text& t, std::size_t b, std::size_t e, bool code_like,
                     bool server) const {
    const std::string& l = t.lower;
    char before = b > 0 ? l[b - 1] : '\0';
    char after = e < l.size() ? l[e] : '\0';
    std::string_view name(l.data() + b, e - b);
    std::string_view next = wordAfter(l, e);
    if (!server && contains(kNotATool, next)) return false;
    bool parts = name.find_first_of("-.") != std::string_view::npos;
    if (parts && before == after && (before == '`' || before == '\'' || before == '"')) return true;
    if (code_like) return true;
    if (server) {
      if (next == "server" || next == "mcp") return true;
      return serverAfterPreposition(l, b);
    }
    if (next == "tool" || contains(kToolWordsBefore, wordBefore(l, b))) return true;
    // "every call to NAME"
    if (wordBefore(l, b) != "to") return false;
    std::size_t i = b;
    while (i > 0 && !isWordByte(l[i - 1])) --i;
    while (i > 0 && isWordByte(l[i - 1])) --i;  // "to"
    std::string_view call = wordBefore(l, i);
    return call == "call" || call == "calls";
  }

  // "... of server NAME": the word before is "server", the one before that a preposition.
  static bool serverAfterPreposition(std::string_view l, std::size_t b) {
    std::size_t i = b;
    auto back = [&]() {
      while (i > 0 && l[i - 1] == ' ') --i;
      std::size_t end = i;
      while (i > 0 && isWordByte(l[i - 1])) --i;
      return l.substr(i, end - i);
    };
    if (back() != "server") return false;
    return contains(kServerPrepositions, back());
  }

  // One reference per name and text is enough.
  static bool seen(std::size_t ti, std::string_view target, bool to_server,
                   const std::vector<Reference>& out) {
    return std::any_of(out.begin(), out.end(), [&](const Reference& o) {
      return o.text == ti && o.to_server == to_server && o.target == target;
    });
  }

  static void add(std::vector<Reference>& out, Reference r) {
    for (const Reference& o : out) {
      // A longer joined name at the same place already counts.
      if (o.text == r.text && o.to_server == r.to_server && o.begin < r.end && r.begin < o.end)
        return;
    }
    out.push_back(std::move(r));
  }

  const Data& data_;
  std::size_t own_;
  std::string self_;
  std::vector<Text> texts_;
  std::vector<std::string> params_;
};

std::string serverList(const Data& data, const std::vector<std::size_t>& ids) {
  std::string out;
  for (std::size_t k = 0; k < ids.size() && k < 3; ++k) {
    out += (k ? ", '" : "'") + data.servers[ids[k]] + "'";
  }
  if (ids.size() > 3) out += " and " + std::to_string(ids.size() - 3) + " more";
  return out;
}

}  // namespace

CrossServerIndex::CrossServerIndex() : data_(std::make_unique<Data>()) {}
CrossServerIndex::~CrossServerIndex() = default;
CrossServerIndex::CrossServerIndex(CrossServerIndex&&) noexcept = default;
CrossServerIndex& CrossServerIndex::operator=(CrossServerIndex&&) noexcept = default;

CrossServerIndex::CrossServerIndex(const ToolUniverse& universe) : data_(std::make_unique<Data>()) {
  Data& d = *data_;
  for (const ServerTools& s : universe) {
    std::size_t id = d.servers.size();
    if (!d.server_by_lower.try_emplace(lowerAscii(s.server), id).second) continue;  // duplicate
    d.servers.push_back(s.server);
    d.tools_of.emplace_back();
    d.titles_of.emplace_back();
    d.lower_tools.emplace_back();
    for (const json::object& tool : s.tools) {
      std::string name(stringField(tool, "name"));
      if (name.empty()) continue;
      if (std::string_view title = stringField(tool, "title"); !title.empty()) {
        d.titles_of[id].emplace_back(title);
      }
      if (const auto* a = tool.if_contains("annotations"); a && a->is_object()) {
        std::string_view title = stringField(a->get_object(), "title");
        if (!title.empty()) d.titles_of[id].emplace_back(title);
      }
      std::string lower = lowerAscii(name);
      d.lower_tools[id].insert(lower);
      auto& offers = d.offers[lower];
      if (offers.empty() || offers.back().server != id) offers.push_back({id, name});
      d.tools_of[id].push_back(std::move(name));
    }
  }
  // Who refers to whom, once: the other direction of every tool's references.
  std::size_t id = 0;
  for (const ServerTools& s : universe) {
    auto found = d.server_by_lower.find(lowerAscii(s.server));
    if (found == d.server_by_lower.end() || found->second != id) continue;  // duplicate
    for (const json::object& tool : s.tools) {
      std::string name(stringField(tool, "name"));
      if (name.empty()) continue;
      std::unordered_set<std::string> seen;
      for (const Reference& r : ReferenceFinder(d, id, tool).find()) {
        if (r.to_server || !seen.insert(r.target).second) continue;
        auto& list = d.referrers[r.target];
        if (list.size() < kMaxReferrersKept) list.push_back({id, name});
        ++d.referrer_counts[r.target];
      }
    }
    ++id;
  }
}

std::span<const std::string> CrossServerIndex::toolsOf(std::string_view server) const {
  std::size_t id = data_->idOf(server);
  if (id >= data_->tools_of.size()) return {};
  return data_->tools_of[id];
}

std::span<const std::string> CrossServerIndex::titlesOf(std::string_view server) const {
  std::size_t id = data_->idOf(server);
  if (id >= data_->titles_of.size()) return {};
  return data_->titles_of[id];
}

std::size_t CrossServerIndex::serverCount() const {
  return data_->servers.size();
}

std::vector<Finding> crossServerFindings(std::string_view server, const json::object& definition,
                                         const CrossServerIndex& index) {
  const Data& d = index.data();
  std::size_t own = d.idOf(server);
  std::vector<Finding> out;
  ReferenceFinder finder(d, own, definition);
  for (const Reference& r : finder.find()) {
    const Text& t = finder.texts()[r.text];
    std::string named(t.original.substr(r.begin, r.end - r.begin));
    std::string what = r.to_server ? "server '" + named + "'"
                                   : "tool '" + named + "' of " +
                                         (r.servers.size() > 1 ? "servers " : "server ") +
                                         serverList(d, r.servers);
    if (r.directive) {
      out.push_back({"cross-tool-reference", Severity::kHigh, t.path, r.begin, r.end,
                     "An order to the model names " + what +
                         ", another server the client uses: a hijack of that server's calls."});
    } else {
      // Naming another server's tool steers the model towards it; naming the server alone
      // ("the GitHub MCP server provides") is how servers describe themselves and their kin.
      out.push_back({"cross-tool-reference", r.to_server ? Severity::kLow : Severity::kMedium,
                     t.path, r.begin, r.end,
                     "The text names " + what + ", another server the client uses."});
    }
  }

  std::string name(stringField(definition, "name"));
  std::string lower = lowerAscii(name);
  if (auto it = d.offers.find(lower); it != d.offers.end()) {
    std::vector<std::size_t> others;
    for (const auto& offer : it->second) {
      if (offer.server != own) others.push_back(offer.server);
    }
    if (!others.empty()) {
      // The proxy keeps same-named tools apart by server; a model choosing by name alone might
      // still confuse them. Context, not an attack: real servers share names (read_file).
      out.push_back({"tool-shadowing", Severity::kLow, "name", 0, name.size(),
                     (others.size() > 1 ? "Servers " : "Server ") + serverList(d, others) +
                         " also offer a tool with this name."});
    }
  }
  if (auto it = d.referrers.find(lower); it != d.referrers.end()) {
    std::string who;
    std::size_t shown = 0;
    for (const auto& ref : it->second) {
      if (ref.server == own) continue;
      if (shown++ < 3) {
        who += (who.empty() ? "'" : ", '") + d.servers[ref.server] + ":" + ref.tool + "'";
      }
    }
    std::size_t total = d.referrer_counts.at(lower);
    if (shown > 0) {
      if (total > 3) who += " (" + std::to_string(total) + " in all)";
      out.push_back({"cross-tool-reference", Severity::kLow, "name", 0, name.size(),
                     "Other servers' tools refer to this tool by name: " + who + "."});
    }
  }
  return out;
}

ScanResult scanInUniverse(std::string_view server, const json::object& definition,
                          const CrossServerIndex& index) {
  ScanResult result =
      scanTool(definition, ScanContext{index.toolsOf(server), index.titlesOf(server)});
  std::vector<Finding> more = crossServerFindings(server, definition, index);
  if (more.empty()) return result;
  result.findings.insert(result.findings.end(), std::make_move_iterator(more.begin()),
                         std::make_move_iterator(more.end()));
  score(result);
  return result;
}

}  // namespace mcpproxy::policy
