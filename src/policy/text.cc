// See text.h.
#include "policy/text.h"

#include <array>

namespace mcpproxy::policy::text {

namespace {

// An obligation addressed to whoever reads the description: the model.
constexpr std::array<std::string_view, 34> kObligations = {
    "you must",          "you should",          "you need to",
    "you have to",       "you are required",    "you will need to",
    "must first",        "must also",           "must then",
    "must always",       "must automatically",  "must be called",
    "must call",         "must execute",        "must run",
    "must read",         "mandatory",           "it's critical to",
    "it is critical to", "is required for all", "are required to",
    "system requires",   "system must",         "please run",
    "please use",        "please call",         "please execute",
    "please send",       "make sure to",        "be sure to",
    "always ",           "you are instructed",  "the assistant must",
    "the model must"};

}  // namespace

std::string lowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::vector<std::pair<std::size_t, std::size_t>> splitSentences(std::string_view t) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    bool end = false;
    std::size_t next = i + 1;
    if ((c == '.' || c == '!' || c == '?') &&
        (i + 1 == t.size() || t[i + 1] == ' ' || t[i + 1] == '\n' || t[i + 1] == '\t')) {
      end = true;
    } else if (c == '\n') {
      // A blank line, also one holding only indentation.
      std::size_t j = i + 1;
      while (j < t.size() && (t[j] == ' ' || t[j] == '\t' || t[j] == '\r')) ++j;
      if (j < t.size() && t[j] == '\n') {
        end = true;
        next = j + 1;
      }
    }
    if (end) {
      out.emplace_back(start, i + 1);
      start = next;
      i = next - 1;
    }
  }
  if (start < t.size()) out.emplace_back(start, t.size());
  return out;
}

namespace {

// "always" orders only as the first word of a clause ("Always use ...", "- ALWAYS check", "When
// X runs, always add ...") or
// after a subject or adverb of an order ("you always", "please always"); elsewhere it describes
// ("is always present", "always errors", "callIds and always are ignored").
bool alwaysOrders(std::string_view lower, std::size_t p) {
  std::size_t i = p;
  while (i > 0 && (lower[i - 1] == ' ' || lower[i - 1] == '\t' || lower[i - 1] == '*')) --i;
  if (i == 0) return true;
  char c = lower[i - 1];
  if (c == '.' || c == ':' || c == ';' || c == ',' || c == '!' || c == '?' || c == '-' ||
      c == '\n' || c == '(' || c == '>' || c == '"' || c == '\'') {
    return true;
  }
  std::size_t end = i;
  while (i > 0 && isWordByte(lower[i - 1])) --i;
  std::string_view word = lower.substr(i, end - i);
  return word == "you" || word == "please" || word == "must" || word == "should" || word == "then";
}

}  // namespace

std::pair<std::size_t, std::size_t> findObligation(std::string_view lower, std::size_t b,
                                                   std::size_t e) {
  std::string_view part = lower.substr(b, e - b);
  std::pair<std::size_t, std::size_t> best{std::string_view::npos, 0};
  for (std::string_view n : kObligations) {
    for (std::size_t p = part.find(n); p != std::string_view::npos && p < best.first;
         p = part.find(n, p + 1)) {
      if (n == "always " && !alwaysOrders(lower, b + p)) continue;
      best = {p, n.size()};
      break;
    }
  }
  if (best.first != std::string_view::npos) best.first += b;
  return best;
}

}  // namespace mcpproxy::policy::text
