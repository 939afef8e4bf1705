// Rank fusion for multi-signal tool search. See fusion.h for the two methods and why.
#include "index/fusion.h"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <utility>

namespace mcpproxy::index {

std::vector<Hit> fuseRankings(const std::vector<SignalRanking>& rankings, std::size_t limit,
                              const FusionOptions& options) {
  if (limit == 0) return {};
  if (rankings.size() == 1) {
    std::vector<Hit> hits = rankings.front().hits;
    if (hits.size() > limit) hits.resize(limit);
    return hits;
  }
  // (server, tool) → fused score. Lists are short (tens of candidates), so a map is fine.
  std::map<std::pair<std::string, std::string>, double> fused;
  for (const SignalRanking& ranking : rankings) {
    if (ranking.hits.empty() || ranking.weight == 0.0) continue;
    double top = ranking.hits.front().score;
    for (const Hit& hit : ranking.hits) top = std::max(top, hit.score);
    double span = top - ranking.min_score;
    for (std::size_t rank = 0; rank < ranking.hits.size(); ++rank) {
      const Hit& hit = ranking.hits[rank];
      double contribution = 0.0;
      if (options.method == FusionMethod::kReciprocalRank) {
        contribution = ranking.weight / (options.rrf_k + static_cast<double>(rank + 1));
      } else if (span > 0.0) {
        contribution = ranking.weight * std::max(0.0, hit.score - ranking.min_score) / span;
      }
      fused[{hit.server, hit.tool}] += contribution;
    }
  }
  std::vector<Hit> hits;
  hits.reserve(fused.size());
  for (auto& [key, score] : fused) hits.push_back({key.first, key.second, score});
  std::stable_sort(hits.begin(), hits.end(),
                   [](const Hit& a, const Hit& b) { return a.score > b.score; });
  if (hits.size() > limit) hits.resize(limit);
  return hits;
}

std::vector<std::pair<std::uint32_t, double>> fuseById(const std::vector<IdRanking>& rankings,
                                                       std::size_t limit,
                                                       const FusionOptions& options) {
  std::vector<std::pair<std::uint32_t, double>> fused;
  if (limit == 0) return fused;
  std::unordered_map<std::uint32_t, std::size_t> slot;  // id → index in fused
  for (const IdRanking& ranking : rankings) {
    if (ranking.hits.empty() || ranking.weight == 0.0) continue;
    double top = ranking.hits.front().second;
    for (const auto& hit : ranking.hits) top = std::max(top, hit.second);
    double span = top - ranking.min_score;
    for (std::size_t rank = 0; rank < ranking.hits.size(); ++rank) {
      const auto& [id, score] = ranking.hits[rank];
      double contribution = 0.0;
      if (options.method == FusionMethod::kReciprocalRank) {
        contribution = ranking.weight / (options.rrf_k + static_cast<double>(rank + 1));
      } else if (span > 0.0) {
        contribution = ranking.weight * std::max(0.0, score - ranking.min_score) / span;
      }
      auto [it, inserted] = slot.emplace(id, fused.size());
      if (inserted) fused.emplace_back(id, 0.0);
      fused[it->second].second += contribution;
    }
  }
  std::sort(fused.begin(), fused.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (fused.size() > limit) fused.resize(limit);
  return fused;
}

}  // namespace mcpproxy::index
