// Splitting a multi-step task into sub-intents (rules in task_split.h). Works on bytes like the
// tokenizer: ASCII is analysed, anything else is part of a word, nothing can make it fail.
#include "index/task_split.h"

#include <algorithm>
#include <array>

#include "index/text.h"

namespace mcpproxy::index {
namespace {

// Common imperative verbs of tasks people give an assistant. Sorted for binary search.
constexpr std::array kActionVerbs = std::to_array<std::string_view>({
    "add",       "analyse",   "analyze",   "append",    "archive",   "ask",       "assign",
    "attach",    "backup",    "book",      "browse",    "build",     "buy",       "calculate",
    "call",      "cancel",    "check",     "clone",     "close",     "collect",   "commit",
    "compare",   "compile",   "compose",   "compress",  "compute",   "configure", "convert",
    "copy",      "count",     "crawl",     "create",    "crop",      "debug",     "decrypt",
    "delete",    "deploy",    "describe",  "design",    "determine", "display",   "download",
    "draft",     "draw",      "edit",      "email",     "embed",     "encrypt",   "estimate",
    "evaluate",  "explain",   "export",    "extract",   "fetch",     "fill",      "filter",
    "find",      "fix",       "forward",   "gather",    "generate",  "get",       "give",
    "highlight", "identify",  "import",    "include",   "insert",    "install",   "invite",
    "launch",    "list",      "load",      "locate",    "log",       "look",      "make",
    "map",       "mark",      "measure",   "merge",     "message",   "monitor",   "move",
    "notify",    "open",      "order",     "organise",  "organize",  "parse",     "pay",
    "plan",      "play",      "plot",      "post",      "predict",   "prepare",   "print",
    "produce",   "publish",   "pull",      "purchase",  "push",      "put",       "query",
    "rank",      "rate",      "read",      "recommend", "record",    "remind",    "remove",
    "rename",    "render",    "reply",     "report",    "research",  "reserve",   "resize",
    "restore",   "retrieve",  "review",    "run",       "save",      "scan",      "schedule",
    "scrape",    "search",    "send",      "set",       "share",     "show",      "sign",
    "sort",      "start",     "stop",      "store",     "submit",    "suggest",   "summarise",
    "summarize", "sync",      "tag",       "tell",      "test",      "track",     "transcribe",
    "transfer",  "translate", "turn",      "unzip",     "update",    "upload",    "validate",
    "verify",    "visualise", "visualize", "watch",     "write",     "zip",
});

// Words that start a new step wherever they stand ("..., then add it"). "next" is not here:
// "next week" is far more common in tasks than "next, do X".
constexpr std::array kStepWords =
    std::to_array<std::string_view>({"afterwards", "also", "finally", "then"});

bool isWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '\'' || c >= 0x80;
}

struct Word {
  std::size_t begin, end;
  std::string lower;
};

std::string_view trim(std::string_view s) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ','; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

// Words of at least two letters that are not stop words or step words.
std::size_t contentWords(std::string_view s) {
  std::size_t n = 0;
  for (const AnalyzedTerm& t : analyze(s, {.stem = false, .split_identifiers = false})) {
    bool letters = std::any_of(t.text.begin(), t.text.end(), [](char c) { return c >= 'a'; });
    bool step = std::find(kStepWords.begin(), kStepWords.end(), t.text) != kStepWords.end();
    if (letters && !step && t.text != "and") ++n;
  }
  return n;
}

}  // namespace

bool isActionVerb(std::string_view word) {
  return std::binary_search(kActionVerbs.begin(), kActionVerbs.end(), word);
}

std::vector<std::string> splitTask(std::string_view task) {
  if (task.size() > 4096) task = task.substr(0, 4096);
  // Cut points: byte offsets where a new intent starts.
  std::vector<std::size_t> cuts{0};
  std::vector<Word> words;
  for (std::size_t i = 0; i < task.size();) {
    auto c = static_cast<unsigned char>(task[i]);
    if (!isWordByte(c)) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < task.size() && isWordByte(static_cast<unsigned char>(task[j]))) ++j;
    std::string lower;
    for (std::size_t k = i; k < j; ++k) {
      char ch = task[k];
      lower.push_back(ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch);
    }
    words.push_back({i, j, std::move(lower)});
    i = j;
  }
  auto gapHas = [&](std::size_t from, std::size_t to, auto predicate) {
    for (std::size_t k = from; k < to; ++k) {
      if (predicate(k)) return true;
    }
    return false;
  };
  for (std::size_t w = 1; w < words.size(); ++w) {
    std::size_t gap_begin = words[w - 1].end, gap_end = words[w].begin;
    const std::string& word = words[w].lower;
    // Hard boundaries in the gap: a sentence end followed by space, ';', a line break.
    bool hard = gapHas(gap_begin, gap_end, [&](std::size_t k) {
      char ch = task[k];
      if (ch == ';' || ch == '\n' || ch == '!' || ch == '?') return true;
      // A full stop ends a sentence, but not the one of a step number ("2. read").
      bool after_number =
          k == gap_begin && words[w - 1].lower.find_first_not_of("0123456789") == std::string::npos;
      return ch == '.' && !after_number && k + 1 < task.size() &&
             (task[k + 1] == ' ' || task[k + 1] == '\n');
    });
    bool comma = gapHas(gap_begin, gap_end, [&](std::size_t k) { return task[k] == ','; });
    bool numbered =
        std::all_of(word.begin(), word.end(), [](char ch) { return ch >= '0' && ch <= '9'; }) &&
        gap_end < task.size() && words[w].end < task.size() &&
        (task[words[w].end] == '.' || task[words[w].end] == ')');
    bool step = std::find(kStepWords.begin(), kStepWords.end(), word) != kStepWords.end();
    bool after_that = word == "after" && w + 1 < words.size() && words[w + 1].lower == "that";
    bool and_verb = (word == "and" || comma) &&
                    ((w + 1 < words.size() && word == "and" && isActionVerb(words[w + 1].lower)) ||
                     (comma && word != "and" && isActionVerb(word)));
    if (hard || numbered || step || after_that || and_verb) cuts.push_back(words[w].begin);
  }
  cuts.push_back(task.size());
  std::vector<std::string> pieces;
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
    std::string_view piece = trim(task.substr(cuts[i], cuts[i + 1] - cuts[i]));
    if (piece.empty()) continue;
    // A piece too small to stand alone joins the previous one (or the next, when first).
    if (!pieces.empty() && contentWords(piece) < 2) {
      pieces.back().append(" ").append(piece);
      continue;
    }
    if (!pieces.empty() && contentWords(pieces.back()) < 2) {
      pieces.back().append(" ").append(piece);
      continue;
    }
    pieces.emplace_back(piece);
  }
  if (pieces.size() > kMaxIntents) pieces.resize(kMaxIntents);
  return pieces;
}

}  // namespace mcpproxy::index
