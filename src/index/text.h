// Text analysis for tool search: the tokenizer that turns tool names, descriptions and queries
// into index terms (identifier splitting, lower-casing, stop words, a light English stemmer).
// Documents and queries go through the same analysis, so whatever it conflates matches both
// ways. Pure functions; no state, no allocation beyond the returned values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mcpproxy::index {

// Tokens longer than this (after lower-casing) are cut at a UTF-8 character boundary, so a
// hostile description cannot make one term arbitrarily large.
inline constexpr std::size_t kMaxTokenBytes = 64;

struct AnalyzedTerm {
  std::string text;        // the normalised term (lower-cased, stemmed unless a number)
  std::uint32_t position;  // word position in the input; an identifier's parts count as words
  // Set for the joined form of a compound identifier ("listissues" from "listIssues"); it
  // shares the position of the compound's first part and is not a word of its own.
  bool joined = false;
};

struct AnalyzeOptions {
  bool drop_stop_words = true;
  bool stem = true;
  // Split at case changes too ("listIssues", "HTTPServer"). Right for identifiers; in prose a
  // capital inside a word is mostly a brand ("MySQL", "GitHub") that must stay whole.
  bool split_camel_case = true;
  // false keeps each word whole (lower-cased, '_' and '-' included): only for comparisons.
  bool split_identifiers = true;
  // For compound identifiers ("list_pull_requests"), also emit the whole identifier joined
  // ("listpullrequests") and, with three or more parts, each adjacent pair joined
  // ("listpull", "pullrequests"), so "key vault", "keyvault" and "key_vault" meet.
  bool emit_joined = true;
};

// Splits UTF-8 text into terms. A word is a run of ASCII letters and digits, '_' and '-'
// between them, and valid multi-byte UTF-8 characters (kept as they are: only ASCII is
// lower-cased). Invalid UTF-8 bytes, punctuation and whitespace separate words; nothing in the
// input can make it fail. Each word is split into parts at '_' and '-', at lower→upper case
// changes ("listIssues"), at acronym ends ("HTTPServer" → http, server) and at letter/digit
// changes ("ec2" → ec, 2). One-byte parts and stop words are dropped, the rest stemmed.
std::vector<AnalyzedTerm> analyze(std::string_view text, const AnalyzeOptions& options = {});

// Splits one identifier into its lower-cased parts by the rules above, without dropping or
// stemming anything: "getHTTPResponse_v2" → {"get", "http", "response", "v", "2"}.
std::vector<std::string> splitIdentifier(std::string_view word);

// A light English stemmer for lower-case ASCII words (other input is returned unchanged). It
// conflates inflections, which is what matters for matching queries to tool descriptions:
//   possessive 's; plurals (queries → query, boxes → box, policies → policy, but status, access,
//   analysis stay); -ed and -ing (created, creating → creat; running → run; needed → need);
//   a few derivational endings (-ization → -ize, -ation → -ate, -ment, -ness);
//   and finally a trailing 'e' (create → creat, so create/created/creating/creates agree).
// Like Porter's stemmer it produces stems, not words, and is deliberately conservative: it
// leaves words of three letters or fewer and words without a vowel in the remaining stem alone.
std::string stem(std::string_view word);

// English function words and query filler ("the", "of", "me", "please", ...). Expects a
// lower-case word.
bool isStopWord(std::string_view word);

}  // namespace mcpproxy::index
