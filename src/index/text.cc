// Tokenizer, identifier splitting, stop words and the light stemmer used by the search index.
// Everything works on bytes: ASCII is analysed, valid multi-byte UTF-8 passes through as word
// characters, and invalid bytes are treated as separators, so no input can break it.
#include "index/text.h"

#include <algorithm>
#include <array>

namespace mcpproxy::index {
namespace {

bool isAsciiAlpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool isAsciiDigit(unsigned char c) {
  return c >= '0' && c <= '9';
}
bool isAsciiUpper(unsigned char c) {
  return c >= 'A' && c <= 'Z';
}
bool isAsciiLower(unsigned char c) {
  return c >= 'a' && c <= 'z';
}
char toLower(unsigned char c) {
  return static_cast<char>(isAsciiUpper(c) ? c - 'A' + 'a' : c);
}

// Length of the valid UTF-8 sequence starting at text[i] (2..4), or 0 when the bytes there are
// not one: stray continuation bytes, overlongs, surrogates and code points above U+10FFFF.
std::size_t utf8SequenceLength(std::string_view text, std::size_t i) {
  auto b0 = static_cast<unsigned char>(text[i]);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  auto b1 = static_cast<unsigned char>(text[i + 1]);
  if (b1 < lo || b1 > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    auto b = static_cast<unsigned char>(text[i + k]);
    if (b < 0x80 || b > 0xBF) return 0;
  }
  return n;
}

// Cuts s to at most kMaxTokenBytes without splitting a UTF-8 sequence.
void truncateToken(std::string& s) {
  if (s.size() <= kMaxTokenBytes) return;
  std::size_t cut = kMaxTokenBytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
}

enum class CharClass { kLower, kUpper, kDigit, kOther };  // kOther: a multi-byte character

CharClass classify(unsigned char c) {
  if (isAsciiLower(c)) return CharClass::kLower;
  if (isAsciiUpper(c)) return CharClass::kUpper;
  if (isAsciiDigit(c)) return CharClass::kDigit;
  return CharClass::kOther;
}

// Splits a word (ASCII letters/digits, '_', '-', valid UTF-8 sequences) into lower-cased parts.
void splitWord(std::string_view word, bool camel_case, std::vector<std::string>& parts) {
  std::string current;
  CharClass prev = CharClass::kOther;
  std::size_t upper_run = 0;  // capitals at the end of current
  auto flush = [&] {
    if (!current.empty()) {
      truncateToken(current);
      parts.push_back(std::move(current));
      current.clear();
    }
    upper_run = 0;
  };
  for (std::size_t i = 0; i < word.size();) {
    auto c = static_cast<unsigned char>(word[i]);
    if (c == '_' || c == '-') {
      flush();
      ++i;
      continue;
    }
    if (c >= 0x80) {  // letters of another script, kept as they are
      std::size_t n = utf8SequenceLength(word, i);
      if (n == 0) n = 1;  // defensive: the caller passes only valid sequences
      if (prev == CharClass::kDigit) flush();
      current.append(word.substr(i, n));
      prev = CharClass::kOther;
      upper_run = 0;
      i += n;
      continue;
    }
    CharClass cls = classify(c);
    if (!current.empty()) {
      bool digits_change = (cls == CharClass::kDigit) != (prev == CharClass::kDigit);  // ec2
      bool lower_to_upper = cls == CharClass::kUpper && prev == CharClass::kLower;     // listIssues
      if (digits_change || (camel_case && lower_to_upper)) {
        flush();  // prose keeps MySQL and GitHub whole
      } else if (camel_case && cls == CharClass::kLower && upper_run >= 2) {
        // HTTPServer → http, server: the last capital starts the next part.
        char last = current.back();
        current.pop_back();
        flush();
        current.push_back(last);
      }
    }
    current.push_back(toLower(c));
    upper_run = cls == CharClass::kUpper ? upper_run + 1 : 0;
    prev = cls;
    ++i;
  }
  flush();
}

bool isVowel(std::string_view w, std::size_t i) {
  switch (w[i]) {
    case 'a':
    case 'e':
    case 'i':
    case 'o':
    case 'u':
      return true;
    case 'y':
      return i > 0 && !isVowel(w, i - 1);  // "y" after a consonant acts as a vowel
    default:
      return false;
  }
}

bool hasVowel(std::string_view w) {
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (isVowel(w, i)) return true;
  }
  return false;
}

bool endsWith(std::string_view w, std::string_view suffix) {
  return w.size() >= suffix.size() && w.substr(w.size() - suffix.size()) == suffix;
}

// After removing -ed/-ing: undouble a final consonant pair (stopp → stop) except ll, ss, zz and
// where that would leave two letters (add), and restore the 'e' of a short stem (us → use,
// nam → name), as Porter's step 1b does.
void fixSuffixStrippedStem(std::string& w) {
  std::size_t n = w.size();
  if (n >= 4 && w[n - 1] == w[n - 2] && !isVowel(w, n - 1) && w[n - 1] != 'l' && w[n - 1] != 's' &&
      w[n - 1] != 'z') {
    w.pop_back();
    return;
  }
  // Short stem: consonant-vowel-consonant (final not w, x, y) of three letters, or vowel-consonant
  // of two.
  bool short_cvc = n == 3 && !isVowel(w, 0) && isVowel(w, 1) && !isVowel(w, 2) && w[2] != 'w' &&
                   w[2] != 'x' && w[2] != 'y';
  bool short_vc = n == 2 && isVowel(w, 0) && !isVowel(w, 1);
  if (short_cvc || short_vc) w.push_back('e');
}

// Function words and query filler. Words that can tell tools apart ("all", "new", "show", "get")
// are not here: IDF weighs them.
constexpr std::string_view kStopWords[] = {
    "a",       "about",  "above", "after",  "again", "also",  "am",     "an",     "and",
    "any",     "are",    "as",    "at",     "be",    "been",  "before", "being",  "below",
    "between", "both",   "but",   "by",     "can",   "could", "did",    "do",     "does",
    "doing",   "during", "each",  "either", "else",  "etc",   "for",    "from",   "further",
    "had",     "has",    "have",  "having", "he",    "her",   "here",   "him",    "his",
    "how",     "i",      "if",    "in",     "into",  "is",    "it",     "its",    "itself",
    "just",    "let",    "lets",  "like",   "me",    "might", "more",   "most",   "must",
    "my",      "of",     "on",    "or",     "other", "our",   "ours",   "please", "should",
    "so",      "some",   "such",  "than",   "that",  "the",   "their",  "them",   "then",
    "there",   "these",  "they",  "this",   "those", "to",    "want",   "wants",  "was",
    "we",      "were",   "what",  "when",   "where", "which", "while",  "who",    "whom",
    "why",     "will",   "with",  "would",  "you",   "your",  "yours",
};

}  // namespace

std::vector<std::string> splitIdentifier(std::string_view word) {
  std::vector<std::string> parts;
  splitWord(word, true, parts);
  return parts;
}

bool isStopWord(std::string_view word) {
  static const std::vector<std::string_view> sorted = [] {
    std::vector<std::string_view> words(std::begin(kStopWords), std::end(kStopWords));
    std::sort(words.begin(), words.end());
    return words;
  }();
  return std::binary_search(sorted.begin(), sorted.end(), word);
}

std::string stem(std::string_view word) {
  std::string w(word);
  if (w.size() <= 3 || !std::all_of(w.begin(), w.end(), [](char c) {
        return isAsciiLower(static_cast<unsigned char>(c));
      })) {
    return w;
  }
  auto replaceSuffix = [&](std::size_t n, std::string_view with) {
    w.resize(w.size() - n);
    w.append(with);
  };

  // Plurals and third person -s.
  if (endsWith(w, "sses")) {
    replaceSuffix(2, "");  // classes → class
  } else if (endsWith(w, "ies")) {
    replaceSuffix(3, w.size() > 4 ? "y" : "ie");  // policies → policy, ties → tie
  } else if (endsWith(w, "xes") || endsWith(w, "ches") || endsWith(w, "shes") ||
             endsWith(w, "zzes")) {
    replaceSuffix(2, "");  // boxes → box, searches → search
  } else if (w.back() == 's' && !endsWith(w, "ss") && !endsWith(w, "us") && !endsWith(w, "is") &&
             !endsWith(w, "ias") && hasVowel(std::string_view(w).substr(0, w.size() - 2))) {
    replaceSuffix(1, "");  // tools → tool, statuses → statuse (→ status below)
  }

  // -ed and -ing, only when a vowel remains (not "red", "string").
  static constexpr std::string_view kNotPastTense[] = {"embed", "hundred", "naked", "shred"};
  if (endsWith(w, "eed") ||
      std::find(std::begin(kNotPastTense), std::end(kNotPastTense), w) != std::end(kNotPastTense)) {
    // need, speed, embed: not a past tense
  } else if (endsWith(w, "ied")) {
    replaceSuffix(3, w.size() > 4 ? "y" : "ie");  // applied → apply, tied → tie
  } else if (endsWith(w, "ed") && hasVowel(std::string_view(w).substr(0, w.size() - 2))) {
    replaceSuffix(2, "");
    fixSuffixStrippedStem(w);  // used → us → use
  } else if (endsWith(w, "ing") && hasVowel(std::string_view(w).substr(0, w.size() - 3))) {
    replaceSuffix(3, "");
    fixSuffixStrippedStem(w);
  }

  // A few derivational endings, keeping at least three letters of stem.
  struct Rule {
    std::string_view suffix, replacement;
  };
  static constexpr Rule kRules[] = {
      {"ization", "ize"}, {"isation", "ize"}, {"ational", "ate"},
      {"ation", "ate"},   {"ment", ""},       {"ness", ""},
  };
  for (const Rule& rule : kRules) {
    std::size_t min_stem = rule.suffix == "ment" ? 4 : 3;  // not "com-ment", "seg-ment"
    if (endsWith(w, rule.suffix) && w.size() - rule.suffix.size() >= min_stem) {
      replaceSuffix(rule.suffix.size(), rule.replacement);
      break;
    }
  }

  // A final silent 'e', when four letters remain: create → creat, but name and use stay.
  if (w.size() >= 5 && w.back() == 'e') w.pop_back();
  return w;
}

std::vector<AnalyzedTerm> analyze(std::string_view text, const AnalyzeOptions& options) {
  std::vector<AnalyzedTerm> out;
  std::vector<std::string> parts;
  std::uint32_t position = 0;
  auto finish = [&](const std::string& term) -> std::string {
    if (options.stem && !isAsciiDigit(static_cast<unsigned char>(term[0]))) return stem(term);
    return term;
  };
  auto emitWord = [&](std::string_view word) {
    parts.clear();
    if (options.split_identifiers) {
      splitWord(word, options.split_camel_case, parts);
    } else {
      std::string whole;
      for (char c : word) whole.push_back(toLower(static_cast<unsigned char>(c)));
      truncateToken(whole);
      parts.push_back(std::move(whole));
    }
    if (parts.empty()) return;
    std::uint32_t first_position = position;
    for (std::string& part : parts) {
      std::uint32_t pos = position++;
      if (part.size() < 2) continue;
      if (options.drop_stop_words && isStopWord(part)) continue;
      out.push_back({finish(part), pos, false});
    }
    if (options.emit_joined && parts.size() > 1) {
      std::string joined;
      for (const std::string& part : parts) joined += part;
      truncateToken(joined);
      out.push_back({finish(joined), first_position, true});
      if (parts.size() > 2) {
        for (std::size_t k = 0; k + 1 < parts.size(); ++k) {
          std::string pair;
          pair.reserve(parts[k].size() + parts[k + 1].size());
          pair.append(parts[k]).append(parts[k + 1]);
          truncateToken(pair);
          out.push_back({finish(pair), first_position + static_cast<std::uint32_t>(k), true});
        }
      }
    }
  };

  std::size_t start = std::string_view::npos;  // start of the current word
  for (std::size_t i = 0; i <= text.size();) {
    bool word_char = false;
    std::size_t len = 1;
    if (i < text.size()) {
      auto c = static_cast<unsigned char>(text[i]);
      if (c < 0x80) {
        word_char = isAsciiAlpha(c) || isAsciiDigit(c) || c == '_' || c == '-';
      } else {
        len = utf8SequenceLength(text, i);
        word_char = len != 0;
        if (len == 0) len = 1;
      }
    }
    if (word_char) {
      if (start == std::string_view::npos) start = i;
    } else if (start != std::string_view::npos) {
      emitWord(text.substr(start, i - start));
      start = std::string_view::npos;
    }
    i += len;
  }
  return out;
}

}  // namespace mcpproxy::index
