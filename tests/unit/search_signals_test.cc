// The signals fused with the lexical ranker: word vectors (parsing, limits, the semantic
// signal finding a tool with no word in common), task decomposition (splitting rules, per-intent
// slots in the answer), server-level evidence, learning from use (record, decay bound, reset,
// save/load, bad blobs), id-based fusion, and incremental rebuilds with every signal on.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "index/feedback.h"
#include "index/fusion.h"
#include "index/schema_compress.h"
#include "index/search_index.h"
#include "index/task_split.h"
#include "index/word_vectors.h"

namespace mcpproxy::index {
namespace {

using Strings = std::vector<std::string>;

// A word-vector file in distill.mjs's format, built in memory.
std::string vectorFile(const std::vector<std::pair<std::string, std::vector<int>>>& rows,
                       std::uint32_t dims) {
  std::string out = "MCPWVEC1";
  auto u32 = [&](std::uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
  u32(dims);
  u32(static_cast<std::uint32_t>(rows.size()));
  float scale = 127;
  out.append(reinterpret_cast<const char*>(&scale), 4);
  for (const auto& [word, v] : rows) {
    out.push_back(static_cast<char>(word.size()));
    out += word;
  }
  for (const auto& [word, v] : rows) {
    for (int x : v) out.push_back(static_cast<char>(static_cast<std::int8_t>(x)));
  }
  return out;
}

std::shared_ptr<const WordVectors> tinyVectors() {
  std::string error;
  auto v = WordVectors::parse(vectorFile({{"car", {120, 10, 0, 0}},
                                          {"automobile", {118, 20, 0, 0}},
                                          {"vehicle", {110, 30, 5, 0}},
                                          {"banana", {-10, 0, 120, 10}},
                                          {"fruit", {-5, -5, 115, 20}}},
                                         4),
                              error);
  EXPECT_NE(v, nullptr) << error;
  return v;
}

ToolDocument tool(std::string name, std::string description) {
  ToolDocument t;
  t.name = std::move(name);
  t.description = std::move(description);
  return t;
}

Strings names(const std::vector<Hit>& hits) {
  Strings out;
  for (const Hit& h : hits) out.push_back(h.server + ":" + h.tool);
  return out;
}

TEST(WordVectors, ParsesAndLooksUp) {
  auto v = tinyVectors();
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->dims(), 4u);
  EXPECT_EQ(v->size(), 5u);
  EXPECT_EQ(v->find("car"), 0);
  EXPECT_EQ(v->find("fruit"), 4);
  EXPECT_EQ(v->find("boat"), -1);
  EXPECT_EQ(v->row(3)[2], 120);
  EXPECT_LT(v->weight(0), v->weight(4));  // frequent words weigh less
}

TEST(WordVectors, RefusesBadFiles) {
  std::string good = vectorFile({{"car", {1, 2}}}, 2), error;
  EXPECT_NE(WordVectors::parse(good, error), nullptr);
  EXPECT_EQ(WordVectors::parse("", error), nullptr);
  EXPECT_EQ(WordVectors::parse("MCPWVEC2" + good.substr(8), error), nullptr);
  EXPECT_EQ(WordVectors::parse(good.substr(0, good.size() - 1), error), nullptr);  // short rows
  EXPECT_EQ(WordVectors::parse(good + "x", error), nullptr);                       // trailing
  std::string huge_dims = good;
  std::uint32_t dims = 100000;
  std::memcpy(huge_dims.data() + 8, &dims, 4);
  EXPECT_EQ(WordVectors::parse(huge_dims, error), nullptr);
  EXPECT_NE(error.find("out of range"), std::string::npos);
  std::string zero_length = good;
  zero_length[20] = 0;  // a word of length 0
  EXPECT_EQ(WordVectors::parse(zero_length, error), nullptr);
  EXPECT_EQ(WordVectors::load("/nonexistent/vectors.bin", error), nullptr);
  EXPECT_NE(error.find("cannot open"), std::string::npos);
}

TEST(SemanticSignal, FindsAToolWithNoWordInCommon) {
  SearchOptions o;
  o.vectors = tinyVectors();
  SearchIndex index(o);
  index.upsertServer("rent", {tool("rent_automobile", "Rent an automobile for a day.")});
  index.upsertServer("shop", {tool("buy_fruit", "Buy a banana or any fruit.")});
  EXPECT_EQ(names(index.search("car", 5)), (Strings{"rent:rent_automobile"}));
  EXPECT_EQ(names(index.search("banana", 5)).front(), "shop:buy_fruit");
  SearchIndex lexical;  // without vectors "car" matches nothing
  lexical.upsertServer("rent", {tool("rent_automobile", "Rent an automobile for a day.")});
  EXPECT_TRUE(lexical.search("car", 5).empty());
  // Removing a server removes it from the semantic signal too.
  index.removeServer("rent");
  EXPECT_TRUE(index.search("car", 5).empty());
  index.upsertServer("rent", {tool("rent_vehicle", "Rent a vehicle.")});
  EXPECT_EQ(names(index.search("car", 5)), (Strings{"rent:rent_vehicle"}));
}

TEST(TaskSplit, SplitsStepsAndKeepsPhrasesWhole) {
  EXPECT_EQ(splitTask("find the cheapest flight to Tokyo next week and add it to my calendar"),
            (Strings{"find the cheapest flight to Tokyo next week", "and add it to my calendar"}));
  EXPECT_EQ(splitTask("List the pros and cons of remote work"),
            (Strings{"List the pros and cons of remote work"}));
  EXPECT_EQ(splitTask("1. list directory\n2. read all pdf files\n3. write a summary report"),
            (Strings{"1. list directory", "2. read all pdf files", "3. write a summary report"}));
  EXPECT_EQ(splitTask("Get the weather in Paris, then email it to Bob."),
            (Strings{"Get the weather in Paris", "then email it to Bob."}));
  EXPECT_EQ(splitTask("Save report.pdf in /root/pdf"), (Strings{"Save report.pdf in /root/pdf"}));
  EXPECT_EQ(splitTask("Hi. Book a table for two tonight"),
            (Strings{"Hi. Book a table for two tonight"}));  // "Hi." is too small alone
  EXPECT_TRUE(splitTask("").empty());
  EXPECT_TRUE(splitTask("  \n ").empty());
  std::string flood;
  for (int i = 0; i < 2000; ++i) flood += "read the file and save the file ";
  EXPECT_LE(splitTask(flood).size(), kMaxIntents);
  EXPECT_TRUE(isActionVerb("convert"));
  EXPECT_FALSE(isActionVerb("week"));
}

TEST(TaskSplit, AnswersGiveEachStepASlot) {
  SearchIndex index;
  index.upsertServer("flights", {tool("search_flights", "Search flights by destination and date"),
                                 tool("book_flight", "Book a flight"),
                                 tool("flight_status", "Status of a flight in the air")});
  index.upsertServer("calendar", {tool("create_event", "Add an event to the calendar")});
  SearchResult r =
      index.searchTask("search flights to Tokyo next week and add the event to my calendar", 2);
  ASSERT_EQ(r.intents.size(), 2u);
  ASSERT_EQ(r.hits.size(), 2u);
  Strings got = names(r.hits);
  EXPECT_NE(std::find(got.begin(), got.end(), "calendar:create_event"), got.end());
  EXPECT_NE(std::find(got.begin(), got.end(), "flights:search_flights"), got.end());
  for (const Hit& h : r.hits) EXPECT_GE(h.intent, -1);
  for (std::size_t i = 1; i < r.hits.size(); ++i) EXPECT_LE(r.hits[i].score, r.hits[i - 1].score);
  SearchOptions whole;
  whole.decompose = false;
  SearchIndex undivided(whole);
  EXPECT_TRUE(undivided.searchTask("search flights and add the event", 5).intents.empty());
}

TEST(ServerEvidence, LiftsAToolWhoseServerMatchesTheTask) {
  auto build = [](float weight) {
    SearchOptions o;
    o.server_weight = weight;
    SearchIndex index(o);
    index.upsertServer("mail", {tool("archive", "Archive a message."),
                                tool("email_send", "Send an email message."),
                                tool("email_read", "Read an email message.")});
    index.upsertServer("files", {tool("archive_files", "Archive files into a zip archive.")});
    return index;
  };
  SearchIndex lifted = build(3.0f);
  EXPECT_EQ(names(lifted.search("archive my email message", 1)), (Strings{"mail:archive"}));
}

TEST(Feedback, CalledToolsRiseAndResetForgets) {
  SearchIndex index;
  index.upsertServer("a", {tool("notify_team", "Send a notification to the team.")});
  index.upsertServer("b", {tool("notify_user", "Send a notification to a user.")});
  const std::string query = "send a notification";
  Strings before = names(index.search(query, 2));
  ASSERT_EQ(before.size(), 2u);
  const std::string second = before[1];
  for (int i = 0; i < 5; ++i) index.recordFeedback(query, before, {second});
  EXPECT_EQ(names(index.search(query, 2)).front(), second);
  std::string blob = index.saveFeedback();
  index.resetFeedback();
  EXPECT_EQ(names(index.search(query, 2)), before);
  std::string error;
  ASSERT_TRUE(index.loadFeedback(blob, error)) << error;
  EXPECT_EQ(names(index.search(query, 2)).front(), second);
  // A bad blob is refused and changes nothing.
  for (
      std::string bad :
      {std::string("not json"), std::string("{}"),
       std::string(R"({"version":2,"tick":1,"events":[]})"),
       std::string(R"({"version":1,"tick":1,"events":[{"terms":[1]}]})"),
       std::string(
           R"({"version":1,"tick":1,"events":[{"terms":["a"],"idf":[1],"called":[],"ignored":[],"tick":5}]})")}) {
    EXPECT_FALSE(index.loadFeedback(bad, error)) << bad;
    EXPECT_FALSE(error.empty());
  }
  EXPECT_EQ(names(index.search(query, 2)).front(), second);
  // Disabled: nothing is learnt.
  SearchOptions off;
  off.feedback.enabled = false;
  SearchIndex still(off);
  still.upsertServer("a", {tool("notify_team", "Send a notification to the team.")});
  still.upsertServer("b", {tool("notify_user", "Send a notification to a user.")});
  for (int i = 0; i < 5; ++i) still.recordFeedback(query, before, {second});
  EXPECT_EQ(names(still.search(query, 2)), before);
}

TEST(Feedback, BoundedAndDecaying) {
  FeedbackOptions o;
  o.max_events = 3;
  o.half_life = 1;
  FeedbackModel m(o);
  for (int i = 0; i < 10; ++i) m.record({"word"}, {1.0f}, {"s:t"}, {"s:t"});
  EXPECT_EQ(m.size(), 3u);
  double fresh = m.votes({"word"}, {1.0f})["s:t"];
  for (int i = 0; i < 3; ++i) m.record({"other"}, {1.0f}, {}, {"s:u"});
  EXPECT_TRUE(m.votes({"word"}, {1.0f}).empty());  // pushed out of the memory
  EXPECT_GT(fresh, 0);
  EXPECT_LE(m.factor(1e9), 1.0 + o.weight + 1e-9);
  EXPECT_GE(m.factor(-1e9), 1.0 - o.weight - 1e-9);
  FeedbackModel d(FeedbackOptions{.half_life = 2});
  d.record({"word"}, {1.0f}, {}, {"s:t"});
  double now = d.votes({"word"}, {1.0f})["s:t"];
  d.record({"x"}, {1.0f}, {}, {});
  d.record({"y"}, {1.0f}, {}, {});
  EXPECT_NEAR(d.votes({"word"}, {1.0f})["s:t"], now / 2, 1e-9);  // one half-life later
}

TEST(Fusion, ById) {
  std::vector<IdRanking> r(2);
  r[0].hits = {{1, 10.0}, {2, 5.0}};
  r[1].weight = 0.5;
  r[1].min_score = 0.0;
  r[1].hits = {{2, 1.0}, {3, 0.5}};
  auto fused = fuseById(r, 10);
  ASSERT_EQ(fused.size(), 3u);
  EXPECT_EQ(fused[0].first, 1u);  // 1.0
  EXPECT_EQ(fused[1].first, 2u);  // 0.5 + 0.5
  EXPECT_DOUBLE_EQ(fused[1].second, 1.0);
  EXPECT_EQ(fused[2].first, 3u);  // 0.25
  EXPECT_TRUE(fuseById(r, 0).empty());
}

}  // namespace
}  // namespace mcpproxy::index

namespace mcpproxy::index {
namespace {

TEST(SchemaCompress, DropsNoiseKeepsMeaning) {
  auto schema = boost::json::parse(R"({
    "$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "title": "Args",
    "additionalProperties": false, "required": [],
    "properties": {
      "title": {"type": "string", "title": "Title", "description": "The page title"},
      "count": {"type": "integer", "default": null, "examples": [3]},
      "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
      "tags": {"type": "array", "items": {"type": "string", "title": "Tag"}},
      "extra": {"type": "object", "additionalProperties": true}
    }})");
  auto out = compressSchema(schema);
  auto expected = boost::json::parse(R"({
    "type": "object",
    "properties": {
      "title": {"type": "string", "description": "The page title"},
      "count": {"type": "integer"},
      "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
      "tags": {"type": "array", "items": {"type": "string"}},
      "extra": {"type": "object", "additionalProperties": true}
    }})");
  EXPECT_EQ(out, expected) << boost::json::serialize(out);
  EXPECT_EQ(compressSchema(boost::json::value(42)), boost::json::value(42));
  // Depth is bounded.
  boost::json::value deep = boost::json::object{};
  for (int i = 0; i < 100; ++i) deep = boost::json::object{{"items", deep}};
  EXPECT_NO_THROW(compressSchema(deep));
}

TEST(SchemaCompress, ShortensAtSentencesAndCountsBudgets) {
  bool cut = false;
  EXPECT_EQ(shortenDescription("Short.", 100, cut), "Short.");
  EXPECT_FALSE(cut);
  EXPECT_EQ(shortenDescription("First sentence here. Second one is long and goes on.", 30, cut),
            "First sentence here.");
  EXPECT_TRUE(cut);
  EXPECT_EQ(shortenDescription("aaaa bbbb cccc dddd", 12, cut), "aaaa bbbb");
  std::string utf8 = "ééééé";  // 2-byte characters: never cut inside one
  EXPECT_EQ(shortenDescription(utf8, 5, cut).size() % 2, 0u);
  std::vector<boost::json::value> entries{boost::json::value("aaaa"), boost::json::value("bbbb"),
                                          boost::json::value("cccc")};
  auto bytes = [](std::string_view s) { return s.size(); };  // "\"aaaa\"" = 6
  EXPECT_EQ(entriesWithinBudget(entries, 12, bytes), 2u);
  EXPECT_EQ(entriesWithinBudget(entries, 1, bytes), 1u);  // the first always fits
  EXPECT_EQ(entriesWithinBudget({}, 100, bytes), 0u);
}

}  // namespace
}  // namespace mcpproxy::index
