// The tool-search engine behind retrieve_tools: an in-memory inverted index over tool
// definitions with a BM25F lexical ranker. It knows nothing about upstreams or sessions; the
// caller decides which tools are indexed (for instance only approved ones) and keeps it current
// with upsertServer/removeServer.
//
// Ranking (docs/search.md; measured effect of each step: tests/search/search_eval.cc, tables in
// docs/benchmarks.md):
//   1. Analysis (index/text.h): identifier splitting with the joined form kept, lower-casing,
//      stop words, a light stemmer. Queries also try adjacent words joined ("key vault" →
//      keyvault), rare run-together words split ("cosmosdb" → cosmos db), and a small table of
//      verb and abbreviation synonyms at reduced weight.
//   2. BM25F over six fields (tool name, server, title, description, parameter names,
//      parameter descriptions), each with its own weight and length normalisation; a repeated
//      query word counts once, so long, repetitive task descriptions do not drown the rest.
//   3. A coverage factor favouring tools that match more of the query's IDF-weighted words.
//   4. A rerank of the best candidates by how much of the tool's name the query explains, by
//      inflected words written the same way ("secrets"), and by plural objects asking for a
//      tool whose name says "list".
//   5. A semantic signal: tools and queries embedded as SIF-weighted means of static word
//      vectors (index/word_vectors.h), cosine over every tool, fused with the lexical list by a
//      convex combination of anchored min-max scores (index/fusion.h).
//   6. Learning from use (index/feedback.h): tools called after similar past queries rise.
//   7. Server-level evidence: a tool whose server's other tools also match is lifted.
//   8. Task decomposition (index/task_split.h): a multi-step task is searched one sub-intent
//      at a time and the sub-intents take turns filling the answer (Hit::intent says which
//      one each tool answers).
#pragma once

#include <array>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "index/feedback.h"

namespace mcpproxy::index {

struct ToolDocument {
  std::string server;               // e.g. "github"
  std::string name;                 // the upstream's tool name, e.g. "create_issue"
  std::string title;                // optional; annotations.title is used when this is empty
  std::string description;          // may be long; only the first kMaxDescriptionBytes are indexed
  boost::json::value input_schema;  // object or null
  boost::json::value annotations;   // object or null
};

struct Hit {
  std::string server;
  std::string tool;
  double score;  // higher is better; comparable only within one result list
  // For a task split into sub-intents (SearchResult::intents): the one this tool answers best;
  // -1 when the tool answers the task as a whole.
  int intent = -1;
};

// Indexed fields. Tool names and parameter names are identifiers; the rest is prose.
enum class Field : std::uint8_t {
  kName,
  kServer,
  kTitle,
  kDescription,
  kParamName,
  kParamDescription,
};
inline constexpr std::size_t kFieldCount = 6;

// Named limits on what one tool may put into the index (docs/STYLE.md rule 4).
inline constexpr std::size_t kMaxDescriptionBytes = std::size_t{16} * 1024;
inline constexpr std::size_t kMaxSchemaProperties = 256;  // parameters indexed per tool
inline constexpr std::size_t kMaxSchemaDepth = 4;         // nesting of object parameters
inline constexpr std::size_t kMaxQueryBytes = 4096;       // longer queries are cut
inline constexpr std::size_t kMaxQueryTerms = 64;         // distinct terms scored per query

// Tuning of the lexical ranker. The defaults are the tuned values; the switches exist so the
// quality test can show what each technique contributes (an ablation) and are otherwise left
// alone. Options are fixed when the index is built.
struct RankerOptions {
  // BM25F: per-field weight (0 leaves the field out of the index) and length normalisation b.
  //                                        name  server title desc  pname pdesc
  std::array<float, kFieldCount> field_weight{2.0f, 1.5f, 2.0f, 1.0f, 0.6f, 0.25f};
  std::array<float, kFieldCount> field_b{0.3f, 0.0f, 0.3f, 0.75f, 0.5f, 0.75f};
  float k1 = 1.2f;

  // Analysis.
  bool split_identifiers = true;  // list_issues → list, issues (+ listissues)
  // Descriptions and queries keep "MySQL" whole instead of "my" + "sql" (names still split).
  bool prose_keeps_camel_case = true;
  bool stem = true;
  bool stop_words = true;

  // Query expansion.
  bool query_pair_joins = true;      // "key vault" also looks up "keyvault"
  bool decompound = true;            // rare "cosmosdb" also tries known "cosmos" + "db"
  float synonym_weight = 0.5f;       // weight of synonym expansions; 0 disables them
  bool synonym_coverage = true;      // a synonym's match partly covers its source word
  bool distinct_query_terms = true;  // a repeated query word counts once

  // First pass: BM25F × (matched IDF mass / query IDF mass) ^ coverage_exponent (0 disables),
  // keeping the best rerank_depth candidates.
  float coverage_exponent = 1.0f;
  std::size_t rerank_depth = 100;

  // Rerank: score × (1 + name_coverage_weight × share of the tool name's IDF mass found in the
  //   query
  //   + surface_weight × share of the query's inflected words ("secrets", "created") written
  //     the same way in the tool's name, title or description: stemming conflates "secret" and
  //     "secrets", but the form often tells a listing from a single get
  //   + list_intent_weight if a word the query uses in the plural is in the tool's name and the
  //     name says "list": plural objects ask for listings
  //   + name_bigram_weight × adjacent query words found in order in the name).
  // With name_idf_in_rerank the name's IDF counts tool names only, so "group" in "group_list"
  // stays telling although nearly every tool has a resource-group parameter.
  float name_coverage_weight = 1.0f;
  bool name_idf_in_rerank = true;
  float surface_weight = 0.2f;
  float list_intent_weight = 0.3f;
  //   + get_intent_weight if a word the query uses in the singular is in the name of a tool that
  //     says "get" and no plural one is: the mirror image of list intent.
  float get_intent_weight = 0.0f;
  float name_bigram_weight = 0.0f;  // measured: no gain on retrieval-dev (−0.3 pt R@1 at 0.1)
};

class WordVectors;

// Everything the index is built with: the lexical ranker and the signals fused with it. Weights
// were chosen on tests/data/retrieval-dev only (docs/search.md); livemcpbench is never used to
// choose one.
struct SearchOptions {
  RankerOptions ranker;

  // Semantic signal: tools and queries embedded as SIF-weighted means of static word vectors
  // (index/word_vectors.h), compared by cosine over every tool, and fused with the lexical
  // list (index/fusion.h, convex combination). Null vectors switch the signal off.
  std::shared_ptr<const WordVectors> vectors;
  float semantic_weight = 0.3f;      // fusion weight; the lexical list weighs 1
  std::size_t semantic_depth = 100;  // best tools by cosine that join the fusion
  // Per field: how much its words count in a tool's embedding (name, server, title,
  // description, parameter names, parameter descriptions).
  std::array<float, kFieldCount> semantic_field_weight{2.0f, 0.5f, 2.0f, 1.0f, 0.5f, 0.0f};

  // Task decomposition (index/task_split.h): a multi-step task is also searched one sub-intent
  // at a time, and the answer gives every sub-intent slots in turn.
  bool decompose = true;
  // Whether the whole task also takes a turn in the slots (before the sub-intents). Off: on
  // retrieval-dev's three-step tasks the sub-intents alone give R@5 0.919 and R@1 0.877
  // against 0.912 and 0.803 with the whole task's turn (whose best tool is mostly one of the
  // steps' anyway), at half the cost.
  bool whole_task_slot = false;

  // Server-level evidence: a tool's score is lifted by how well the other tools of its server
  // match (× (1 + server_weight × evidence), evidence in [0, 1]).
  float server_weight = 0.25f;

  // Learning from use (index/feedback.h): recordFeedback() adjusts later rankings.
  FeedbackOptions feedback;
};

// A search answer with the task's sub-intents.
struct SearchResult {
  // The sub-intents the task was split into; empty when it was searched as a whole only.
  std::vector<std::string> intents;
  std::vector<Hit> hits;  // best first; Hit::intent indexes `intents` (-1: the whole task)
};

// Not thread-safe for writers: upsertServer/removeServer must not run concurrently with anything
// else. Concurrent search() calls are fine (per-thread scratch space). A moved-from index may
// only be assigned to or destroyed.
class SearchIndex {
 public:
  explicit SearchIndex(SearchOptions options = {});
  explicit SearchIndex(RankerOptions ranker) : SearchIndex(optionsWith(ranker)) {}
  ~SearchIndex();
  SearchIndex(SearchIndex&&) noexcept;
  SearchIndex& operator=(SearchIndex&&) noexcept;

  // Replaces every document of `server` with `tools` (an empty list removes the server).
  // Incremental: only the posting lists of words this server's tools use are edited, and only
  // its entries leave them; nothing is rebuilt (length normalisation is refreshed when an
  // average field length drifts by more than 1%). Tools are indexed as given; a name repeated
  // within one server is indexed once (the first). Each tool's `server` field is ignored in
  // favour of the argument.
  void upsertServer(const std::string& server, std::vector<ToolDocument> tools);
  // Drops every document of `server`; unknown servers are ignored.
  void removeServer(const std::string& server);

  // The best `limit` tools for a free-text query, best first, with scores > 0. An empty query,
  // a query of stop words only, or limit 0 gives an empty list. Never fails on any input.
  std::vector<Hit> search(std::string_view query, std::size_t limit) const;
  // The same with the sub-intents the task was split into, and which one each tool answers.
  SearchResult searchTask(std::string_view query, std::size_t limit) const;

  // The lexical signal alone (what search() fuses): the best `depth` candidates, best first.
  std::vector<Hit> searchLexical(std::string_view query, std::size_t depth) const;

  // Learning from use. After a retrieve_tools answer to `query` showed `shown` ("server:tool",
  // in order) and the model called `called` (a subset, possibly empty, e.g. the tools called
  // in the same session before the next retrieve_tools). Ignored when feedback is disabled.
  // A writer: not concurrent with search().
  void recordFeedback(std::string_view query, const std::vector<std::string>& shown,
                      const std::vector<std::string>& called);
  void resetFeedback();
  // The learned state as a blob (JSON) for the caller to persist, and back; loadFeedback
  // leaves the state unchanged and returns false with a reason on a bad blob.
  std::string saveFeedback() const;
  bool loadFeedback(std::string_view blob, std::string& error);

  // Number of indexed tools.
  std::size_t size() const;
  // Approximate heap bytes held by the index (postings, dictionary, documents).
  std::size_t memoryBytes() const;

 private:
  static SearchOptions optionsWith(const RankerOptions& ranker) {
    SearchOptions o;
    o.ranker = ranker;
    return o;
  }
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mcpproxy::index
