// Learning from use, local and private: which tools the model called after which
// retrieve_tools query, and which tools it was shown and ignored, adjust later rankings. The
// state is a bounded memory of past answers whose influence decays with use, so old habits
// fade; it can be reset, saved as a blob and loaded again, and never leaves the process unless
// the caller persists it.
//
// Model (nearest past queries): each recorded answer keeps the query's terms with their IDF
// weights, the tools called and the tools shown but ignored. A new query looks for past
// queries that share most of its informative words (IDF-weighted Jaccard similarity at least
// `min_similarity`); each such query votes similarity × decay for the tools called after it
// (+1) and against the ones it ignored (−ignored_penalty). A candidate's score is multiplied by
// 1 + weight × tanh(votes), so the effect is bounded whatever the history.
//
// Chosen on retrieval-dev two-fold (search_eval --feedback): similarity 0.7, penalty 0.05,
// weight 0.2 gave R@1 +0.9 points on prompts never seen (0.886 → 0.895, 0.869 → 0.878);
// looser matching (0.5–0.6) or stronger weights gained less, a penalty of 0.2 lost 5 points.
//
// Why not per-word associations: measured on retrieval-dev (two-fold: learn from one half of
// the prompts, score the other), word → tool associations lowered R@1 by 2 points: "secret"
// learnt from "list my secrets" pushed secret_list for "show the secret X". Only near-repeats
// of a task transfer reliably.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mcpproxy::index {

struct FeedbackOptions {
  bool enabled = true;
  std::size_t max_events = 2000;  // answers remembered; the oldest go first
  double half_life = 500;         // events after which an answer counts half
  float min_similarity = 0.7f;    // IDF-weighted Jaccard similarity for a past query to vote
  float ignored_penalty = 0.05f;  // shown and not called: weak negative evidence
  float weight = 0.2f;            // strength of the effect on scores
};

inline constexpr std::size_t kMaxFeedbackTerms = 32;   // query terms kept per event
inline constexpr std::size_t kMaxFeedbackTools = 100;  // tools kept per event
inline constexpr std::size_t kMaxFeedbackBlobBytes = std::size_t{16} * 1024 * 1024;

class FeedbackModel {
 public:
  explicit FeedbackModel(FeedbackOptions options = {}) : options_(options) {}

  // One retrieve_tools answer: the query's analysed terms and their IDF weights (same order),
  // the tools shown ("server:tool") and those of them the model then called.
  void record(const std::vector<std::string>& terms, const std::vector<float>& idf,
              const std::vector<std::string>& shown, const std::vector<std::string>& called);

  // Votes of the past queries similar to this one: tool → net vote (positive: called after
  // similar queries). Empty when nothing similar is remembered.
  std::unordered_map<std::string, double> votes(const std::vector<std::string>& terms,
                                                const std::vector<float>& idf) const;
  // The score multiplier for a vote.
  double factor(double vote) const;

  bool empty() const { return events_.empty(); }
  std::size_t size() const { return events_.size(); }
  void reset();
  // The whole state as a JSON blob, and back. load() replaces the state only when the blob is
  // valid (at most kMaxFeedbackBlobBytes and max_events events).
  std::string save() const;
  bool load(std::string_view blob, std::string& error);
  std::size_t memoryBytes() const;

 private:
  struct Event {
    std::vector<std::string> terms;
    std::vector<float> idf;
    std::vector<std::string> called;
    std::vector<std::string> ignored;
    std::uint64_t tick = 0;
  };
  FeedbackOptions options_;
  std::uint64_t tick_ = 0;
  std::deque<Event> events_;
};

}  // namespace mcpproxy::index
