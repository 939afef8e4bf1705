// Dataset loading and metrics for tool-retrieval evaluation (see retrieval_eval.h).
#include "retrieval_eval.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>

namespace mcpproxy::index::eval {
namespace {

namespace json = boost::json;

bool readJsonLines(const std::string& path, std::vector<json::object>& out, std::string& why) {
  std::ifstream in(path);
  if (!in) {
    why = "cannot read " + path;
    return false;
  }
  std::size_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.empty()) continue;
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) {
      why = path + ":" + std::to_string(number) + ": not a JSON object";
      return false;
    }
    out.push_back(std::move(v.get_object()));
  }
  return true;
}

std::string stringField(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

bool loadDataset(const std::string& dir, Dataset& out, std::string& why) {
  std::vector<json::object> tools, queries;
  if (!readJsonLines(dir + "/tools.jsonl", tools, why)) return false;
  if (!readJsonLines(dir + "/queries.jsonl", queries, why)) return false;
  out.name = dir.substr(dir.find_last_of('/') + 1);
  for (const json::object& o : tools) {
    ToolDocument t;
    t.server = stringField(o, "server");
    t.name = stringField(o, "name");
    t.title = stringField(o, "title");
    t.description = stringField(o, "description");
    if (const auto* schema = o.if_contains("inputSchema")) t.input_schema = *schema;
    if (const auto* annotations = o.if_contains("annotations")) t.annotations = *annotations;
    out.tools.push_back(std::move(t));
  }
  for (const json::object& o : queries) {
    Query q;
    q.id = stringField(o, "id");
    q.text = stringField(o, "query");
    const auto* groups = o.if_contains("groups");
    if (groups == nullptr || !groups->is_array()) {
      why = "query " + q.id + " has no groups";
      return false;
    }
    for (const auto& group : groups->get_array()) {
      std::vector<std::string> members;
      if (group.is_array()) {
        for (const auto& m : group.get_array()) {
          if (m.is_string()) members.emplace_back(m.get_string());
        }
      }
      if (!members.empty()) q.groups.push_back(std::move(members));
    }
    if (!q.groups.empty()) out.queries.push_back(std::move(q));
  }
  if (out.tools.empty() || out.queries.empty()) {
    why = "no tools or no queries in " + dir;
    return false;
  }
  return true;
}

bool loadNestedTools(const std::string& path, Dataset& out, std::string& why) {
  std::vector<json::object> lines;
  if (!readJsonLines(path, lines, why)) return false;
  out.name = path.substr(path.find_last_of('/') + 1);
  for (const json::object& o : lines) {
    const auto* tool = o.if_contains("tool");
    if (tool == nullptr || !tool->is_object()) continue;
    ToolDocument t;
    t.server = stringField(o, "server");
    t.name = stringField(tool->get_object(), "name");
    t.description = stringField(tool->get_object(), "description");
    if (const auto* schema = tool->get_object().if_contains("inputSchema"))
      t.input_schema = *schema;
    if (!t.server.empty() && !t.name.empty()) out.tools.push_back(std::move(t));
  }
  return !out.tools.empty();
}

Dataset joinedTasks(const Dataset& base, std::size_t per_task, std::size_t count, unsigned seed) {
  // Category = the tool the query needs (retrieval-dev has one need per query); parts of one
  // task need different tools.
  static constexpr const char* kJoiners[] = {", then ", " and ", ". After that, ", "; also ",
                                             ", and then "};
  Dataset out;
  out.name = base.name + "-joined" + std::to_string(per_task);
  out.tools = base.tools;
  std::mt19937 rng(seed);
  for (std::size_t n = 0; n < count; ++n) {
    Query task;
    task.id = "joined#" + std::to_string(n);
    std::set<std::string> needs;
    std::size_t guard = 0;
    while (task.groups.size() < per_task && guard++ < 100) {
      const Query& part = base.queries[rng() % base.queries.size()];
      if (needs.contains(part.groups.front().front())) continue;
      for (const auto& g : part.groups) needs.insert(g.front());
      std::string text = part.text;
      while (!text.empty() && (text.back() == '.' || text.back() == '?' || text.back() == ' ')) {
        text.pop_back();
      }
      if (!task.text.empty()) {
        task.text += kJoiners[rng() % std::size(kJoiners)];
        if (!text.empty()) text[0] = static_cast<char>(std::tolower(text[0]));
      }
      task.text += text;
      for (const auto& g : part.groups) task.groups.push_back(g);
    }
    out.queries.push_back(std::move(task));
  }
  return out;
}

Dataset withDistractors(Dataset base, const Dataset& extra) {
  base.name += "+distractors";
  base.tools.insert(base.tools.end(), extra.tools.begin(), extra.tools.end());
  return base;
}

Metrics evaluate(const Dataset& data, const SearchFn& search) {
  Metrics m;
  for (const Query& q : data.queries) {
    std::vector<Hit> hits = search(q.text, 10);
    std::vector<std::string> names;
    for (const Hit& h : hits) names.push_back(h.server + ":" + h.tool);
    std::size_t met1 = 0, met5 = 0, met10 = 0;
    double dcg = 0;
    std::size_t first = 0;  // rank + 1 of the first useful tool
    std::vector<bool> met(q.groups.size(), false);
    for (std::size_t rank = 0; rank < names.size() && rank < 10; ++rank) {
      for (std::size_t g = 0; g < q.groups.size(); ++g) {
        if (met[g]) continue;
        const auto& group = q.groups[g];
        if (std::find(group.begin(), group.end(), names[rank]) == group.end()) continue;
        met[g] = true;
        if (first == 0) first = rank + 1;
        if (rank < 1) ++met1;
        if (rank < 5) ++met5;
        ++met10;
        dcg += 1.0 / std::log2(static_cast<double>(rank + 2));
        break;  // one tool meets one need
      }
    }
    double ideal = 0;
    for (std::size_t i = 0; i < std::min<std::size_t>(q.groups.size(), 10); ++i) {
      ideal += 1.0 / std::log2(static_cast<double>(i + 2));
    }
    auto needs = static_cast<double>(q.groups.size());
    // R@1 can meet at most one need: normalise by what one slot can do.
    m.recall_at_1 += static_cast<double>(met1) / std::min(needs, 1.0);
    m.recall_at_5 += static_cast<double>(met5) / needs;
    m.recall_at_10 += static_cast<double>(met10) / needs;
    m.complete_at_10 += met10 == q.groups.size() ? 1 : 0;
    m.mrr_at_10 += first > 0 ? 1.0 / static_cast<double>(first) : 0.0;
    m.ndcg_at_10 += dcg / ideal;
    ++m.queries;
  }
  if (m.queries > 0) {
    auto n = static_cast<double>(m.queries);
    for (double* v : {&m.recall_at_1, &m.recall_at_5, &m.recall_at_10, &m.complete_at_10,
                      &m.mrr_at_10, &m.ndcg_at_10}) {
      *v /= n;
    }
  }
  return m;
}

SearchIndex buildIndex(const Dataset& data, const SearchOptions& options) {
  SearchIndex index(options);
  std::map<std::string, std::vector<ToolDocument>> by_server;
  for (const ToolDocument& t : data.tools) by_server[t.server].push_back(t);
  for (auto& [server, tools] : by_server) index.upsertServer(server, std::move(tools));
  return index;
}

SearchOptions plainBm25() {
  SearchOptions o;
  o.decompose = false;
  o.server_weight = 0;
  RankerOptions& r = o.ranker;
  r.field_weight = {1, 0, 0, 1, 0, 0};
  r.field_b = {0.75f, 0, 0, 0.75f, 0, 0};
  r.split_identifiers = r.stem = r.stop_words = false;
  r.prose_keeps_camel_case = r.query_pair_joins = r.decompound = false;
  r.synonym_weight = 0;
  r.synonym_coverage = r.distinct_query_terms = false;
  r.coverage_exponent = 0;
  r.name_coverage_weight = r.name_bigram_weight = r.list_intent_weight = 0;
  r.surface_weight = 0;
  return o;
}

std::string formatMetrics(const Metrics& m) {
  char buf[200];
  std::snprintf(
      buf, sizeof buf, "R@1 %.3f  R@5 %.3f  R@10 %.3f  nDCG@10 %.3f  MRR@10 %.3f  all@10 %.3f",
      m.recall_at_1, m.recall_at_5, m.recall_at_10, m.ndcg_at_10, m.mrr_at_10, m.complete_at_10);
  return buf;
}

}  // namespace mcpproxy::index::eval
