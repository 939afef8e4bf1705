// Fusion of ranked lists from independent retrieval signals (today the lexical BM25F ranker;
// later an embedding ranker) into one list. Each signal ranks on its own; fusion only sees
// (server, tool, score) lists, so a new signal needs no change to the others.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "index/search_index.h"

namespace mcpproxy::index {

// One signal's candidates, best first.
struct SignalRanking {
  std::string signal;  // for diagnostics, e.g. "lexical", "embedding"
  double weight = 1.0;
  // The lowest score the signal can produce (0 for BM25, -1 for cosine similarity): the
  // normalisation anchor of kConvex, so one weak list is not stretched to look strong.
  double min_score = 0.0;
  std::vector<Hit> hits;
};

enum class FusionMethod {
  // Σ weight × (score − min_score) / (top score − min_score): a convex combination of
  // theoretically-anchored min-max normalised scores ("TM2C2" in Bruch et al., An Analysis of
  // Fusion Functions for Hybrid Retrieval, 2023), which keeps score gaps and beat RRF there.
  kConvex,
  // Σ weight / (rrf_k + rank): reciprocal rank fusion (Cormack et al. 2009); ignores scores, so
  // it needs no calibration, at the cost of treating a near-tie and a landslide alike.
  kReciprocalRank,
};

struct FusionOptions {
  FusionMethod method = FusionMethod::kConvex;
  double rrf_k = 60.0;
};

// Merges the rankings into the best `limit` hits. A tool missing from a list contributes 0 from
// that list. Ties are broken by server, then tool name, so the result is deterministic. With a
// single ranking the result is that ranking, scores unchanged, cut to `limit`.
std::vector<Hit> fuseRankings(const std::vector<SignalRanking>& rankings, std::size_t limit,
                              const FusionOptions& options = {});

// The same fusion over rankings of document ids (what the index fuses internally: no strings
// copied per query). Each list holds (id, score), best first; ties in the result go to the
// lower id.
struct IdRanking {
  double weight = 1.0;
  double min_score = 0.0;
  std::vector<std::pair<std::uint32_t, double>> hits;
};
std::vector<std::pair<std::uint32_t, double>> fuseById(const std::vector<IdRanking>& rankings,
                                                       std::size_t limit,
                                                       const FusionOptions& options = {});

}  // namespace mcpproxy::index
