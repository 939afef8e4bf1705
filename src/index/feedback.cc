// Learning from use (model and measurements in feedback.h).
#include "index/feedback.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <unordered_set>

namespace mcpproxy::index {
namespace {

namespace json = boost::json;

// IDF-weighted Jaccard similarity of two term lists (each term once).
double similarity(const std::vector<std::string>& a, const std::vector<float>& wa,
                  const std::vector<std::string>& b, const std::vector<float>& wb) {
  double both = 0, either = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    either += wa[i];
    if (std::find(b.begin(), b.end(), a[i]) != b.end()) both += wa[i];
  }
  for (std::size_t j = 0; j < b.size(); ++j) {
    if (std::find(a.begin(), a.end(), b[j]) == a.end()) either += wb[j];
  }
  return either > 0 ? both / either : 0.0;
}

}  // namespace

void FeedbackModel::record(const std::vector<std::string>& terms, const std::vector<float>& idf,
                           const std::vector<std::string>& shown,
                           const std::vector<std::string>& called) {
  if (!options_.enabled || terms.empty() || options_.max_events == 0) return;
  Event e;
  e.tick = ++tick_;
  for (std::size_t i = 0; i < terms.size() && e.terms.size() < kMaxFeedbackTerms; ++i) {
    if (std::find(e.terms.begin(), e.terms.end(), terms[i]) != e.terms.end()) continue;
    e.terms.push_back(terms[i]);
    e.idf.push_back(i < idf.size() && std::isfinite(idf[i]) ? std::max(0.0f, idf[i]) : 1.0f);
  }
  std::unordered_set<std::string> was_called;
  for (const std::string& tool : called) {
    if (e.called.size() >= kMaxFeedbackTools) break;
    if (was_called.insert(tool).second) e.called.push_back(tool);
  }
  for (const std::string& tool : shown) {
    if (e.ignored.size() >= kMaxFeedbackTools) break;
    if (!was_called.contains(tool)) e.ignored.push_back(tool);
  }
  events_.push_back(std::move(e));
  while (events_.size() > options_.max_events) events_.pop_front();
}

std::unordered_map<std::string, double> FeedbackModel::votes(const std::vector<std::string>& terms,
                                                             const std::vector<float>& idf) const {
  std::unordered_map<std::string, double> out;
  if (events_.empty() || terms.empty()) return out;
  for (const Event& e : events_) {
    double sim = similarity(terms, idf, e.terms, e.idf);
    if (sim < options_.min_similarity) continue;
    double age = static_cast<double>(tick_ - e.tick);
    double w = sim * std::exp2(-age / std::max(1.0, options_.half_life));
    for (const std::string& tool : e.called) out[tool] += w;
    for (const std::string& tool : e.ignored) out[tool] -= w * options_.ignored_penalty;
  }
  return out;
}

double FeedbackModel::factor(double vote) const {
  return 1.0 + options_.weight * std::tanh(vote);
}

void FeedbackModel::reset() {
  events_.clear();
  tick_ = 0;
}

std::string FeedbackModel::save() const {
  json::array events;
  for (const Event& e : events_) {
    json::array terms, idf, called, ignored;
    for (const auto& t : e.terms) terms.emplace_back(t);
    for (float w : e.idf) idf.emplace_back(w);
    for (const auto& t : e.called) called.emplace_back(t);
    for (const auto& t : e.ignored) ignored.emplace_back(t);
    events.push_back(json::object{{"terms", std::move(terms)},
                                  {"idf", std::move(idf)},
                                  {"called", std::move(called)},
                                  {"ignored", std::move(ignored)},
                                  {"tick", e.tick}});
  }
  return json::serialize(
      json::object{{"version", 1}, {"tick", tick_}, {"events", std::move(events)}});
}

bool FeedbackModel::load(std::string_view blob, std::string& error) {
  if (blob.size() > kMaxFeedbackBlobBytes) {
    error = "feedback state too large";
    return false;
  }
  boost::system::error_code ec;
  json::value v = json::parse(blob, ec);
  const auto* o = v.if_object();
  if (ec || o == nullptr) {
    error = "feedback state is not a JSON object";
    return false;
  }
  auto counter = [](const json::value* x) -> std::int64_t {
    if (x == nullptr) return -1;
    if (x->is_uint64())
      return x->get_uint64() > (1ull << 62) ? -1 : static_cast<std::int64_t>(x->get_uint64());
    return x->is_int64() ? x->get_int64() : -1;
  };
  const auto* version = o->if_contains("version");
  std::int64_t tick = counter(o->if_contains("tick"));
  const auto* events = o->if_contains("events");
  if (version == nullptr || counter(version) != 1 || tick < 0 || events == nullptr ||
      !events->is_array()) {
    error = "feedback state: unknown version or missing fields";
    return false;
  }
  if (events->get_array().size() > options_.max_events) {
    error = "feedback state: more events than the configured bound";
    return false;
  }
  auto strings = [](const json::value* x, std::vector<std::string>& out) {
    if (x == nullptr || !x->is_array() || x->get_array().size() > kMaxFeedbackTools) return false;
    for (const auto& s : x->get_array()) {
      if (!s.is_string()) return false;
      out.emplace_back(s.get_string());
    }
    return true;
  };
  FeedbackModel loaded(options_);
  loaded.tick_ = static_cast<std::uint64_t>(tick);
  for (const auto& item : events->get_array()) {
    const auto* e = item.if_object();
    Event event;
    bool ok = e != nullptr && strings(e->if_contains("terms"), event.terms) &&
              strings(e->if_contains("called"), event.called) &&
              strings(e->if_contains("ignored"), event.ignored) &&
              event.terms.size() <= kMaxFeedbackTerms;
    const auto* idf = ok ? e->if_contains("idf") : nullptr;
    ok = ok && idf != nullptr && idf->is_array() && idf->get_array().size() == event.terms.size();
    if (ok) {
      for (const auto& w : idf->get_array()) {
        double d = w.is_number() ? w.to_number<double>() : -1;
        if (!std::isfinite(d) || d < 0 || d > 1e6) ok = false;
        event.idf.push_back(static_cast<float>(d));
      }
      std::int64_t at = counter(e->if_contains("tick"));
      ok = ok && at >= 0 && at <= tick;
      event.tick = static_cast<std::uint64_t>(std::max<std::int64_t>(at, 0));
    }
    if (!ok) {
      error = "feedback state: malformed event";
      return false;
    }
    loaded.events_.push_back(std::move(event));
  }
  *this = std::move(loaded);
  return true;
}

std::size_t FeedbackModel::memoryBytes() const {
  std::size_t bytes = 0;
  for (const Event& e : events_) {
    bytes += sizeof(Event) + e.idf.capacity() * sizeof(float);
    for (const auto* list : {&e.terms, &e.called, &e.ignored}) {
      for (const std::string& s : *list) bytes += sizeof(std::string) + s.capacity();
    }
  }
  return bytes;
}

}  // namespace mcpproxy::index
