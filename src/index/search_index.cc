// The inverted index and BM25F ranker behind retrieve_tools (see search_index.h for the model).
//
// Layout: terms are interned to uint32 ids; each term has one 8-byte posting per document: the
// document id and the term's frequency in each field (4 bits per field, saturating at 15, which
// BM25's saturation makes indistinguishable from more). Per-document field-length
// normalisation factors are precomputed into one flat array, so scoring a posting is a
// multiply, an add and a division. Queries are scored term-at-a-time into per-thread dense
// accumulators with a branch-free loop; a bounded heap keeps the best candidates, which are
// then reranked. Each server records the terms its tools use, so replacing or removing a
// server edits only those posting lists.
//
// Quality and speed: docs/benchmarks.md ("Tool search"), produced by tests/search/search_eval.cc
// and bench/search_bench.cc; how the signals combine: docs/search.md.
#include "index/search_index.h"

#include <algorithm>
#include <bit>
#include <boost/json.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <queue>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "index/fusion.h"
#include "index/task_split.h"
#include "index/text.h"
#include "index/word_vectors.h"

namespace mcpproxy::index {
namespace {

constexpr std::size_t F = kFieldCount;
constexpr std::uint32_t kMaxTf = 15;
constexpr std::size_t kMaxQueryWords = 256;        // words of one query analysed
constexpr std::size_t kMaxDecompoundedWords = 16;  // words of one query tried as compounds
constexpr std::size_t kScanBudgetPerTool = 16;     // postings scored per query, × tools
constexpr float kPairJoinCredit = 0.1f;  // coverage credit of "keyvault" for "key" and "vault"

struct Posting {
  std::uint32_t doc;
  std::uint32_t tf;  // 4 bits per field, field f at bits 4f..4f+3
};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Synonym groups for query expansion: CRUD-style verbs that tool descriptions and users word
// differently, and common abbreviations. Each query term in a group also looks up the other
// members at RankerOptions::synonym_weight. Kept small and generic on purpose.
constexpr std::string_view kSynonymGroups[][10] = {
    {"get", "fetch", "retrieve", "show", "display", "view", "read", "describe", "inspect"},
    {"list", "enumerate", "show", "browse"},
    {"create", "add", "new", "make", "generate", "provision"},
    {"delete", "remove", "drop", "destroy", "erase", "purge"},
    {"update", "modify", "change", "edit", "set", "patch", "alter"},
    {"search", "find", "query", "lookup", "look"},
    {"run", "execute", "invoke", "start", "launch", "trigger"},
    {"stop", "halt", "terminate", "kill", "cancel", "abort"},
    {"send", "post", "publish", "submit"},
    {"repo", "repository"},
    {"db", "database"},
    {"config", "configuration"},
    {"info", "information", "details"},
    {"auth", "authentication"},
    {"doc", "document", "documentation"},
    {"dir", "directory", "folder"},
    {"msg", "message"},
    {"env", "environment"},
    {"k8s", "kubernetes"},
    {"stats", "statistics", "metrics"},
};

// Stemmed synonym table: stem → stems of the other members of its groups.
const std::unordered_map<std::string, std::vector<std::string>>& synonymTable() {
  static const auto table = [] {
    std::unordered_map<std::string, std::vector<std::string>> t;
    for (const auto& group : kSynonymGroups) {
      std::vector<std::string> stems;
      for (std::string_view word : group) {
        if (!word.empty()) stems.push_back(stem(word));
      }
      for (const std::string& a : stems) {
        for (const std::string& b : stems) {
          if (a != b && std::find(t[a].begin(), t[a].end(), b) == t[a].end()) t[a].push_back(b);
        }
      }
    }
    return t;
  }();
  return table;
}

// Per-thread accumulators for term-at-a-time scoring, sized to the largest index searched.
struct Accumulator {
  float score = 0;  // Σ BM25F contributions
  float cover = 0;  // Σ coverage credit of the query terms matched
};
struct Scratch {
  std::vector<Accumulator> acc;
  std::vector<std::uint32_t> touched;
};
thread_local Scratch t_scratch;

static_assert(F == 6, "pseudoFrequency unrolls six fields");

// Σ over fields of tf × (weight / length normalisation), for a posting's packed frequencies.
inline float pseudoFrequency(std::uint32_t tf, const float* nd) {
  unsigned shift = static_cast<unsigned>(std::countr_zero(tf)) & ~3u;  // lowest field present
  if ((tf >> shift) <= 15) {  // most postings have the term in one field only
    return static_cast<float>(tf >> shift) * nd[shift / 4];
  }
  auto at = [&](unsigned f) { return static_cast<float>((tf >> (4 * f)) & 15) * nd[f]; };
  return (at(0) + at(1)) + (at(2) + at(3)) + (at(4) + at(5));
}

struct QueryTerm {
  std::uint32_t term;
  float weight;  // query-side weight: 1 for a query word, less for expansions
  float idf;
  bool coverage;  // one of the query's own words: part of the coverage factor's total
  float credit;   // what a match adds to the covered mass (idf for own words)
};

struct QueryPlan {
  std::vector<QueryTerm> terms;
  float coverage_total = 0;  // Σ idf × weight of coverage terms
  std::vector<std::pair<std::uint32_t, std::uint32_t>> bigrams;  // adjacent query words
  std::vector<std::uint32_t> plurals;    // terms the query used in a plural form ("secrets")
  std::int64_t list_term = -1;           // the term "list", if indexed
  std::vector<std::uint32_t> singulars;  // terms the query used in the singular ("secret")
  std::int64_t get_term = -1;            // the term "get", if indexed
  std::vector<std::pair<std::uint32_t, float>> surface;  // inflected query words: hash, idf
  float surface_total = 0;
};

// Walks a JSON Schema collecting parameter names and descriptions (nested object properties and
// array items too), within kMaxSchemaProperties and kMaxSchemaDepth.
void collectSchema(const boost::json::value& schema, std::size_t depth, std::size_t& count,
                   std::string& names, std::string& descriptions) {
  const auto* obj = schema.if_object();
  if (obj == nullptr || depth > kMaxSchemaDepth) return;
  if (const auto* items = obj->if_contains("items")) {
    collectSchema(*items, depth + 1, count, names, descriptions);
  }
  const auto* props_value = obj->if_contains("properties");
  const auto* props = props_value != nullptr ? props_value->if_object() : nullptr;
  if (props == nullptr) return;
  for (const auto& [key, prop] : *props) {
    if (count++ >= kMaxSchemaProperties) return;
    names.append(key.data(), key.size());
    names.push_back(' ');
    if (const auto* p = prop.if_object()) {
      for (std::string_view field : {"description", "title"}) {
        if (const auto* v = p->if_contains(field); v != nullptr && v->is_string()) {
          descriptions.append(v->get_string().data(), v->get_string().size());
          descriptions.append(" . ");
        }
      }
      if (const auto* e = p->if_contains("enum"); e != nullptr && e->is_array()) {
        std::size_t n = 0;
        for (const auto& v : e->get_array()) {
          if (n++ >= 32) break;
          if (v.is_string()) {
            descriptions.append(v.get_string().data(), v.get_string().size());
            descriptions.push_back(' ');
          }
        }
        descriptions.append(" . ");
      }
    }
    collectSchema(prop, depth + 1, count, names, descriptions);
  }
}

// Whether a lower-case query word looks like a plural noun: an -s ending the stemmer removes.
bool isPlural(const std::string& word) {
  return word.size() > 3 && word.back() == 's' && word[word.size() - 2] != 's' &&
         stem(word) != word;
}

std::uint32_t surfaceHash(std::string_view word) {
  return static_cast<std::uint32_t>(std::hash<std::string_view>{}(word));
}

std::string_view jsonString(const boost::json::value& obj, std::string_view key) {
  if (const auto* o = obj.if_object()) {
    if (const auto* v = o->if_contains(key); v != nullptr && v->is_string()) {
      return {v->get_string().data(), v->get_string().size()};
    }
  }
  return {};
}

}  // namespace

struct SearchIndex::Impl {
  struct TermEntry {
    std::vector<Posting> postings;      // one per document; df = postings.size()
    std::uint32_t name_df = 0;          // documents with the term in their name
    const std::string* text = nullptr;  // the key in term_ids (stable: node-based map)
  };
  struct DocEntry {
    bool live = false;
    std::uint32_t server = 0;
    std::string name;
    std::array<std::uint16_t, F> length{};
    std::vector<std::uint32_t> name_terms;  // the name's parts, in order (not joined forms)
    std::vector<std::uint32_t> surface;     // sorted hashes of inflected words as written
  };
  struct ServerEntry {
    std::uint32_t id = 0;
    std::vector<std::uint32_t> docs;
    std::vector<std::uint32_t> terms;  // sorted, unique: every term its tools use
  };

  SearchOptions search_options;
  RankerOptions options;  // search_options.ranker
  FeedbackModel feedback;
  const WordVectors* vectors = nullptr;  // search_options.vectors, when the signal is on
  std::size_t dims = 0;
  std::vector<std::int8_t> doc_vectors;  // dims per document slot; zero for free slots
  AnalyzeOptions analyze_options;        // identifiers: tool and parameter names
  AnalyzeOptions prose_analyze_options;  // descriptions, titles, queries: no camelCase splits

  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> term_ids;
  std::vector<TermEntry> terms;
  std::vector<std::uint32_t> free_terms;

  std::vector<DocEntry> docs;
  std::vector<float> norm;  // F per document: weight / (1 − b + b × length / average length)
  std::vector<std::uint32_t> free_docs;
  std::size_t live_docs = 0;
  std::array<double, F> length_sum{};
  std::array<double, F> norm_average{};  // the average lengths `norm` was computed with

  std::unordered_map<std::string, ServerEntry, StringHash, std::equal_to<>> servers;
  std::vector<std::string> server_names;  // by server id
  std::vector<std::uint32_t> free_servers;

  explicit Impl(SearchOptions so)
      : search_options(std::move(so)),
        options(search_options.ranker),
        feedback(search_options.feedback) {
    if (search_options.vectors && search_options.semantic_weight > 0) {
      vectors = search_options.vectors.get();
      dims = vectors->dims();
    }
    const RankerOptions& o = options;
    analyze_options.stem = o.stem;
    analyze_options.drop_stop_words = o.stop_words;
    analyze_options.split_identifiers = o.split_identifiers;
    analyze_options.emit_joined = o.split_identifiers;
    prose_analyze_options = analyze_options;
    prose_analyze_options.split_camel_case = !o.prose_keeps_camel_case;
  }

  std::string finish(const std::string& w) const {
    return options.stem && !(w[0] >= '0' && w[0] <= '9') ? stem(w) : w;
  }

  std::uint32_t intern(std::string_view text) {
    if (auto it = term_ids.find(text); it != term_ids.end()) return it->second;
    std::uint32_t id;
    if (!free_terms.empty()) {
      id = free_terms.back();
      free_terms.pop_back();
    } else {
      id = static_cast<std::uint32_t>(terms.size());
      terms.emplace_back();
    }
    auto [it, inserted] = term_ids.emplace(std::string(text), id);
    terms[id].text = &it->first;
    return id;
  }

  float idf(std::size_t df) const {
    auto n = static_cast<double>(live_docs), d = static_cast<double>(df);
    return static_cast<float>(std::log(1.0 + (n - d + 0.5) / (d + 0.5)));
  }

  void computeNorm(std::uint32_t doc) {
    float* out = &norm[std::size_t{doc} * F];
    const DocEntry& d = docs[doc];
    for (std::size_t f = 0; f < F; ++f) {
      if (!d.live) {
        out[f] = 0;
        continue;
      }
      double avg = norm_average[f] > 0 ? norm_average[f] : 1.0;
      double b = options.field_b[f];
      out[f] = static_cast<float>(options.field_weight[f] / (1.0 - b + b * d.length[f] / avg));
    }
  }

  // Recomputes every document's normalisation when an average field length has moved by more
  // than 1% since the last time; new documents use the current reference averages.
  void refreshNorms(const std::vector<std::uint32_t>& new_docs) {
    bool drifted = false;
    for (std::size_t f = 0; f < F; ++f) {
      double avg = live_docs > 0 ? length_sum[f] / static_cast<double>(live_docs) : 0.0;
      if (std::abs(avg - norm_average[f]) > 0.01 * std::max(norm_average[f], 1e-9)) {
        drifted = true;
      }
    }
    if (drifted) {
      for (std::size_t f = 0; f < F; ++f) {
        norm_average[f] = live_docs > 0 ? length_sum[f] / static_cast<double>(live_docs) : 0.0;
      }
      for (std::uint32_t d = 0; d < docs.size(); ++d) computeNorm(d);
    } else {
      for (std::uint32_t d : new_docs) computeNorm(d);
    }
  }

  // Semantic signal. A text's embedding: Σ field weight × SIF weight × word vector.
  void addWordVector(std::string_view word, float weight, std::vector<float>& sum) const {
    std::int32_t id = vectors->find(word);
    if (id < 0) return;
    const std::int8_t* row = vectors->row(id);
    float w = weight * vectors->weight(id);
    for (std::size_t k = 0; k < dims; ++k) sum[k] += w * static_cast<float>(row[k]);
  }

  // Unit length, then int8 (±127); an embedding of no known word stays zero.
  static void quantize(const std::vector<float>& v, std::int8_t* out) {
    double norm = 0;
    for (float x : v) norm += double{x} * x;
    if (norm <= 0) {
      std::fill_n(out, v.size(), 0);
      return;
    }
    auto scale = static_cast<float>(127.0 / std::sqrt(norm));
    for (std::size_t k = 0; k < v.size(); ++k) {
      out[k] = static_cast<std::int8_t>(std::lround(std::clamp(v[k] * scale, -127.0f, 127.0f)));
    }
  }

  std::vector<std::int16_t> embedQuery(std::string_view text) const {
    std::vector<std::int16_t> q(dims, 0);
    if (dims == 0) return q;
    if (text.size() > kMaxQueryBytes) text = text.substr(0, kMaxQueryBytes);
    AnalyzeOptions raw = prose_analyze_options;
    raw.stem = false;
    std::vector<float> sum(dims, 0.0f);
    std::size_t words = 0;
    for (const AnalyzedTerm& t : analyze(text, raw)) {
      if (t.joined || words++ >= kMaxQueryWords) continue;
      addWordVector(t.text, 1.0f, sum);
    }
    std::vector<std::int8_t> q8(dims, 0);
    quantize(sum, q8.data());
    std::copy(q8.begin(), q8.end(), q.begin());
    return q;
  }

  // Dot product of a query (widened to int16 once) and a document's int8 row. The fixed-size
  // loop for the shipped 64 dimensions is what the compiler vectorises (measured: 5–7× faster
  // than the loop over a run-time length).
  static std::int32_t dot64(const std::int16_t* q, const std::int8_t* d) {
    std::int32_t s = 0;
    for (std::size_t k = 0; k < 64; ++k) s += std::int32_t{q[k]} * std::int32_t{d[k]};
    return s;
  }
  std::int32_t dot(const std::int16_t* q, const std::int8_t* d) const {
    if (dims == 64) return dot64(q, d);
    std::int32_t s = 0;
    for (std::size_t k = 0; k < dims; ++k) s += std::int32_t{q[k]} * std::int32_t{d[k]};
    return s;
  }

  // Cosine of a query embedding and a document's, from their int8 forms.
  float cosine(const std::vector<std::int16_t>& q, std::uint32_t doc) const {
    return static_cast<float>(dot(q.data(), &doc_vectors[std::size_t{doc} * dims])) /
           (127.0f * 127.0f);
  }

  // For each query embedding, the best `depth` documents by cosine, best first. One scan of
  // every document serves all the queries of a task (the whole task and each sub-intent): at
  // 64 int8 dimensions a row is one cache line, 6.4 MB at 100,000 tools.
  std::vector<std::vector<std::pair<float, std::uint32_t>>> rankSemantic(
      const std::vector<std::vector<std::int16_t>>& queries, std::size_t depth) const {
    std::vector<std::vector<std::pair<float, std::uint32_t>>> out(queries.size());
    if (dims == 0 || depth == 0) return out;
    using Entry = std::pair<std::int32_t, std::uint32_t>;
    auto worse = [](const Entry& a, const Entry& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    using Heap = std::priority_queue<Entry, std::vector<Entry>, decltype(worse)>;
    std::vector<Heap> heaps(queries.size(), Heap(worse));
    std::vector<std::int32_t> floors(queries.size(), 0);  // only positive similarity counts
    std::vector<const std::int16_t*> active;
    std::vector<std::size_t> index;
    for (std::size_t i = 0; i < queries.size(); ++i) {
      if (std::any_of(queries[i].begin(), queries[i].end(), [](auto x) { return x != 0; })) {
        active.push_back(queries[i].data());
        index.push_back(i);
      }
    }
    if (active.empty()) return out;
    const std::int8_t* base = doc_vectors.data();
    const auto n = static_cast<std::uint32_t>(docs.size());
    for (std::uint32_t doc = 0; doc < n; ++doc) {
      const std::int8_t* d = base + std::size_t{doc} * dims;
      for (std::size_t a = 0; a < active.size(); ++a) {
        std::int32_t value = dot(active[a], d);
        std::size_t i = index[a];
        if (value <= floors[i]) continue;
        heaps[i].emplace(value, doc);
        if (heaps[i].size() > depth) {
          heaps[i].pop();
          floors[i] = heaps[i].top().first;
        }
      }
    }
    for (std::size_t i = 0; i < queries.size(); ++i) {
      auto& best = out[i];
      best.reserve(heaps[i].size());
      while (!heaps[i].empty()) {
        best.emplace_back(static_cast<float>(heaps[i].top().first) / (127.0f * 127.0f),
                          heaps[i].top().second);
        heaps[i].pop();
      }
      std::reverse(best.begin(), best.end());
    }
    return out;
  }

  // One (sub)query through every signal: the lexical and semantic lists fused, then lifted by
  // server evidence. (doc, score) best first, at most `depth`.
  // `q` and `semantic` are the text's embedding and semantic list (rankSemantic), empty when
  // the signal is off.
  std::vector<std::pair<std::uint32_t, double>> rankFused(
      std::string_view text, std::size_t depth, const std::vector<std::int16_t>& q,
      const std::vector<std::pair<float, std::uint32_t>>& semantic) const {
    std::size_t keep = std::max(depth, options.rerank_depth);
    auto lexical = rankLexical(text, keep);
    std::vector<IdRanking> rankings(1);
    rankings[0].weight = 1.0;
    for (auto [score, doc] : lexical) rankings[0].hits.emplace_back(doc, score);
    if (dims > 0) {
      if (!semantic.empty()) {
        IdRanking sem;
        sem.weight = search_options.semantic_weight;
        // Anchor: the weakest of a full semantic top list, so the signal spreads over the
        // tools it prefers and lexical candidates below it get nothing from it; when fewer
        // tools than that are similar at all, every positive similarity counts.
        sem.min_score =
            semantic.size() >= search_options.semantic_depth ? semantic.back().first : 0.0;
        std::unordered_set<std::uint32_t> seen;
        for (auto [score, doc] : semantic) {
          sem.hits.emplace_back(doc, score);
          seen.insert(doc);
        }
        for (auto [score, doc] : lexical) {
          if (seen.insert(doc).second) sem.hits.emplace_back(doc, cosine(q, doc));
        }
        std::stable_sort(sem.hits.begin(), sem.hits.end(),
                         [](const auto& a, const auto& b) { return a.second > b.second; });
        rankings.push_back(std::move(sem));
      }
    }
    std::vector<std::pair<std::uint32_t, double>> fused;
    if (rankings.size() == 1) {
      fused = std::move(rankings[0].hits);  // already ordered, ties by name
    } else {
      fused = fuseById(rankings, keep + search_options.semantic_depth);
      std::erase_if(fused, [](const auto& e) { return e.second <= 0; });
      sortByScore(fused);
    }
    if (!feedback.empty()) applyFeedback(text, fused);
    if (search_options.server_weight > 0 && fused.size() > 1) liftByServer(fused);
    if (fused.size() > depth) fused.resize(depth);
    return fused;
  }

  // Best first; equal scores by server name, then tool name, so answers are deterministic.
  void sortByScore(std::vector<std::pair<std::uint32_t, double>>& list) const {
    std::stable_sort(list.begin(), list.end(), [&](const auto& a, const auto& b) {
      if (a.second != b.second) return a.second > b.second;
      const DocEntry& da = docs[a.first];
      const DocEntry& db = docs[b.first];
      if (da.server != db.server) return server_names[da.server] < server_names[db.server];
      return da.name < db.name;
    });
  }

  // The query's own terms as the feedback model keys them (stemmed, stop words dropped).
  std::vector<std::string> feedbackTerms(std::string_view text) const {
    if (text.size() > kMaxQueryBytes) text = text.substr(0, kMaxQueryBytes);
    std::vector<std::string> out;
    for (const AnalyzedTerm& t : analyze(text, prose_analyze_options)) {
      if (t.joined) continue;
      if (std::find(out.begin(), out.end(), t.text) == out.end()) out.push_back(t.text);
      if (out.size() >= kMaxFeedbackTerms) break;
    }
    return out;
  }

  std::vector<float> idfWeights(const std::vector<std::string>& words) const {
    std::vector<float> weights;
    float unknown = idf(0);  // a word no tool uses is as specific as a word can be
    for (const std::string& t : words) {
      auto it = term_ids.find(t);
      weights.push_back(it == term_ids.end() ? unknown : idf(terms[it->second].postings.size()));
    }
    return weights;
  }

  void applyFeedback(std::string_view text,
                     std::vector<std::pair<std::uint32_t, double>>& fused) const {
    std::vector<std::string> words = feedbackTerms(text);
    if (words.empty()) return;
    auto votes = feedback.votes(words, idfWeights(words));
    if (votes.empty()) return;
    std::string key;
    for (auto& [doc, score] : fused) {
      key = server_names[docs[doc].server];
      key.push_back(':');
      key += docs[doc].name;
      if (auto it = votes.find(key); it != votes.end()) score *= feedback.factor(it->second);
    }
    sortByScore(fused);
  }

  // Server-level evidence (the tool-to-agent idea): a server whose other tools also match the
  // query is likelier the one the task needs. Evidence = the other candidates' scores from the
  // same server, relative to the best score, capped at 1, so one strong server cannot take the
  // whole list by numbers alone.
  void liftByServer(std::vector<std::pair<std::uint32_t, double>>& fused) const {
    constexpr std::size_t kEvidenceDepth = 30;  // candidates that count as evidence
    double top = fused.front().second;
    if (top <= 0) return;
    std::unordered_map<std::uint32_t, double> server_mass;
    for (std::size_t i = 0; i < fused.size() && i < kEvidenceDepth; ++i) {
      server_mass[docs[fused[i].first].server] += fused[i].second / top;
    }
    for (std::size_t i = 0; i < fused.size(); ++i) {
      auto& [doc, score] = fused[i];
      double own = i < kEvidenceDepth ? score / top : 0.0;
      double evidence = std::min(1.0, server_mass[docs[doc].server] - own);
      score *= 1.0 + search_options.server_weight * std::max(0.0, evidence);
    }
    sortByScore(fused);
  }

  SearchResult searchTask(std::string_view query, std::size_t limit) const {
    SearchResult result;
    if (limit == 0 || live_docs == 0) return result;
    if (query.size() > kMaxQueryBytes) query = query.substr(0, kMaxQueryBytes);
    std::vector<std::string> intents;
    if (search_options.decompose) intents = splitTask(query);
    if (intents.size() < 2) intents.clear();
    // Embeddings of the whole task and of each sub-intent, ranked in one scan.
    std::vector<std::vector<std::int16_t>> embeddings;
    std::vector<std::vector<std::pair<float, std::uint32_t>>> semantic(intents.size() + 1);
    if (dims > 0) {
      bool whole = intents.empty() || search_options.whole_task_slot;
      embeddings.push_back(whole ? embedQuery(query) : std::vector<std::int16_t>(dims, 0));
      for (const std::string& intent : intents) embeddings.push_back(embedQuery(intent));
      semantic = rankSemantic(embeddings, search_options.semantic_depth);
    } else {
      embeddings.resize(intents.size() + 1);
    }
    if (intents.empty()) {
      for (auto [doc, score] : rankFused(query, limit, embeddings[0], semantic[0])) {
        result.hits.push_back(toHit(doc, score));
      }
      return result;
    }
    // Per-intent slots: the whole task and each sub-intent take turns, each adding its best
    // tool not yet chosen, so every step of the task is represented near the top.
    std::vector<std::vector<std::pair<std::uint32_t, double>>> lists;
    if (search_options.whole_task_slot) {
      lists.push_back(rankFused(query, limit, embeddings[0], semantic[0]));
    } else {
      lists.emplace_back();  // keeps list i + 1 ↔ intent i
    }
    for (std::size_t i = 0; i < intents.size(); ++i) {
      lists.push_back(rankFused(intents[i], limit, embeddings[i + 1], semantic[i + 1]));
    }
    std::vector<std::size_t> next(lists.size(), 0);
    std::unordered_set<std::uint32_t> chosen;
    double last = std::numeric_limits<double>::infinity();
    bool progress = true;
    while (result.hits.size() < limit && progress) {
      progress = false;
      for (std::size_t i = 0; i < lists.size() && result.hits.size() < limit; ++i) {
        auto& list = lists[i];
        while (next[i] < list.size() && chosen.contains(list[next[i]].first)) ++next[i];
        if (next[i] >= list.size()) continue;
        auto [doc, score] = list[next[i]++];
        chosen.insert(doc);
        progress = true;
        // Scores stay non-increasing down the merged list: relative to the list's best.
        double relative = list.front().second > 0 ? score / list.front().second : 0.0;
        last = std::min(last, relative);
        result.hits.push_back(toHit(doc, last, static_cast<int>(i) - 1));
      }
    }
    result.intents = std::move(intents);
    return result;
  }

  void addDocument(std::uint32_t server_id, ToolDocument& tool, ServerEntry& entry,
                   std::vector<std::uint64_t>& scratch) {
    std::uint32_t doc;
    if (!free_docs.empty()) {
      doc = free_docs.back();
      free_docs.pop_back();
    } else {
      doc = static_cast<std::uint32_t>(docs.size());
      docs.emplace_back();
      norm.resize(norm.size() + F, 0.0f);
      doc_vectors.resize(doc_vectors.size() + dims, 0);
    }
    std::vector<float> embedding(dims, 0.0f);
    DocEntry& d = docs[doc];
    d.live = true;
    d.server = server_id;
    d.name = std::move(tool.name);
    d.length = {};
    d.name_terms.clear();
    d.surface.clear();

    std::string_view title = tool.title;
    if (title.empty()) title = jsonString(tool.annotations, "title");
    std::string_view description = tool.description;
    if (description.size() > kMaxDescriptionBytes) {
      description = description.substr(0, kMaxDescriptionBytes);
    }
    std::string param_names, param_descriptions;
    std::size_t count = 0;
    collectSchema(tool.input_schema, 0, count, param_names, param_descriptions);
    if (param_descriptions.size() > kMaxDescriptionBytes) {
      param_descriptions.resize(kMaxDescriptionBytes);
    }

    std::array<std::string_view, F> texts{};
    texts[static_cast<std::size_t>(Field::kName)] = d.name;
    texts[static_cast<std::size_t>(Field::kServer)] = server_names[server_id];
    texts[static_cast<std::size_t>(Field::kTitle)] = title;
    texts[static_cast<std::size_t>(Field::kDescription)] = description;
    texts[static_cast<std::size_t>(Field::kParamName)] = param_names;
    texts[static_cast<std::size_t>(Field::kParamDescription)] = param_descriptions;

    scratch.clear();  // (term << 3 | field) per occurrence
    for (std::size_t f = 0; f < F; ++f) {
      if (options.field_weight[f] <= 0.0f || texts[f].empty()) continue;
      std::size_t words = 0;
      bool identifiers = f == static_cast<std::size_t>(Field::kName) ||
                         f == static_cast<std::size_t>(Field::kParamName);
      AnalyzeOptions raw = identifiers ? analyze_options : prose_analyze_options;
      raw.stem = false;
      bool surface = f == static_cast<std::size_t>(Field::kName) ||
                     f == static_cast<std::size_t>(Field::kTitle) ||
                     f == static_cast<std::size_t>(Field::kDescription);
      float semantic_weight = dims > 0 ? search_options.semantic_field_weight[f] : 0.0f;
      for (AnalyzedTerm& t : analyze(texts[f], raw)) {
        if (semantic_weight > 0 && !t.joined) addWordVector(t.text, semantic_weight, embedding);
        std::string stemmed = finish(t.text);
        if (surface && !t.joined && stemmed != t.text) d.surface.push_back(surfaceHash(t.text));
        std::uint32_t id = intern(stemmed);
        scratch.push_back(std::uint64_t{id} << 3 | f);
        if (!t.joined) {
          ++words;
          if (f == static_cast<std::size_t>(Field::kName)) d.name_terms.push_back(id);
        }
      }
      d.length[f] = static_cast<std::uint16_t>(std::min<std::size_t>(words, 65535));
    }
    if (dims > 0) quantize(embedding, &doc_vectors[std::size_t{doc} * dims]);
    std::sort(d.surface.begin(), d.surface.end());
    d.surface.erase(std::unique(d.surface.begin(), d.surface.end()), d.surface.end());
    d.surface.shrink_to_fit();
    std::sort(scratch.begin(), scratch.end());
    for (std::size_t i = 0; i < scratch.size();) {
      auto id = static_cast<std::uint32_t>(scratch[i] >> 3);
      std::uint32_t packed = 0;
      while (i < scratch.size() && (scratch[i] >> 3) == id) {
        std::size_t f = scratch[i] & 7;
        std::size_t j = i;
        while (j < scratch.size() && scratch[j] == scratch[i]) ++j;
        packed |= static_cast<std::uint32_t>(std::min<std::size_t>(j - i, kMaxTf)) << (4 * f);
        i = j;
      }
      std::vector<Posting>& postings = terms[id].postings;
      if (postings.size() == postings.capacity()) {
        // Grow by a quarter, not std::vector's doubling: postings are most of the index, and
        // the extra copying is cheap next to analysis.
        postings.reserve(postings.size() + postings.size() / 4 + 4);
      }
      postings.push_back({doc, packed});
      if ((packed & 15) != 0) ++terms[id].name_df;
      entry.terms.push_back(id);
    }
    for (std::size_t f = 0; f < F; ++f) length_sum[f] += d.length[f];
    ++live_docs;
    entry.docs.push_back(doc);
  }

  void remove(const std::string& server) {
    auto it = servers.find(server);
    if (it == servers.end()) return;
    ServerEntry& entry = it->second;
    for (std::uint32_t doc : entry.docs) {
      DocEntry& d = docs[doc];
      d.live = false;
      for (std::size_t f = 0; f < F; ++f) length_sum[f] -= d.length[f];
      --live_docs;
    }
    for (std::uint32_t id : entry.terms) {
      TermEntry& term = terms[id];
      std::erase_if(term.postings, [&](const Posting& p) {
        if (docs[p.doc].live) return false;
        if ((p.tf & 15) != 0) --term.name_df;
        return true;
      });
      if (term.postings.empty()) {
        std::string key = *term.text;  // a copy: erase must not read the node it frees
        term_ids.erase(key);
        term = TermEntry{};
        free_terms.push_back(id);
      }
    }
    for (std::uint32_t doc : entry.docs) {
      docs[doc] = DocEntry{};
      computeNorm(doc);
      if (dims > 0)
        std::fill_n(doc_vectors.begin() + std::ptrdiff_t{doc} * std::ptrdiff_t(dims), dims, 0);
      free_docs.push_back(doc);
    }
    server_names[entry.id].clear();
    free_servers.push_back(entry.id);
    servers.erase(it);
    if (live_docs == 0) length_sum = {};  // no drift from float rounding in an empty index
  }

  void upsert(const std::string& server, std::vector<ToolDocument>& tools) {
    remove(server);
    if (tools.empty()) {
      refreshNorms({});
      return;
    }
    std::uint32_t server_id;
    if (!free_servers.empty()) {
      server_id = free_servers.back();
      free_servers.pop_back();
      server_names[server_id] = server;
    } else {
      server_id = static_cast<std::uint32_t>(server_names.size());
      server_names.push_back(server);
    }
    ServerEntry& entry = servers[server];
    entry.id = server_id;
    std::unordered_set<std::string> seen;
    std::vector<std::uint64_t> scratch;
    for (ToolDocument& tool : tools) {
      if (!seen.insert(tool.name).second) continue;
      addDocument(server_id, tool, entry, scratch);
    }
    std::sort(entry.terms.begin(), entry.terms.end());
    entry.terms.erase(std::unique(entry.terms.begin(), entry.terms.end()), entry.terms.end());
    entry.terms.shrink_to_fit();
    refreshNorms(entry.docs);
  }

  // Analyses the query into weighted, deduplicated terms known to the index.
  QueryPlan plan(std::string_view query) const {
    QueryPlan plan;
    if (query.size() > kMaxQueryBytes) query = query.substr(0, kMaxQueryBytes);
    AnalyzeOptions raw_options = prose_analyze_options;
    raw_options.stem = false;
    std::vector<AnalyzedTerm> words = analyze(query, raw_options);

    std::unordered_map<std::uint32_t, std::size_t> slot;  // term id → index in plan.terms
    auto add = [&](std::string_view text, float weight, bool coverage) -> std::int64_t {
      auto it = term_ids.find(text);
      if (it == term_ids.end()) return -1;
      std::uint32_t id = it->second;
      auto [s, inserted] = slot.emplace(id, plan.terms.size());
      if (inserted) {
        float term_idf = idf(terms[id].postings.size());
        plan.terms.push_back({id, weight, term_idf, coverage, coverage ? term_idf : 0});
      } else {
        QueryTerm& qt = plan.terms[s->second];
        if (coverage && !qt.coverage) {
          qt.coverage = true;
          qt.credit = qt.idf;
          qt.weight = std::max(qt.weight, weight);
        } else if (coverage && !options.distinct_query_terms) {
          qt.weight += weight;
        } else {
          qt.weight = std::max(qt.weight, weight);
        }
      }
      return id;
    };

    // The query's own words (and joined forms of identifiers typed in it).
    std::vector<std::pair<std::uint32_t, std::int64_t>> positioned;  // position, term id
    if (words.size() > kMaxQueryWords) words.resize(kMaxQueryWords);
    std::size_t decompounded = 0;
    for (const AnalyzedTerm& w : words) {
      std::string term = finish(w.text);
      auto known_it = term_ids.find(term);
      bool known = known_it != term_ids.end();
      // A rare word (at most 0.1% of the tools, or 2) may still be two common ones run together.
      bool rare = !known || terms[known_it->second].postings.size() <=
                                std::max<std::size_t>(2, live_docs / 1000);
      if (options.decompound && !w.joined && w.text.size() >= 6 && rare &&
          decompounded++ < kMaxDecompoundedWords) {
        // A word may be two known ones run together: "cosmosdb" → cosmos + db. When the word
        // itself is unknown the parts stand in for it, otherwise they only add evidence.
        std::size_t best = 0;
        for (std::size_t cut = 2; cut + 2 <= w.text.size(); ++cut) {
          if (std::min(cut, w.text.size() - cut) <= std::min(best, w.text.size() - best)) continue;
          if (term_ids.contains(finish(w.text.substr(0, cut))) &&
              term_ids.contains(finish(w.text.substr(cut)))) {
            best = cut;
          }
        }
        if (best != 0) {
          for (std::string part : {w.text.substr(0, best), w.text.substr(best)}) {
            std::int64_t id = add(finish(part), known ? 0.5f : 1.0f, !known);
            QueryTerm& qt = plan.terms[slot.at(static_cast<std::uint32_t>(id))];
            if (known && !qt.coverage) {  // like a pair join: a little credit for the word
              qt.credit = std::max(qt.credit,
                                   kPairJoinCredit * idf(terms[known_it->second].postings.size()));
            }
          }
        }
      }
      std::int64_t id = add(term, 1.0f, !w.joined);
      if (!w.joined) positioned.emplace_back(w.position, id);
      if (!w.joined && id >= 0 && term != w.text) {
        plan.surface.emplace_back(surfaceHash(w.text), idf(terms[id].postings.size()));
        plan.surface_total += plan.surface.back().second;
      }
      if (!w.joined && id >= 0 && isPlural(w.text)) {
        plan.plurals.push_back(static_cast<std::uint32_t>(id));
      } else if (!w.joined && id >= 0 && term == w.text) {
        plan.singulars.push_back(static_cast<std::uint32_t>(id));
      }
    }
    // Adjacent words joined: "key vault" → keyvault, "data base" → database.
    for (std::size_t i = 0; i + 1 < words.size(); ++i) {
      const AnalyzedTerm& a = words[i];
      if (a.joined) continue;
      for (std::size_t j = i + 1; j < words.size(); ++j) {
        const AnalyzedTerm& b = words[j];
        if (b.joined) continue;
        if (b.position == a.position + 1 && options.query_pair_joins) {
          // Matching the joined form covers a little of both words: enough that a tool with
          // only "keyvault" is not dropped for covering nothing, too little to count twice.
          float credit = 0;
          for (const std::string* part : {&a.text, &b.text}) {
            if (auto it = term_ids.find(finish(*part)); it != term_ids.end()) {
              credit += kPairJoinCredit * idf(terms[it->second].postings.size());
            }
          }
          std::int64_t id = add(finish(a.text + b.text), 1.0f, false);
          if (id >= 0) {
            QueryTerm& qt = plan.terms[slot.at(static_cast<std::uint32_t>(id))];
            if (!qt.coverage) qt.credit = std::max(qt.credit, credit);
          }
        }
        break;
      }
    }
    for (std::size_t i = 0; i + 1 < positioned.size(); ++i) {
      auto [pa, a] = positioned[i];
      auto [pb, b] = positioned[i + 1];
      if (pb == pa + 1 && a >= 0 && b >= 0) {
        plan.bigrams.emplace_back(static_cast<std::uint32_t>(a), static_cast<std::uint32_t>(b));
      }
    }
    // Synonyms of the query's words, at reduced weight.
    if (options.synonym_weight > 0) {
      const auto& table = synonymTable();
      std::size_t originals = plan.terms.size();
      for (std::size_t i = 0; i < originals; ++i) {
        if (!plan.terms[i].coverage) continue;
        auto it = table.find(*terms[plan.terms[i].term].text);
        if (it == table.end()) continue;
        // A synonym's match covers its source word, in proportion to the synonym weight.
        float credit = options.synonym_coverage ? options.synonym_weight * plan.terms[i].idf : 0;
        for (const std::string& synonym : it->second) {
          auto known = term_ids.find(synonym);
          if (known == term_ids.end()) continue;
          if (auto s = slot.find(known->second); s != slot.end()) {
            QueryTerm& qt = plan.terms[s->second];
            if (!qt.coverage) qt.credit = std::max(qt.credit, credit);
            continue;
          }
          add(synonym, options.synonym_weight, false);
          plan.terms.back().credit = credit;
        }
      }
    }
    // Very long queries: keep the most informative terms, at most kMaxQueryTerms of them and
    // no more postings than kScanBudgetPerTool × tools, which bounds the latency of any query.
    std::stable_sort(plan.terms.begin(), plan.terms.end(), [](const auto& a, const auto& b) {
      return a.idf * a.weight > b.idf * b.weight;
    });
    std::size_t budget = kScanBudgetPerTool * live_docs, keep = 0;
    while (keep < plan.terms.size() && keep < kMaxQueryTerms) {
      std::size_t postings = terms[plan.terms[keep].term].postings.size();
      if (keep > 0 && postings > budget) break;
      budget -= std::min(budget, postings);
      ++keep;
    }
    plan.terms.resize(keep);
    for (const QueryTerm& qt : plan.terms) {
      if (qt.coverage) plan.coverage_total += qt.idf;
    }
    if (auto it = term_ids.find("list"); it != term_ids.end()) plan.list_term = it->second;
    if (auto it = term_ids.find("get"); it != term_ids.end()) plan.get_term = it->second;
    return plan;
  }

  // The lexical signal: the best `depth` documents for the query, best first (score, doc).
  std::vector<std::pair<float, std::uint32_t>> rankLexical(std::string_view query,
                                                           std::size_t depth) const {
    if (depth == 0 || live_docs == 0) return {};
    QueryPlan q = plan(query);
    if (q.terms.empty()) return {};

    Scratch& s = t_scratch;
    if (s.acc.size() < docs.size()) {
      s.acc.resize(docs.size(), Accumulator{});
      s.touched.resize(docs.size() + 1);  // +1: the branch-free append writes one ahead
    }
    // Raw pointers: the hot loop must not reload vector internals through thread-local storage.
    Accumulator* const acc = s.acc.data();
    std::uint32_t* const touched = s.touched.data();
    std::size_t touched_count = 0;
    const float* const norms = norm.data();
    const float k1 = options.k1;
    const std::size_t keep = std::max(depth, options.rerank_depth);
    const float alpha = options.coverage_exponent;
    const float total = q.coverage_total;
    auto passOneScore = [&](std::uint32_t doc) {
      float value = acc[doc].score;
      if (alpha > 0 && total > 0) {  // no coverage when none of the query's words is known
        float share = std::min(1.0f, acc[doc].cover / total);
        value *= alpha == 1.0f ? share : std::pow(share, alpha);
      }
      return value;
    };

    // Term-at-a-time into the accumulators. The loop is branch-free on purpose: whether a
    // document was seen before is a coin flip for the branch predictor, and mispredictions
    // dominated the scan. (MaxScore-style pruning of common words was tried: scanning a list
    // only to update documents already seen costs as much as scoring it, so it did not pay.)
    for (const QueryTerm& qt : q.terms) {
      const float w = qt.idf * qt.weight * (k1 + 1.0f);
      const float c = qt.credit;
      for (const Posting& p : terms[qt.term].postings) {
        Accumulator& a = acc[p.doc];
        touched[touched_count] = p.doc;
        touched_count += a.score == 0.0f ? 1 : 0;
        // BM25F pseudo-frequency: Σ field tf × weight / length normalisation.
        const float x = pseudoFrequency(p.tf, norms + std::size_t{p.doc} * F);
        a.score += w * x / (x + k1);
        a.cover += c;
      }
    }

    // Pass 1: the best candidates by BM25F × coverage, in a bounded min-heap.
    using Entry = std::pair<float, std::uint32_t>;  // score, doc
    // Orders better entries first; as the heap's comparator it keeps the worst on top.
    auto worse = [](const Entry& a, const Entry& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    std::priority_queue<Entry, std::vector<Entry>, decltype(worse)> heap(worse);
    for (std::size_t i = 0; i < touched_count; ++i) {
      const std::uint32_t doc = touched[i];
      float value = passOneScore(doc);
      acc[doc] = {};  // leave the scratch space zeroed for the next query
      if (value <= 0) continue;
      if (heap.size() < keep) {
        heap.emplace(value, doc);
      } else if (worse(Entry{value, doc}, heap.top())) {  // better than the worst kept
        heap.pop();
        heap.emplace(value, doc);
      }
    }

    // Pass 2: rerank by how much of each candidate's name the query explains.
    std::vector<Entry> ranked;
    ranked.reserve(heap.size());
    while (!heap.empty()) {
      ranked.push_back(heap.top());
      heap.pop();
    }
    auto queryWeight = [&](std::uint32_t term) {
      for (const QueryTerm& qt : q.terms) {
        if (qt.term == term) return qt.weight;
      }
      return 0.0f;
    };
    for (Entry& e : ranked) {
      const DocEntry& d = docs[e.second];
      if (d.name_terms.empty()) continue;
      float name_mass = 0, matched = 0;
      for (std::size_t i = 0; i < d.name_terms.size(); ++i) {
        std::uint32_t t = d.name_terms[i];
        if (std::find(d.name_terms.begin(), d.name_terms.begin() + i, t) !=
            d.name_terms.begin() + i) {
          continue;  // count each name term once
        }
        float term_idf =
            options.name_idf_in_rerank ? idf(terms[t].name_df) : idf(terms[t].postings.size());
        name_mass += term_idf;
        matched += term_idf * std::min(1.0f, queryWeight(t));
      }
      int bigrams = 0;
      for (auto [a, b] : q.bigrams) {
        for (std::size_t i = 0; i + 1 < d.name_terms.size(); ++i) {
          if (d.name_terms[i] == a && d.name_terms[i + 1] == b) {
            ++bigrams;
            break;
          }
        }
      }
      float coverage = name_mass > 0 ? matched / name_mass : 0.0f;
      // A plural object in the query ("show me the secrets") asks for a listing tool.
      bool list_intent = false;
      auto inName = [&](std::int64_t t) {
        return std::find(d.name_terms.begin(), d.name_terms.end(), t) != d.name_terms.end();
      };
      if (q.list_term >= 0 && inName(q.list_term)) {
        list_intent = std::any_of(q.plurals.begin(), q.plurals.end(), inName);
      }
      // The mirror image: a singular object ("show me the secret <name>") asks for one item.
      bool get_intent = false;
      if (q.get_term >= 0 && inName(q.get_term) &&
          !std::any_of(q.plurals.begin(), q.plurals.end(), inName)) {
        get_intent = std::any_of(q.singulars.begin(), q.singulars.end(),
                                 [&](std::uint32_t t) { return t != q.get_term && inName(t); });
      }
      float surface = 0;
      for (auto [hash, weight] : q.surface) {
        if (std::binary_search(d.surface.begin(), d.surface.end(), hash)) surface += weight;
      }
      if (q.surface_total > 0) surface /= q.surface_total;
      e.first *= 1.0f + options.name_coverage_weight * coverage + options.surface_weight * surface +
                 options.name_bigram_weight * static_cast<float>(bigrams) +
                 (list_intent ? options.list_intent_weight : 0.0f) +
                 (get_intent ? options.get_intent_weight : 0.0f);
    }
    std::sort(ranked.begin(), ranked.end(), [&](const Entry& a, const Entry& b) {
      if (a.first != b.first) return a.first > b.first;
      const DocEntry& da = docs[a.second];
      const DocEntry& db = docs[b.second];
      if (da.server != db.server) return server_names[da.server] < server_names[db.server];
      return da.name < db.name;
    });
    if (ranked.size() > depth) ranked.resize(depth);
    return ranked;
  }

  Hit toHit(std::uint32_t doc, double score, int intent = -1) const {
    const DocEntry& d = docs[doc];
    return {server_names[d.server], d.name, score, intent};
  }

  std::size_t memory() const {
    std::size_t bytes = sizeof(Impl);
    for (const TermEntry& t : terms) bytes += sizeof(TermEntry) + t.postings.capacity() * 8;
    for (const auto& [text, id] : term_ids) {
      bytes += 48 + (text.capacity() > 15 ? text.capacity() + 1 : 0);  // node + heap string
    }
    bytes += term_ids.bucket_count() * sizeof(void*);
    for (const DocEntry& d : docs) {
      bytes += sizeof(DocEntry) + (d.name_terms.capacity() + d.surface.capacity()) * 4 +
               (d.name.capacity() > 15 ? d.name.capacity() + 1 : 0);
    }
    bytes += norm.capacity() * sizeof(float) + doc_vectors.capacity() + feedback.memoryBytes();
    for (const auto& [name, entry] : servers) {
      bytes += 96 + name.capacity() + (entry.docs.capacity() + entry.terms.capacity()) * 4;
    }
    return bytes;
  }
};

SearchIndex::SearchIndex(SearchOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
SearchIndex::~SearchIndex() = default;
SearchIndex::SearchIndex(SearchIndex&&) noexcept = default;
SearchIndex& SearchIndex::operator=(SearchIndex&&) noexcept = default;

void SearchIndex::upsertServer(const std::string& server, std::vector<ToolDocument> tools) {
  impl_->upsert(server, tools);
}

void SearchIndex::removeServer(const std::string& server) {
  impl_->remove(server);
  impl_->refreshNorms({});
}

std::vector<Hit> SearchIndex::searchLexical(std::string_view query, std::size_t depth) const {
  std::vector<Hit> hits;
  for (auto [score, doc] : impl_->rankLexical(query, depth))
    hits.push_back(impl_->toHit(doc, score));
  return hits;
}

std::vector<Hit> SearchIndex::search(std::string_view query, std::size_t limit) const {
  return impl_->searchTask(query, limit).hits;
}

SearchResult SearchIndex::searchTask(std::string_view query, std::size_t limit) const {
  return impl_->searchTask(query, limit);
}

void SearchIndex::recordFeedback(std::string_view query, const std::vector<std::string>& shown,
                                 const std::vector<std::string>& called) {
  std::vector<std::string> words = impl_->feedbackTerms(query);
  impl_->feedback.record(words, impl_->idfWeights(words), shown, called);
}

void SearchIndex::resetFeedback() {
  impl_->feedback.reset();
}

std::string SearchIndex::saveFeedback() const {
  return impl_->feedback.save();
}

bool SearchIndex::loadFeedback(std::string_view blob, std::string& error) {
  return impl_->feedback.load(blob, error);
}

std::size_t SearchIndex::size() const {
  return impl_->live_docs;
}

std::size_t SearchIndex::memoryBytes() const {
  return impl_->memory();
}

}  // namespace mcpproxy::index
