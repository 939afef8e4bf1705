// Tool-poisoning scanner. Every text of a definition (name, title, description, each string and
// property name in the schemas) becomes a Field with an ASCII-lower-cased copy of the same byte
// length, so substring hits are byte spans in the original. Detectors look for intent rather
// than for known attack phrases: an obligation addressed to the model ("you must", "please
// run") is harmless alone (real tools warn their callers), but in the same sentence as a payload
// (a shell command, a secret file, a URL, another tool to call, a parameter to change, something
// to tell the user) it is an attack. Character-level detectors (invisible Unicode, escapes,
// controls, encoded blobs) and promotional manipulation stand alone. Plain substring scanning, no
// regex: a typical tool takes a few microseconds.
#include "policy/scanner.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "policy/text.h"

namespace mcpproxy::policy {
namespace {

namespace json = boost::json;

struct Field {
  std::string path;
  std::string text;
  std::string lower;
  bool schema = false;   // inside inputSchema/outputSchema
  bool key = false;      // a property name
  bool is_name = false;  // the tool's name
  std::vector<std::pair<std::size_t, std::size_t>> sentences;
};

using text::isIdentByte;
using text::isWordByte;
using text::lowerAscii;
using text::splitSentences;

}  // namespace

namespace {

// Calls fn(pos) for each occurrence of needle in hay.
template <typename Fn>
void forEach(std::string_view hay, std::string_view needle, Fn fn) {
  if (needle.empty()) return;
  std::size_t pos = hay.find(needle);
  while (pos != std::string_view::npos) {
    fn(pos);
    pos = hay.find(needle, pos + 1);
  }
}

// First occurrence of any needle in hay[b, e); returns {pos, length} or {npos, 0}.
template <std::size_t N>
std::pair<std::size_t, std::size_t> findAny(std::string_view hay, std::size_t b, std::size_t e,
                                            const std::array<std::string_view, N>& needles) {
  std::string_view part = hay.substr(b, e - b);
  std::pair<std::size_t, std::size_t> best{std::string_view::npos, 0};
  for (std::string_view n : needles) {
    std::size_t p = part.find(n);
    if (p != std::string_view::npos && p < best.first) best = {p, n.size()};
  }
  if (best.first != std::string_view::npos) best.first += b;
  return best;
}

constexpr std::array<std::string_view, 20> kMarkers = {"<important>",
                                                       "</important>",
                                                       "<system>",
                                                       "</system>",
                                                       "[inst]",
                                                       "<<sys>>",
                                                       "<|im_start|>",
                                                       "<|system|>",
                                                       "<instructions>",
                                                       "ignore previous instructions",
                                                       "ignore all previous",
                                                       "ignore the previous",
                                                       "disregard previous",
                                                       "disregard all previous",
                                                       "disregard the above",
                                                       "forget previous instructions",
                                                       "forget all previous",
                                                       "ignore your instructions",
                                                       "override your instructions",
                                                       "new instructions:"};

constexpr std::array<std::string_view, 11> kNegations = {
    "do not ", "don't ",     "must not ", "never ", "without ",   "should not ",
    "not to ", "shouldn't ", "avoid ",    "dont ",  "no need to "};
constexpr std::array<std::string_view, 10> kTellVerbs = {
    "tell",     "inform", "mention",           "reveal", "notify",
    "disclose", "alert",  "let the user know", "show",   "explain"};
constexpr std::array<std::string_view, 8> kSecrecyPhrases = {
    "keep this secret",         "keep this hidden",
    "keep it secret",           "hidden from the user",
    "user must not know",       "not visible to the user",
    "without the user knowing", "the user doesn't need to know"};

constexpr std::array<std::string_view, 30> kSecretPaths = {"~/.ssh",
                                                           ".ssh/",
                                                           "id_rsa",
                                                           "id_ed25519",
                                                           "id_ecdsa",
                                                           "/etc/passwd",
                                                           "/etc/shadow",
                                                           "/etc/sudoers",
                                                           ".bashrc",
                                                           ".zshrc",
                                                           ".bash_profile",
                                                           ".bash_history",
                                                           ".aws/credentials",
                                                           "aws_secret_access_key",
                                                           ".git-credentials",
                                                           ".netrc",
                                                           ".npmrc",
                                                           ".pypirc",
                                                           ".pgpass",
                                                           ".docker/config.json",
                                                           ".kube/config",
                                                           "mcp.json",
                                                           "claude_desktop_config",
                                                           "/root/",
                                                           ".gnupg",
                                                           "wallet.dat",
                                                           "keychain",
                                                           "/proc/self/environ",
                                                           "~/.config",
                                                           "cookies.sqlite"};
constexpr std::array<std::string_view, 17> kSecretWords = {
    "credential", "password",     "passwd",         "api key",     "api_key",
    "apikey",     "access token", "secret key",     "private key", "seed phrase",
    "ssh key",    "bearer token", "session cookie", "/tmp/",       "environment variable",
    "auth token", "-----begin"};

constexpr std::array<std::string_view, 28> kShell = {
    "rm -rf", "rm -r ",  "sudo ",    "curl ",     "wget ",      "whoami",    "echo $",
    "echo '", "echo \"", "$(",       " && ",      " || ",       "cat ~",     "cat /",
    "chmod ", "chown ",  ">> ~",     ">> /",      "| bash",     "| sh",      "bash -c",
    "sh -c ", "nc -e",   "/dev/tcp", "base64 -d", "powershell", "os.system", "export $"};

// Verbs that make a URL in an order a destination for the model's traffic.
constexpr std::array<std::string_view, 20> kContactVerbs = {
    "access", "send",   "post",     "upload",  "forward", "request", "visit",
    "fetch",  "call ",  "navigate", "connect", "contact", "log ",    "report",
    "submit", "notify", "ping",     "curl",    "wget",    "transmit"};

constexpr std::array<std::string_view, 12> kCallVerbs = {
    "call ",      "invoke ",  "use ",     "run ",   "execute ",   "redirect to ",
    "switch to ", "trigger ", "calling ", "using ", "first use ", "redirect "};

constexpr std::array<std::string_view, 14> kTamperVerbs = {"change the ",
                                                           "change it to",
                                                           "modify the ",
                                                           "set the ",
                                                           "replace the ",
                                                           "override the ",
                                                           "alter the ",
                                                           "rewrite the ",
                                                           "redirect",
                                                           "substitute",
                                                           "is automatically modified",
                                                           "automatically enhance",
                                                           "now uses",
                                                           "automatically sets"};
constexpr std::array<std::string_view, 13> kTamperMarks = {
    "regardless",    "user-specified", "user's input", "user input", "always",
    "automatically", "instead",        "must",         "by default", "when using",
    "when a user",   "when users",     "ignore any"};

constexpr std::array<std::string_view, 18> kOutputInjection = {"state '",
                                                               "state \"",
                                                               "display the message",
                                                               "display the following",
                                                               "report to the user",
                                                               "tell the user that",
                                                               "inform the user that",
                                                               "present it as",
                                                               "present this as",
                                                               "announcement",
                                                               "promotional message",
                                                               "say '",
                                                               "respond with",
                                                               "reply with",
                                                               "include the following message",
                                                               "append the following",
                                                               "halt the operation and inform",
                                                               "and then report"};

constexpr std::array<std::string_view, 9> kDeprecation = {
    "has been deprecated",  "is deprecated",        "been disabled",
    "temporarily disabled", "no longer available",  "new secure tool",
    "as an alternative",    "instead of this tool", "do not use this tool"};

constexpr std::array<std::string_view, 8> kShadowing = {
    " tool has been ",     " tool now ",     " tool is now ", " tool will now ",
    " function has been ", " tool has been", " tool uses ",   " tool requires "};

constexpr std::array<std::string_view, 38> kPromo = {"world's best",     "the best",
                                                     "best tool",        "most advanced",
                                                     "most reliable",    "most comprehensive",
                                                     "most accurate",    "most sophisticated",
                                                     "ultimate",         "premium version",
                                                     "advanced version", "professional version",
                                                     "enhanced version", "superior",
                                                     "unmatched",        "unparalleled",
                                                     "pinnacle",         "cutting-edge",
                                                     "industry-leading", "industry standard",
                                                     "trusted by",       "used by 99",
                                                     "fortune 500",      "award-winning",
                                                     "100% reliab",      "99.9%",
                                                     "recommended by",   "compared to other",
                                                     "better than",      "better performance",
                                                     "highest quality",  "enterprise-grade",
                                                     "state-of-the-art", "always prefer",
                                                     "prefer this tool", "choose this tool",
                                                     "the only tool",    "premium"};
constexpr std::array<std::string_view, 14> kPromoNameParts = {
    "best",  "premium", "ultimate", "enhanced", "advanced", "pro",     "professional",
    "super", "better",  "improved", "optimal",  "official", "supreme", "perfect"};

constexpr std::array<std::string_view, 16> kSuspiciousParams = {
    "sidenote",     "side_note",
    "note",         "notes",
    "feedback",     "context",
    "secret",       "password",
    "passwd",       "private_key",
    "ssh_key",      "system_prompt",
    "instructions", "conversation_history",
    "chat_history", "debug_info"};

constexpr std::array<std::string_view, 22> kAlarmWords = {
    "system",     "important",   "critical",   "notice",      "update",       "alert",
    "security",   "protocol",    "note",       "enhancement", "optimization", "maintenance",
    "validation", "check",       "warning",    "attention",   "mandatory",    "admin",
    "override",   "instruction", "compliance", "internal"};

// What the model may be told to do with a secret file.
constexpr std::array<std::string_view, 24> kSecretActions = {
    "read ",   "cat ",   "open ",   "include",     "send",       "pass ",       "upload",  "copy ",
    "access",  "attach", "extract", "contents of", "content of", "its content", "forward", "share",
    "provide", "append", "embed",   "retrieve",    "collect",    "transmit",    "load ",   "paste"};
// Words that make a mention of a secret file a refusal or a warning.
constexpr std::array<std::string_view, 10> kRefusals = {
    "rejected",  "refused",     "refuses",  "denied", "blocked",
    "forbidden", "not allowed", "excluded", "never ", "must not"};

// Words before "call"/"calls" that make it a noun.
constexpr std::array<std::string_view, 19> kNounDeterminers = {
    "a",    "an",  "the",  "another", "each", "every",    "any",      "per",        "one", "this",
    "that", "api", "tool", "single",  "same", "separate", "function", "subsequent", "paid"};

constexpr std::array<std::string_view, 27> kIdentStop = {
    "this",     "it",        "that", "these", "them", "me",  "of",  "to",   "for",
    "with",     "and",       "or",   "our",   "your", "any", "all", "its",  "tool",
    "function", "following", "same", "new",   "a",    "an",  "the", "when", "following:"};

int points(Severity s) {
  switch (s) {
    case Severity::kLow:
      return 5;
    case Severity::kMedium:
      return 25;
    case Severity::kHigh:
      return 45;
    case Severity::kCritical:
      return 80;
  }
  return 0;
}

// Decodes one UTF-8 character at t[i]; returns its length (0 for an invalid byte).
std::size_t decodeUtf8(std::string_view t, std::size_t i, std::uint32_t& cp) {
  auto b = static_cast<unsigned char>(t[i]);
  std::size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + len > t.size()) return 0;
  cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
  for (std::size_t k = 1; k < len; ++k) {
    auto c = static_cast<unsigned char>(t[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3F);
  }
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

enum class Hidden { kNone, kZeroWidth, kBidi, kTag, kControl };

Hidden classify(std::uint32_t cp) {
  if (cp >= 0xE0000 && cp <= 0xE007F) return Hidden::kTag;
  if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E ||
      cp == 0x200F || cp == 0x061C)
    return Hidden::kBidi;
  if ((cp >= 0x200B && cp <= 0x200D) || (cp >= 0x2060 && cp <= 0x2064) || cp == 0xFEFF ||
      cp == 0x00AD || cp == 0x180E || (cp >= 0xFFF9 && cp <= 0xFFFB) ||
      (cp >= 0xE0100 && cp <= 0xE01EF))
    return Hidden::kZeroWidth;
  if ((cp < 0x20 && cp != '\n' && cp != '\t' && cp != '\r') || cp == 0x7F ||
      (cp >= 0x80 && cp <= 0x9F))
    return Hidden::kControl;
  return Hidden::kNone;
}

class Scanner {
 public:
  Scanner(const json::object& tool, const ScanContext& context) : context_(context) {
    if (auto* n = tool.if_contains("name"); n && n->is_string()) {
      name_ = std::string(n->get_string());
      self_ = lowerAscii(name_);
    }
    addField("name", tool.if_contains("name"), false, false, true);
    addField("title", tool.if_contains("title"), false, false, false);
    addField("description", tool.if_contains("description"), false, false, false);
    if (auto* a = tool.if_contains("annotations"); a && a->is_object()) {
      addField("annotations.title", a->as_object().if_contains("title"), false, false, false);
    }
    for (std::string_view s : {"inputSchema", "outputSchema"}) {
      if (auto* v = tool.if_contains(s)) walkSchema(std::string(s), *v, 0, false);
    }
  }

  ScanResult run() {
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      scanCharacters(i);
      if (fields_[i].key) {
        scanParamName(i);
        continue;
      }
      scanMarkers(i);
      scanSentences(i);
      scanBlobs(i);
    }
    scanPromotion();
    return finish();
  }

 private:
  void addField(std::string path, const json::value* v, bool schema, bool key, bool is_name) {
    if (!v || !v->is_string() || fields_.size() >= kMaxScanFields) return;
    addText(std::move(path), v->get_string(), schema, key, is_name);
  }

  void addText(std::string path, std::string_view text, bool schema, bool key, bool is_name) {
    if (fields_.size() >= kMaxScanFields) return;
    Field f;
    f.path = std::move(path);
    if (text.size() > kMaxScanBytes) {
      f.text = std::string(text.substr(0, kMaxScanBytes));
      truncated_.push_back(f.path);
    } else {
      f.text = std::string(text);
    }
    f.lower = lowerAscii(f.text);
    f.schema = schema;
    f.key = key;
    f.is_name = is_name;
    f.sentences = splitSentences(f.lower);
    fields_.push_back(std::move(f));
  }

  void walkSchema(const std::string& path, const json::value& v, std::size_t depth,
                  bool in_properties) {
    if (depth > kMaxScanDepth || fields_.size() >= kMaxScanFields) return;
    if (v.is_string()) {
      addText(path, v.get_string(), true, false, false);
    } else if (v.is_array()) {
      std::size_t i = 0;
      for (const auto& e : v.get_array()) {
        walkSchema(path + "[" + std::to_string(i++) + "]", e, depth + 1, false);
      }
    } else if (v.is_object()) {
      for (const auto& kv : v.get_object()) {
        std::string child = path + "." + std::string(kv.key());
        if (in_properties) {
          params_.push_back(lowerAscii(kv.key()));
          addText(child, kv.key(), true, true, false);
        }
        walkSchema(child, kv.value(), depth + 1, kv.key() == "properties" && !in_properties);
      }
    }
  }

  void add(std::string rule, Severity s, std::size_t field, std::size_t b, std::size_t e,
           std::string why) {
    const std::string& path = fields_[field].path;
    for (const Finding& f : findings_) {
      // One finding per rule and place is enough.
      if (f.rule == rule && f.field == path && f.begin < e && b < f.end) return;
    }
    findings_.push_back(Finding{std::move(rule), s, path, b, e, std::move(why)});
  }

  bool ownName(std::string_view ident) const { return !self_.empty() && ident == self_; }
  // `ident` is lower-case; only call targets are looked up, so a linear search is enough.
  bool isSiblingTitle(std::string_view title) const {
    return std::any_of(context_.sibling_tool_titles.begin(), context_.sibling_tool_titles.end(),
                       [&](const std::string& t) { return equalsLower(t, title); });
  }
  static bool equalsLower(std::string_view name, std::string_view lower) {
    return std::equal(name.begin(), name.end(), lower.begin(), lower.end(), [](char a, char b) {
      return (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == b;
    });
  }
  bool isSibling(std::string_view ident) const {
    return std::any_of(context_.sibling_tool_names.begin(), context_.sibling_tool_names.end(),
                       [&](const std::string& name) { return equalsLower(name, ident); });
  }
  bool isParam(std::string_view ident) const {
    return std::find(params_.begin(), params_.end(), ident) != params_.end();
  }

  // ---- character level ----------------------------------------------------------------------
  void scanCharacters(std::size_t fi) {
    const std::string& t = fields_[fi].text;
    std::size_t i = 0;
    while (i < t.size()) {
      auto c = static_cast<unsigned char>(t[i]);
      if (c == 0x1B) {
        std::size_t e = i + 1;
        if (e < t.size() && t[e] == '[') {
          ++e;
          while (e < t.size() && !(t[e] >= 0x40 && t[e] <= 0x7E)) ++e;
          if (e < t.size()) ++e;
        } else if (e < t.size() && t[e] == ']') {
          while (e < t.size() && t[e] != '\a' && t[e] != 0x1B) ++e;
          if (e < t.size()) ++e;
        }
        add("ansi-escape", Severity::kHigh, fi, i, e,
            "A terminal escape sequence can hide or rewrite text shown to a human reviewer.");
        i = e;
        continue;
      }
      if (c < 0x80 && classify(c) == Hidden::kNone) {
        ++i;
        continue;
      }
      std::uint32_t cp = 0;
      std::size_t len = decodeUtf8(t, i, cp);
      if (len == 0) {
        std::size_t e = i + 1;
        while (e < t.size() && decodeUtf8(t, e, cp) == 0) ++e;
        add("invalid-utf8", Severity::kMedium, fi, i, e,
            "The text contains bytes that are not valid UTF-8.");
        i = e;
        continue;
      }
      Hidden h = classify(cp);
      if (h == Hidden::kNone) {
        i += len;
        continue;
      }
      // Group a run of the same kind.
      std::size_t e = i + len;
      while (e < t.size()) {
        std::uint32_t cp2 = 0;
        std::size_t l2 = decodeUtf8(t, e, cp2);
        if (l2 == 0 || classify(cp2) != h) break;
        e += l2;
      }
      switch (h) {
        case Hidden::kTag:
          add("invisible-unicode", Severity::kCritical, fi, i, e,
              "Unicode tag characters are invisible to humans but can carry hidden text for the "
              "model.");
          break;
        case Hidden::kBidi:
          add("invisible-unicode", Severity::kHigh, fi, i, e,
              "Bidirectional control characters can make the text read differently than it is.");
          break;
        case Hidden::kZeroWidth:
          // A lone joiner between two non-ASCII characters is ordinary emoji composition.
          if (!(cp == 0x200D && e - i == len && i > 0 &&
                static_cast<unsigned char>(t[i - 1]) >= 0x80 && e < t.size() &&
                static_cast<unsigned char>(t[e]) >= 0x80)) {
            add("invisible-unicode", Severity::kHigh, fi, i, e,
                "Zero-width or invisible characters can hide content from a human reviewer.");
          }
          break;
        case Hidden::kControl:
          add("control-character", Severity::kMedium, fi, i, e,
              "Control characters have no place in a tool definition.");
          break;
        case Hidden::kNone:
          break;
      }
      i = e;
    }
    if (!fields_[fi].is_name && !fields_[fi].key) {
      std::size_t limit = fields_[fi].schema ? 2000 : 4000;
      if (t.size() > limit) {
        add("length-anomaly", t.size() > 4 * limit ? Severity::kMedium : Severity::kLow, fi, limit,
            t.size(),
            "The text is unusually long for a tool definition and may bury instructions.");
      }
    }
  }

  void scanBlobs(std::size_t fi) {
    const std::string& t = fields_[fi].text;
    std::size_t i = 0;
    while (i < t.size()) {
      auto b64 = [](char c) {
        return isWordByte(c) || c == '+' || c == '/' || c == '=' || c == '-';
      };
      if (!b64(t[i])) {
        ++i;
        continue;
      }
      std::size_t e = i;
      bool upper = false, lower = false, digit = false, hex = true;
      while (e < t.size() && b64(t[e])) {
        char c = t[e];
        upper |= c >= 'A' && c <= 'Z';
        lower |= c >= 'a' && c <= 'z';
        digit |= c >= '0' && c <= '9';
        hex &= (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        ++e;
      }
      std::size_t n = e - i;
      std::size_t slashes = static_cast<std::size_t>(std::count(t.begin() + i, t.begin() + e, '/'));
      // Resource ids and paths have slashes and words; random base64 has few of either.
      std::size_t word = 0, longest = 0;
      for (std::size_t k = i; k < e; ++k) {
        word = (t[k] >= 'a' && t[k] <= 'z') ? word + 1 : 0;
        longest = std::max(longest, word);
      }
      bool wordy = t[i] == '/' || slashes * 24 > n || longest >= 8;
      if ((hex && n >= 64 && digit) || (!wordy && n >= 48 && upper && lower && digit)) {
        add("encoded-blob", Severity::kMedium, fi, i, e,
            "A long encoded blob (base64 or hex) can smuggle instructions past a human reviewer.");
      }
      i = e;
    }
  }

  // ---- text level ---------------------------------------------------------------------------
  void scanMarkers(std::size_t fi) {
    const std::string& l = fields_[fi].lower;
    for (std::string_view m : kMarkers) {
      forEach(l, m, [&](std::size_t p) {
        add("hidden-instruction", Severity::kHigh, fi, p, p + m.size(),
            "Prompt-injection marker aimed at the model rather than documentation of the tool.");
      });
    }
    // Upper-case alarm headers ("CRITICAL SYSTEM UPDATE:"): low alone, they add to a payload.
    const std::string& t = fields_[fi].text;
    forEach(t, ":", [&](std::size_t p) {
      std::size_t b = p;
      std::size_t letters = 0;
      while (b > 0 &&
             ((t[b - 1] >= 'A' && t[b - 1] <= 'Z') || t[b - 1] == ' ' || t[b - 1] == '_')) {
        --b;
        letters += t[b] != ' ';
      }
      while (b < p && t[b] == ' ') ++b;
      if (letters < 6 || (b > 0 && t[b - 1] >= 'a' && t[b - 1] <= 'z')) return;
      std::string_view head(fields_[fi].lower.data() + b, p - b);
      for (std::string_view w : kAlarmWords) {
        if (head.find(w) != std::string_view::npos) {
          add("alarm-header", Severity::kLow, fi, b, p + 1,
              "An upper-case alarm header dresses instructions up as a system message.");
          return;
        }
      }
    });
  }

  // The identifier a call verb at `p` (verb length n) points at, or empty. Articles and the
  // nouns "tool"/"function" may stand between ("call the tool `x`"); a determiner before the
  // verb makes it a noun ("another call with", "any call that"); "this"/"it" is the tool itself.
  std::pair<std::size_t, std::size_t> callTarget(const std::string& l, std::size_t p, std::size_t n,
                                                 std::size_t e, bool bare_ok) const {
    {
      std::size_t q = p;
      while (q > 0 && l[q - 1] == ' ') --q;
      std::size_t end = q;
      while (q > 0 && isWordByte(l[q - 1])) --q;
      std::string_view before(l.data() + q, end - q);
      if (std::find(kNounDeterminers.begin(), kNounDeterminers.end(), before) !=
          kNounDeterminers.end())
        return {0, 0};
    }
    std::size_t i = p + n;
    bool article = false;
    for (int skip = 0; skip < 4; ++skip) {
      while (i < e && l[i] == ' ') ++i;
      std::size_t j = i;
      bool quoted = j < e && (l[j] == '`' || l[j] == '\'' || l[j] == '"');
      if (quoted) ++j;
      std::size_t k = j;
      while (k < e && isIdentByte(l[k])) ++k;
      while (k > j && l[k - 1] == '.') --k;
      std::string_view word(l.data() + j, k - j);
      if (word.empty()) return {0, 0};
      if (!quoted && (word == "this" || word == "it" || word == "itself")) return {0, 0};
      if (!quoted && (word == "a" || word == "an" || word == "the")) {
        article = true;
        i = k;
        continue;
      }
      if (!quoted && (word == "tool" || word == "function")) {
        i = k;
        continue;
      }
      bool stop = std::find(kIdentStop.begin(), kIdentStop.end(), word) != kIdentStop.end();
      // A quoted phrase ("call 'Resolve Context7 Library ID' tool") names a tool by its title.
      bool phrase = quoted && k < e && l[k] == ' ';
      if (phrase) {
        char quote = l[j - 1];
        std::size_t close = l.find(quote, k);
        if (close == std::string::npos || close >= e) return {0, 0};
        std::string_view title(l.data() + j, close - j);
        if (isSiblingTitle(title)) return {0, 0};
        return {j, close};
      }
      bool code = quoted || word.find('_') != std::string_view::npos;
      // The server's own tools: "call resolve-library-id first" is its workflow, not a hijack.
      if (stop || ownName(word) || isParam(word) || isSibling(word)) return {0, 0};
      // After "call"/"invoke" a bare word names a tool ("call fetch") unless an article makes it
      // a noun phrase ("call a Sentry operation"); after "use" or "run" it is mostly ordinary
      // prose ("use the CLI tool"), so only code-like names count there.
      if (code) return {j, k};
      if (bare_ok && (!article || nextWordIs(l, k, e, "tool") || nextWordIs(l, k, e, "function")))
        return {j, k};
      return {0, 0};
    }
    return {0, 0};
  }

  static bool nextWordIs(const std::string& l, std::size_t k, std::size_t e,
                         std::string_view word) {
    while (k < e && (l[k] == ' ' || l[k] == '`' || l[k] == '\'' || l[k] == '"')) ++k;
    return l.compare(k, word.size(), word) == 0 &&
           (k + word.size() >= e || !isWordByte(l[k + word.size()]));
  }

  void scanSentences(std::size_t fi) {
    const Field& f = fields_[fi];
    const std::string& l = f.lower;
    for (auto [sb, se] : f.sentences) {
      std::string_view s(l.data() + sb, se - sb);
      auto ob = text::findObligation(l, sb, se);
      bool obliged = ob.first != std::string_view::npos;
      if (obliged) {
        // An obligation alone is how real tools state requirements ("branch must also be
        // provided"); it becomes an attack with a payload (the rules below).
        add("model-directive", Severity::kLow, fi, ob.first, ob.first + ob.second,
            f.schema ? "A schema text gives orders to the model instead of describing a value."
                     : "The text gives orders to the model.");
      }

      // Secrecy towards the user.
      for (std::string_view neg : kNegations) {
        forEach(s, neg, [&](std::size_t p) {
          std::size_t after = p + neg.size();
          for (std::string_view v : kTellVerbs) {
            // The verb must follow closely: "do not (ever) tell", not "do not run ...; tell".
            std::size_t q = s.find(v, after);
            if (q == std::string_view::npos || q > after + 16) continue;
            std::size_t vend = q + v.size();
            std::string_view rest = s.substr(vend, std::min<std::size_t>(50, s.size() - vend));
            if (rest.find("user") != std::string_view::npos ||
                rest.find("this") != std::string_view::npos ||
                rest.find("change") != std::string_view::npos || v == "let the user know") {
              add("secrecy-demand", Severity::kCritical, fi, sb + p, sb + vend,
                  "The text asks the model to hide something from the user.");
              return;
            }
          }
        });
      }
      for (std::string_view ph : kSecrecyPhrases) {
        forEach(s, ph, [&](std::size_t p) {
          add("secrecy-demand", Severity::kCritical, fi, sb + p, sb + p + ph.size(),
              "The text asks the model to hide something from the user.");
        });
      }

      // Sensitive files and secrets: an attack when the model is told to do something with
      // them (read, include, send); a file tool listing what it finds or refuses ("hidden
      // config directories (e.g. "/etc", "~/.ssh") are rejected") only mentions them.
      Severity secret =
          obliged                                                              ? Severity::kCritical
          : findAny(l, sb, se, kRefusals).first != std::string_view::npos      ? Severity::kLow
          : findAny(l, sb, se, kSecretActions).first != std::string_view::npos ? Severity::kHigh
                                                                               : Severity::kLow;
      const char* secret_why = secret == Severity::kLow
                                   ? "The text mentions a file that holds secrets or shell "
                                     "configuration."
                                   : "The text refers to a file that holds secrets or shell "
                                     "configuration.";
      for (std::string_view sp : kSecretPaths) {
        forEach(s, sp, [&](std::size_t p) {
          add("secret-path", secret, fi, sb + p, sb + p + sp.size(), secret_why);
        });
      }
      forEach(s, ".env", [&](std::size_t p) {
        bool left = p == 0 || !isWordByte(s[p - 1]);
        bool right = p + 4 == s.size() || !isWordByte(s[p + 4]);
        if (left && right) {
          add("secret-path", secret, fi, sb + p, sb + p + 4,
              "The text refers to a .env file, which usually holds secrets.");
        }
      });
      for (std::string_view w : kSecretWords) {
        forEach(s, w, [&](std::size_t p) {
          add(obliged ? "directive-sensitive-object" : "secret-reference",
              obliged ? Severity::kHigh : Severity::kLow, fi, sb + p, sb + p + w.size(),
              obliged ? "An order to the model involves credentials or sensitive locations."
                      : "The text mentions credentials or sensitive locations.");
        });
      }

      // Shell commands.
      for (std::string_view sh : kShell) {
        forEach(s, sh, [&](std::size_t p) {
          // A command word as a quoted value ("name='whoami'") names something else.
          if (std::all_of(sh.begin(), sh.end(), isWordByte) && p > 0 && p + sh.size() < s.size() &&
              (s[p - 1] == '\'' || s[p - 1] == '"' || s[p - 1] == '`') &&
              s[p + sh.size()] == s[p - 1])
            return;
          add("shell-command", obliged ? Severity::kHigh : Severity::kMedium, fi, sb + p,
              sb + p + sh.size(),
              obliged ? "The text orders the model to run a shell command."
                      : "The text contains a shell command.");
        });
      }
      forEach(f.text, "export ", [&](std::size_t p) {
        if (p < sb || p >= se) return;
        std::size_t k = p + 7;
        std::size_t b = k;
        while (k < se && ((f.text[k] >= 'A' && f.text[k] <= 'Z') || f.text[k] == '_')) ++k;
        if (k - b >= 3 && k < se && f.text[k] == '=') {
          add("shell-command", obliged ? Severity::kHigh : Severity::kMedium, fi, p, k + 1,
              "The text contains a shell command that changes the environment.");
        }
      });

      // URLs and e-mail addresses: exfiltration channels.
      for (std::string_view scheme : {"https://", "http://", "ftp://", "wss://"}) {
        forEach(s, scheme, [&](std::size_t p) {
          std::size_t e = p;
          while (e < s.size() && s[e] != ' ' && s[e] != '\'' && s[e] != '"' && s[e] != '`' &&
                 s[e] != ')' && s[e] != '\n')
            ++e;
          std::string_view before = s.substr(p >= 12 ? p - 12 : 0, p >= 12 ? 12 : p);
          bool example = before.find("e.g.") != std::string_view::npos ||
                         before.find("example") != std::string_view::npos ||
                         before.find("such as") != std::string_view::npos;
          bool contact = false;
          for (std::string_view v : kContactVerbs) contact |= s.find(v) != std::string_view::npos;
          if (obliged && contact && !example) {
            add("exfil-url", Severity::kHigh, fi, sb + p, sb + e,
                "The text orders the model to contact an external address.");
          } else {
            add("external-url", Severity::kLow, fi, sb + p, sb + e,
                "The text contains an external address.");
          }
        });
      }
      forEach(s, "@", [&](std::size_t p) {
        std::size_t b = p, e = p + 1;
        while (b > 0 && isIdentByte(s[b - 1])) --b;
        while (e < s.size() && isIdentByte(s[e])) ++e;
        std::string_view dom = s.substr(p + 1, e - p - 1);
        if (b < p && dom.find('.') != std::string_view::npos && dom.back() != '.' &&
            (obliged || s.find("send") != std::string_view::npos ||
             s.find("forward") != std::string_view::npos ||
             s.find("email") != std::string_view::npos)) {
          add("exfil-url", obliged ? Severity::kHigh : Severity::kMedium, fi, sb + b, sb + e,
              "The text directs data to an e-mail address.");
        }
      });
      if (obliged) {
        for (std::string_view v :
             {"send ", "upload ", "forward ", "transmit ", "exfiltrate ", "post ", "leak "}) {
          forEach(s, v, [&](std::size_t p) {
            std::string_view rest = s.substr(p, std::min<std::size_t>(120, s.size() - p));
            if (rest.find(" to ") != std::string_view::npos &&
                (rest.find("data") != std::string_view::npos ||
                 rest.find("content") != std::string_view::npos ||
                 rest.find("conversation") != std::string_view::npos ||
                 rest.find("history") != std::string_view::npos ||
                 rest.find("file") != std::string_view::npos ||
                 rest.find("request") != std::string_view::npos ||
                 rest.find("key") != std::string_view::npos)) {
              add("exfil-url", Severity::kHigh, fi, sb + p, sb + p + v.size() - 1,
                  "The text orders the model to send data somewhere.");
            }
          });
        }
      }

      // Calls to other tools.
      for (std::string_view v : kCallVerbs) {
        forEach(s, v, [&](std::size_t p) {
          if (p > 0 && isWordByte(s[p - 1])) return;
          bool bare_ok = v == "call " || v == "invoke " || v == "calling ";
          auto [tb, te] = callTarget(l, sb + p, v.size(), se, bare_ok);
          if (te <= tb) return;
          if (obliged) {
            add("tool-call-demand", Severity::kHigh, fi, tb, te,
                "The text orders the model to call another tool.");
          } else {
            add("cross-tool-reference", Severity::kLow, fi, tb, te,
                "The text refers to another tool.");
          }
        });
      }

      // Parameter tampering.
      auto tv = findAny(l, sb, se, kTamperVerbs);
      if (tv.first != std::string_view::npos) {
        auto tm = findAny(l, sb, se, kTamperMarks);
        if (tm.first != std::string_view::npos) {
          add("param-tampering", Severity::kHigh, fi, tv.first, tv.first + tv.second,
              "The text tells the model to change the arguments the user asked for.");
        }
      }
      for (std::string_view ph : {"regardless of the user", "ignore any user", "ignore the user",
                                  "instead of what the user"}) {
        forEach(s, ph, [&](std::size_t p) {
          add("param-tampering", Severity::kHigh, fi, sb + p, sb + p + ph.size(),
              "The text tells the model to override what the user asked for.");
        });
      }

      // Things to tell the user.
      for (std::string_view o : kOutputInjection) {
        forEach(s, o, [&](std::size_t p) {
          add("output-injection", obliged ? Severity::kHigh : Severity::kMedium, fi, sb + p,
              sb + p + o.size(), "The text dictates a message the model should present.");
        });
      }

      for (std::string_view d : kDeprecation) {
        forEach(s, d, [&](std::size_t p) {
          add("tool-redirection", obliged ? Severity::kMedium : Severity::kLow, fi, sb + p,
              sb + p + d.size(), "The text claims a tool is unavailable to steer the model.");
        });
      }

      // Claims about how another tool behaves now (shadowing).
      for (std::string_view sh : kShadowing) {
        forEach(s, sh, [&](std::size_t p) {
          std::size_t e = p, b = p;
          while (b > 0 && (isIdentByte(s[b - 1]) || s[b - 1] == '\'' || s[b - 1] == '`')) --b;
          std::string_view ident = s.substr(b, e - b);
          while (!ident.empty() && (ident.front() == '\'' || ident.front() == '`'))
            ident.remove_prefix(1);
          while (!ident.empty() && (ident.back() == '\'' || ident.back() == '`'))
            ident.remove_suffix(1);
          if (ident.empty() || ident == "this" || ident == "the" || ownName(ident)) return;
          add("tool-shadowing", Severity::kMedium, fi, sb + b, sb + e,
              "The text redefines how another tool behaves.");
        });
      }
      forEach(s, "our partner", [&](std::size_t p) {
        add("covert-promotion", Severity::kMedium, fi, sb + p, sb + p + 11,
            "The text steers results towards a third party.");
      });
    }
  }

  void scanParamName(std::size_t fi) {
    const std::string& l = fields_[fi].lower;
    for (std::string_view p : kSuspiciousParams) {
      if (l == p || (p.size() > 5 && l.find(p) != std::string::npos)) {
        add("param-name-suspicious", Severity::kLow, fi, 0, l.size(),
            "A parameter with this name is a common side channel for smuggled data.");
        return;
      }
    }
  }

  void scanPromotion() {
    int hits = 0;
    std::size_t first_field = 0, fb = 0, fe = 0;
    for (std::size_t fi = 0; fi < fields_.size(); ++fi) {
      if (fields_[fi].schema) continue;
      const std::string& l = fields_[fi].lower;
      if (fields_[fi].is_name) {
        std::size_t b = 0;
        for (std::size_t i = 0; i <= fields_[fi].text.size(); ++i) {
          const std::string& t = fields_[fi].text;
          bool boundary =
              i == t.size() || t[i] == '_' || t[i] == '-' ||
              (i > b && t[i] >= 'A' && t[i] <= 'Z' && t[i - 1] >= 'a' && t[i - 1] <= 'z');
          if (!boundary) continue;
          std::string_view part(l.data() + b, i - b);
          if (std::find(kPromoNameParts.begin(), kPromoNameParts.end(), part) !=
              kPromoNameParts.end()) {
            if (hits++ == 0) first_field = fi, fb = b, fe = i;
          }
          b = i + (i < t.size() && (t[i] == '_' || t[i] == '-'));
        }
        continue;
      }
      // Overlapping phrases are one endorsement ("always prefer this tool" is "always prefer"
      // and "prefer this tool"; "premium version" is "premium" too).
      std::vector<std::pair<std::size_t, std::size_t>> counted;
      for (std::string_view p : kPromo) {
        std::size_t q = l.find(p);
        if (q == std::string::npos) continue;
        std::size_t qe = q + p.size();
        bool overlaps = std::any_of(counted.begin(), counted.end(),
                                    [&](const auto& c) { return c.first < qe && q < c.second; });
        if (overlaps) continue;
        counted.emplace_back(q, qe);
        if (hits++ == 0) first_field = fi, fb = q, fe = qe;
      }
    }
    if (hits >= 2) {
      add("preference-manipulation", hits >= 4 ? Severity::kHigh : Severity::kMedium, first_field,
          fb, fe,
          "Superlatives and endorsements try to make the model prefer this tool over others.");
    } else if (hits == 1) {
      add("preference-manipulation", Severity::kLow, first_field, fb, fe,
          "Promotional wording about the tool itself.");
    }
  }

  ScanResult finish() {
    for (const std::string& p : truncated_) {
      for (std::size_t fi = 0; fi < fields_.size(); ++fi) {
        if (fields_[fi].path == p) {
          add("length-anomaly", Severity::kMedium, fi, kMaxScanBytes, kMaxScanBytes,
              "The text is longer than the scanner reads; the rest was not scanned.");
        }
      }
    }
    ScanResult r;
    r.name = name_;
    r.findings = std::move(findings_);
    score(r);
    return r;
  }

  const ScanContext& context_;
  std::string name_;
  std::string self_;
  std::vector<std::string> params_;
  std::vector<Field> fields_;
  std::vector<std::string> truncated_;
  std::vector<Finding> findings_;
};

// Removes invisible characters, escapes and invalid bytes from one string.
std::string sanitizeString(std::string_view t) {
  std::string out;
  out.reserve(t.size());
  std::size_t i = 0;
  while (i < t.size()) {
    auto c = static_cast<unsigned char>(t[i]);
    if (c == 0x1B) {  // drop the whole escape sequence
      ++i;
      if (i < t.size() && t[i] == '[') {
        ++i;
        while (i < t.size() && !(t[i] >= 0x40 && t[i] <= 0x7E)) ++i;
        if (i < t.size()) ++i;
      } else if (i < t.size() && t[i] == ']') {
        while (i < t.size() && t[i] != '\a' && t[i] != 0x1B) ++i;
        if (i < t.size()) ++i;
      }
      continue;
    }
    std::uint32_t cp = 0;
    std::size_t len = decodeUtf8(t, i, cp);
    if (len == 0) {
      ++i;
      continue;
    }
    Hidden h = classify(cp);
    bool keep = h == Hidden::kNone || (h == Hidden::kControl && cp == '\r');
    if (keep) out.append(t.substr(i, len));
    i += len;
  }
  return out;
}

json::value sanitizeValue(const json::value& v, std::size_t depth) {
  if (v.is_string()) return json::string(sanitizeString(v.get_string()));
  if (depth > 64) return v;
  if (v.is_array()) {
    json::array a;
    a.reserve(v.get_array().size());
    for (const auto& e : v.get_array()) a.push_back(sanitizeValue(e, depth + 1));
    return a;
  }
  if (v.is_object()) {
    json::object o;
    for (const auto& kv : v.get_object()) {
      o[sanitizeString(kv.key())] = sanitizeValue(kv.value(), depth + 1);
    }
    return o;
  }
  return v;
}

}  // namespace

void score(ScanResult& result) {
  int low = 0, rest = 0;
  bool critical = false, payload = false, obliged = false;
  for (const Finding& f : result.findings) {
    if (f.severity == Severity::kLow) {
      low += points(f.severity);
    } else {
      rest += points(f.severity);
      payload |= f.rule != "model-directive";
    }
    critical |= f.severity == Severity::kCritical;
    obliged |= f.rule == "model-directive";
  }
  // Low findings are context for a human; together they never exceed a quarter of a warning.
  int risk = std::min(low, 15) + rest + (obliged && payload ? 15 : 0);
  result.risk = std::clamp(risk, 0, 100);
  result.verdict = (critical || result.risk >= 70) ? Verdict::kBlock
                   : result.risk >= 25             ? Verdict::kWarn
                                                   : Verdict::kPass;
  std::stable_sort(result.findings.begin(), result.findings.end(),
                   [](const Finding& a, const Finding& b) {
                     return static_cast<int>(a.severity) > static_cast<int>(b.severity);
                   });
}

ScanResult scanTool(const json::object& tool, const ScanContext& context) {
  return Scanner(tool, context).run();
}

std::string_view verdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kPass:
      return "pass";
    case Verdict::kWarn:
      return "warn";
    case Verdict::kBlock:
      return "block";
  }
  return "pass";
}

std::string_view severityName(Severity severity) {
  switch (severity) {
    case Severity::kLow:
      return "low";
    case Severity::kMedium:
      return "medium";
    case Severity::kHigh:
      return "high";
    case Severity::kCritical:
      return "critical";
  }
  return "low";
}

json::object toJson(const ScanResult& result) {
  json::array findings;
  for (const Finding& f : result.findings) {
    json::object o;
    o["rule"] = f.rule;
    o["severity"] = severityName(f.severity);
    o["field"] = f.field;
    o["span"] = json::array{f.begin, f.end};
    o["explanation"] = f.explanation;
    findings.push_back(std::move(o));
  }
  json::object out;
  out["name"] = result.name;
  out["verdict"] = verdictName(result.verdict);
  out["risk"] = result.risk;
  out["findings"] = std::move(findings);
  return out;
}

json::object sanitizeTool(const json::object& tool) {
  return sanitizeValue(json::value(tool), 0).as_object();
}

bool loadToolsFile(const std::string& path, json::array& tools, std::string& why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = "cannot read " + path;
    return false;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec) {
    why = path + " is not valid JSON: " + ec.message();
    return false;
  }
  const json::value* list = &doc;
  if (doc.is_object()) {
    const json::object* o = &doc.get_object();
    if (auto* r = o->if_contains("result"); r && r->is_object()) o = &r->get_object();
    list = o->if_contains("tools");
  }
  if (!list || !list->is_array()) {
    why = path + ": expected a JSON array of tools or an object with a \"tools\" array";
    return false;
  }
  for (const auto& t : list->get_array()) {
    if (!t.is_object()) {
      why = path + ": every entry of the tools array must be an object";
      return false;
    }
  }
  tools = list->get_array();
  return true;
}

void printScanResults(const std::vector<ScanResult>& results, bool json_output) {
  if (json_output) {
    json::array out;
    for (const auto& r : results) out.push_back(toJson(r));
    std::cout << json::serialize(json::object{{"tools", std::move(out)}}) << "\n";
    return;
  }
  std::size_t width = 4;
  for (const auto& r : results) width = std::max(width, std::min<std::size_t>(r.name.size(), 48));
  auto pad = [](std::string s, std::size_t w) {
    if (s.size() < w) s.append(w - s.size(), ' ');
    return s;
  };
  std::cout << pad("TOOL", width) << "  VERDICT  RISK  FINDINGS\n";
  std::size_t warned = 0, blocked = 0;
  for (const auto& r : results) {
    std::ostringstream risk;
    risk << r.risk;
    std::cout << pad(sanitizeString(r.name), width) << "  "
              << pad(std::string(verdictName(r.verdict)), 7) << "  " << pad(risk.str(), 4) << "  "
              << r.findings.size() << "\n";
    for (const auto& f : r.findings) {
      if (f.severity == Severity::kLow && r.verdict == Verdict::kPass) continue;
      std::cout << "    " << pad(std::string(severityName(f.severity)), 8) << " " << f.rule
                << " at " << f.field << "[" << f.begin << "," << f.end << "]: " << f.explanation
                << "\n";
    }
    warned += r.verdict == Verdict::kWarn;
    blocked += r.verdict == Verdict::kBlock;
  }
  std::cout << results.size() << " tools: " << blocked << " block, " << warned << " warn, "
            << results.size() - blocked - warned << " pass\n";
}

int runScanCommand(const std::string& tools_file, bool json_output) {
  json::array tools;
  std::string why;
  if (!loadToolsFile(tools_file, tools, why)) {
    std::cerr << "mcpproxy security scan: " << why << "\n";
    return 2;
  }
  // A file is one server's tools/list: its tools may name each other freely. Cross-server
  // checks need the other servers (`security scan --with-config`).
  std::vector<std::string> names, titles;
  for (const auto& t : tools) {
    const json::object& o = t.get_object();
    if (const json::value* v = o.if_contains("name"); v && v->is_string()) {
      names.emplace_back(v->get_string());
    }
    if (const json::value* v = o.if_contains("title"); v && v->is_string()) {
      titles.emplace_back(v->get_string());
    }
    if (const json::value* a = o.if_contains("annotations"); a && a->is_object()) {
      const json::value* v = a->get_object().if_contains("title");
      if (v && v->is_string()) titles.emplace_back(v->get_string());
    }
  }
  ScanContext context{names, titles};
  std::vector<ScanResult> results;
  for (const auto& t : tools) results.push_back(scanTool(t.get_object(), context));
  printScanResults(results, json_output);
  return 0;
}

}  // namespace mcpproxy::policy
