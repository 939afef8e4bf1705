// Tool search: tokenizer (identifier splitting, UTF-8 safety), stemmer, stop words, the index's
// incremental upsert/remove, query edge cases (empty, stop words only, limits, hostile bytes),
// and rank fusion.
#include "index/search_index.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "index/fusion.h"
#include "index/text.h"

namespace mcpproxy::index {
namespace {

std::vector<std::string> texts(std::string_view text, const AnalyzeOptions& options = {}) {
  std::vector<std::string> out;
  for (const AnalyzedTerm& t : analyze(text, options)) out.push_back(t.text);
  return out;
}

using Strings = std::vector<std::string>;

TEST(SearchText, SplitsIdentifiers) {
  EXPECT_EQ(splitIdentifier("listIssues"), (Strings{"list", "issues"}));
  EXPECT_EQ(splitIdentifier("create_pull_request"), (Strings{"create", "pull", "request"}));
  EXPECT_EQ(splitIdentifier("auth-method"), (Strings{"auth", "method"}));
  EXPECT_EQ(splitIdentifier("getHTTPResponse_v2"), (Strings{"get", "http", "response", "v", "2"}));
  EXPECT_EQ(splitIdentifier("HTTPServer"), (Strings{"http", "server"}));
  EXPECT_EQ(splitIdentifier("ec2Instances"), (Strings{"ec", "2", "instances"}));
  EXPECT_EQ(splitIdentifier("__x__"), (Strings{"x"}));
  EXPECT_EQ(splitIdentifier("ABC"), (Strings{"abc"}));
  EXPECT_TRUE(splitIdentifier("_-_").empty());
}

TEST(SearchText, KeepsJoinedFormsAndPairs) {
  AnalyzeOptions raw;
  raw.stem = false;
  // Parts, the whole identifier joined, and adjacent pairs (three or more parts).
  EXPECT_EQ(texts("listIssues", raw), (Strings{"list", "issues", "listissues"}));
  EXPECT_EQ(texts("key_vault_secret", raw),
            (Strings{"key", "vault", "secret", "keyvaultsecret", "keyvault", "vaultsecret"}));
  auto terms = analyze("listIssues now", raw);
  ASSERT_EQ(terms.size(), 4u);
  EXPECT_EQ(terms[2].text, "listissues");
  EXPECT_TRUE(terms[2].joined);
  EXPECT_EQ(terms[2].position, 0u);  // shares the first part's position
  EXPECT_EQ(terms[3].position, 2u);
  raw.emit_joined = false;
  EXPECT_EQ(texts("listIssues", raw), (Strings{"list", "issues"}));
}

TEST(SearchText, LowerCasesAndDropsStopWordsAndOneLetterParts) {
  AnalyzeOptions raw;
  raw.stem = false;
  EXPECT_EQ(texts("Show me THE Secrets of a vault", raw), (Strings{"show", "secrets", "vault"}));
  EXPECT_EQ(texts("x y 7 ok", raw), (Strings{"ok"}));
  raw.drop_stop_words = false;
  EXPECT_EQ(texts("the vault", raw), (Strings{"the", "vault"}));
  // Stop words still take a position, so "secret of vault" is not adjacent.
  auto terms = analyze("secret of vault", {});
  ASSERT_EQ(terms.size(), 2u);
  EXPECT_EQ(terms[1].position, 2u);
}

TEST(SearchText, ProseKeepsBrandsWhole) {
  AnalyzeOptions prose;
  prose.stem = false;
  prose.split_camel_case = false;
  EXPECT_EQ(texts("MySQL on GitHub", prose), (Strings{"mysql", "github"}));
  EXPECT_EQ(
      texts("resource_group-name", prose),
      (Strings{"resource", "group", "name", "resourcegroupname", "resourcegroup", "groupname"}));
  AnalyzeOptions ident;
  ident.stem = false;
  EXPECT_EQ(texts("GitHub", ident), (Strings{"git", "hub", "github"}));
}

TEST(SearchText, UnicodeIsKeptAndInvalidBytesSeparate) {
  AnalyzeOptions raw;
  raw.stem = false;
  EXPECT_EQ(texts("café Größe", raw), (Strings{"café", "größe"}));  // only ASCII lower-cased
  EXPECT_EQ(texts("日本語のテキスト", raw), (Strings{"日本語のテキスト"}));
  // Invalid UTF-8 (stray continuation, overlong, surrogate, truncated) separates words.
  EXPECT_EQ(texts("ab\x80"
                  "cd",
                  raw),
            (Strings{"ab", "cd"}));
  EXPECT_EQ(texts("ab\xC0\xAF"
                  "cd",
                  raw),
            (Strings{"ab", "cd"}));
  EXPECT_EQ(texts("ab\xED\xA0\x80"
                  "cd",
                  raw),
            (Strings{"ab", "cd"}));
  EXPECT_EQ(texts("abc\xE2\x82", raw), (Strings{"abc"}));
  EXPECT_TRUE(texts(std::string_view("\0\0\0", 3), raw).empty());
}

TEST(SearchText, TokensAreCappedAtCharacterBoundaries) {
  std::string long_word(200, 'a');
  auto t = texts(long_word);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].size(), kMaxTokenBytes);
  std::string accents;
  for (int i = 0; i < 100; ++i) accents += "é";  // two bytes each
  auto u = texts(accents);
  ASSERT_EQ(u.size(), 1u);
  EXPECT_LE(u[0].size(), kMaxTokenBytes);
  EXPECT_EQ(u[0].size() % 2, 0u);  // never half a character
}

TEST(SearchText, RandomBytesNeverCrash) {
  std::mt19937 rng(1234);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xFF);
    for (const AnalyzedTerm& t : analyze(s)) {
      EXPECT_FALSE(t.text.empty());
      EXPECT_LE(t.text.size(), kMaxTokenBytes);
    }
  }
}

TEST(SearchText, StemsInflections) {
  const std::pair<const char*, const char*> cases[] = {
      {"tools", "tool"},        {"queries", "query"},      {"policies", "policy"},
      {"boxes", "box"},         {"searches", "search"},    {"classes", "class"},
      {"statuses", "status"},   {"status", "status"},      {"access", "access"},
      {"analysis", "analysis"}, {"create", "creat"},       {"created", "creat"},
      {"creating", "creat"},    {"creates", "creat"},      {"creation", "creat"},
      {"running", "run"},       {"stopped", "stop"},       {"needed", "need"},
      {"need", "need"},         {"used", "use"},           {"using", "use"},
      {"named", "name"},        {"names", "name"},         {"listing", "list"},
      {"settings", "set"},      {"deployments", "deploy"}, {"organization", "organiz"},
      {"organize", "organiz"},  {"applied", "apply"},      {"string", "string"},
      {"api", "api"},           {"MySQL", "MySQL"},        {"café", "café"},
      {"updated", "updat"},     {"update", "updat"},       {"comment", "comment"},
      {"added", "add"},         {"adding", "add"},         {"add", "add"},
      {"embed", "embed"},       {"embedded", "embed"},     {"embeddings", "embed"},
      {"getting", "get"},       {"https", "https"},        {"logs", "log"},
  };
  for (const auto& [word, expected] : cases) EXPECT_EQ(stem(word), expected) << word;
}

TEST(SearchText, StopWords) {
  EXPECT_TRUE(isStopWord("the"));
  EXPECT_TRUE(isStopWord("me"));
  EXPECT_TRUE(isStopWord("please"));
  EXPECT_FALSE(isStopWord("list"));
  EXPECT_FALSE(isStopWord("all"));  // "list all ..." carries intent; IDF weighs it
  EXPECT_FALSE(isStopWord("The"));  // expects lower case
}

ToolDocument tool(std::string name, std::string description, boost::json::value schema = {}) {
  ToolDocument t;
  t.name = std::move(name);
  t.description = std::move(description);
  t.input_schema = std::move(schema);
  return t;
}

std::vector<ToolDocument> githubTools() {
  return {
      tool("create_issue", "Create a new issue in a GitHub repository",
           boost::json::parse(R"({"type":"object","properties":{
             "owner":{"type":"string","description":"Repository owner"},
             "repo":{"type":"string"},"title":{"type":"string"},
             "labels":{"type":"array","items":{"type":"string"}}}})")),
      tool("list_issues", "List issues in a GitHub repository with filtering options"),
      tool("get_pull_request", "Get details of a specific pull request"),
      tool("search_code", "Search for code across GitHub repositories"),
  };
}

std::vector<ToolDocument> fileTools() {
  return {
      tool("read_text_file", "Read the complete contents of a file as text"),
      tool("write_file", "Create a new file or overwrite an existing file"),
      tool("list_directory", "Get a detailed listing of all files and directories in a path"),
  };
}

std::string top(const SearchIndex& index, std::string_view query) {
  auto hits = index.search(query, 1);
  return hits.empty() ? "" : hits[0].server + ":" + hits[0].tool;
}

TEST(SearchIndex, FindsToolsByNameDescriptionAndParameters) {
  SearchIndex index;
  index.upsertServer("github", githubTools());
  index.upsertServer("files", fileTools());
  EXPECT_EQ(index.size(), 7u);
  EXPECT_EQ(top(index, "open a new issue"), "github:create_issue");
  EXPECT_EQ(top(index, "listIssues"), "github:list_issues");
  EXPECT_EQ(top(index, "show me the pull request details"), "github:get_pull_request");
  EXPECT_EQ(top(index, "read a file"), "files:read_text_file");
  EXPECT_EQ(top(index, "what is in this directory"), "files:list_directory");
  EXPECT_EQ(top(index, "issue labels owner"), "github:create_issue");  // parameter names
}

TEST(SearchIndex, ResultsAreSortedAndLimited) {
  SearchIndex index;
  index.upsertServer("github", githubTools());
  index.upsertServer("files", fileTools());
  auto hits = index.search("file issue repository code", 3);
  ASSERT_EQ(hits.size(), 3u);
  for (std::size_t i = 1; i < hits.size(); ++i) EXPECT_GE(hits[i - 1].score, hits[i].score);
  for (const Hit& h : hits) EXPECT_GT(h.score, 0.0);
  EXPECT_TRUE(index.search("file issue", 0).empty());
  // A limit beyond the matches returns only the matches.
  auto all = index.search("file", 100);
  EXPECT_GE(all.size(), 1u);
  EXPECT_LE(all.size(), 7u);
  std::set<std::string> unique;
  for (const Hit& h : all) unique.insert(h.server + ":" + h.tool);
  EXPECT_EQ(unique.size(), all.size());
}

TEST(SearchIndex, EmptyAndMeaninglessQueriesGiveNothing) {
  SearchIndex index;
  EXPECT_TRUE(index.search("issue", 5).empty());  // empty index
  index.upsertServer("github", githubTools());
  EXPECT_TRUE(index.search("", 5).empty());
  EXPECT_TRUE(index.search("   \t\n", 5).empty());
  EXPECT_TRUE(index.search("the of and to me", 5).empty());  // stop words only
  EXPECT_TRUE(index.search("zzzunknownzzz", 5).empty());
  EXPECT_TRUE(index.search("!!! ??? ...", 5).empty());
}

TEST(SearchIndex, HostileInputNeverCrashes) {
  SearchIndex index;
  std::mt19937 rng(99);
  auto noise = [&](std::size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xFF);
    return s;
  };
  std::vector<ToolDocument> tools;
  for (int i = 0; i < 50; ++i) tools.push_back(tool(noise(20), noise(300)));
  tools.push_back(tool("valid_tool", std::string(kMaxDescriptionBytes * 3, 'x') + " needle"));
  index.upsertServer(noise(10), std::move(tools));
  for (int i = 0; i < 200; ++i) index.search(noise(rng() % 200), 10);
  index.search(std::string(kMaxQueryBytes * 4, 'a'), 10);  // cut, not refused
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "word" + std::to_string(i) + " ";
  index.search(many, 10);  // more than kMaxQueryTerms distinct terms
  std::string common;
  for (int i = 0; i < 500; ++i) common += "needle valid tool x ";
  EXPECT_FALSE(index.search(common, 10).empty());  // repeated words, within the scan budget
  EXPECT_LE(index.size(), 51u);
}

TEST(SearchIndex, UpsertReplacesOnlyThatServer) {
  SearchIndex index;
  index.upsertServer("github", githubTools());
  index.upsertServer("files", fileTools());
  auto before = index.search("file", 10);

  // Replace github's tools: old ones vanish, new ones appear, files is unchanged.
  index.upsertServer("github", {tool("merge_pull_request", "Merge a pull request")});
  EXPECT_EQ(index.size(), 4u);
  EXPECT_TRUE(index.search("issue", 10).empty());
  EXPECT_EQ(top(index, "merge"), "github:merge_pull_request");
  std::vector<std::string> files_before, files_after;
  for (const Hit& h : before) {
    if (h.server == "files") files_before.push_back(h.tool);
  }
  for (const Hit& h : index.search("file", 10)) {
    if (h.server == "files") files_after.push_back(h.tool);
  }
  EXPECT_EQ(files_before, files_after);

  // Remove, re-add (document and term slots are reused), remove unknown.
  index.removeServer("github");
  EXPECT_EQ(index.size(), 3u);
  EXPECT_TRUE(index.search("merge pull request", 10).empty());
  index.removeServer("nope");
  index.upsertServer("github", githubTools());
  EXPECT_EQ(index.size(), 7u);
  EXPECT_EQ(top(index, "open a new issue"), "github:create_issue");
  index.upsertServer("github", {});  // an empty list removes the server
  EXPECT_EQ(index.size(), 3u);
  index.removeServer("files");
  EXPECT_EQ(index.size(), 0u);
  EXPECT_TRUE(index.search("file", 10).empty());
}

TEST(SearchIndex, ServerNameComesFromTheArgumentAndDuplicatesCountOnce) {
  SearchIndex index;
  auto tools = githubTools();
  tools[0].server = "somewhere-else";
  tools.push_back(tool("create_issue", "a second definition with the same name"));
  index.upsertServer("github", std::move(tools));
  EXPECT_EQ(index.size(), 4u);
  auto hits = index.search("create issue", 10);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].server, "github");
  EXPECT_EQ(top(index, "second definition"), "");  // the first definition wins
}

TEST(SearchIndex, ServerNameAndTitleAreSearchable) {
  SearchIndex index;
  index.upsertServer("slack", {tool("post", "Send a message")});
  ToolDocument titled = tool("t1", "Does a thing");
  titled.annotations = boost::json::parse(R"({"title": "Weather forecast"})");
  index.upsertServer("misc", {std::move(titled), tool("t2", "Does another thing")});
  EXPECT_EQ(top(index, "slack"), "slack:post");
  EXPECT_EQ(top(index, "weather"), "misc:t1");
}

TEST(SearchIndex, TiesAreDeterministic) {
  SearchIndex index;
  index.upsertServer("b", {tool("same", "identical words")});
  index.upsertServer("a", {tool("same", "identical words")});
  auto hits = index.search("identical words", 10);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].server, "a");
  EXPECT_EQ(hits[1].server, "b");
}

TEST(SearchIndex, IncrementalUpdatesMatchAFreshBuild) {
  // Replace and remove servers at random, then compare with an index built from the final
  // state alone. Scores may differ slightly (length normalisation is refreshed only when an
  // average drifts by more than 1%), rankings' members may not.
  std::mt19937 rng(5);
  const char* words[] = {"list",   "get",    "create",  "delete",  "resource", "group", "user",
                         "issue",  "file",   "cluster", "secret",  "vault",    "table", "query",
                         "server", "metric", "log",     "account", "storage",  "blob"};
  auto sentence = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += std::string(words[rng() % std::size(words)]) + " ";
    return s;
  };
  auto randomTools = [&] {
    std::vector<ToolDocument> tools;
    int n = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < n; ++i) {
      tools.push_back(tool(sentence(2) + std::to_string(i), sentence(5 + rng() % 20)));
    }
    return tools;
  };
  SearchIndex incremental;
  std::map<std::string, std::vector<ToolDocument>> state;
  for (int step = 0; step < 300; ++step) {
    std::string server = "s" + std::to_string(rng() % 12);
    if (rng() % 4 == 0) {
      incremental.removeServer(server);
      state.erase(server);
    } else {
      auto tools = randomTools();
      incremental.upsertServer(server, tools);
      state[server] = tools;
    }
  }
  SearchIndex fresh;
  std::size_t expected_size = 0;
  for (const auto& [server, tools] : state) {
    fresh.upsertServer(server, tools);
    expected_size += tools.size();
  }
  EXPECT_EQ(incremental.size(), fresh.size());
  EXPECT_LE(fresh.size(), expected_size);  // names repeated within a server count once
  for (int i = 0; i < 100; ++i) {
    std::string q = sentence(1 + static_cast<int>(rng() % 6));
    std::map<std::string, double> a, b;
    for (const Hit& h : incremental.search(q, 1000)) a[h.server + ":" + h.tool] = h.score;
    for (const Hit& h : fresh.search(q, 1000)) b[h.server + ":" + h.tool] = h.score;
    ASSERT_EQ(a.size(), b.size()) << q;
    for (const auto& [key, score] : a) {
      ASSERT_TRUE(b.contains(key)) << q << " " << key;
      EXPECT_NEAR(score, b[key], 0.03 * b[key]) << q << " " << key;
    }
  }
}

TEST(SearchIndex, MemoryAccountingTracksContent) {
  SearchIndex index;
  std::size_t empty = index.memoryBytes();
  index.upsertServer("github", githubTools());
  EXPECT_GT(index.memoryBytes(), empty);
  SearchIndex moved = std::move(index);
  EXPECT_EQ(moved.size(), 4u);
}

TEST(SearchFusion, SingleSignalIsPassedThrough) {
  SignalRanking lexical{"lexical", 1.0, 0.0, {{"s", "a", 5.0}, {"s", "b", 3.0}, {"s", "c", 1.0}}};
  auto fused = fuseRankings({lexical}, 2);
  ASSERT_EQ(fused.size(), 2u);
  EXPECT_EQ(fused[0].tool, "a");
  EXPECT_EQ(fused[0].score, 5.0);
  EXPECT_EQ(fused[1].tool, "b");
  EXPECT_TRUE(fuseRankings({lexical}, 0).empty());
}

TEST(SearchFusion, CombinesSignals) {
  SignalRanking lexical{"lexical", 1.0, 0.0, {{"s", "a", 10.0}, {"s", "b", 9.0}}};
  SignalRanking embedding{"embedding", 1.0, -1.0, {{"s", "b", 0.9}, {"s", "c", 0.8}}};
  // Convex: b is near the top of both lists, so it wins.
  auto convex = fuseRankings({lexical, embedding}, 10);
  ASSERT_EQ(convex.size(), 3u);
  EXPECT_EQ(convex[0].tool, "b");
  // RRF: b is ranked in both lists, so it wins too; a and c tie and break by name.
  FusionOptions rrf;
  rrf.method = FusionMethod::kReciprocalRank;
  auto ranked = fuseRankings({lexical, embedding}, 10, rrf);
  ASSERT_EQ(ranked.size(), 3u);
  EXPECT_EQ(ranked[0].tool, "b");
  EXPECT_EQ(ranked[1].tool, "a");
  EXPECT_EQ(ranked[2].tool, "c");
  // A zero weight silences a signal.
  embedding.weight = 0;
  auto lexical_only = fuseRankings({lexical, embedding}, 10);
  ASSERT_EQ(lexical_only.size(), 2u);
  EXPECT_EQ(lexical_only[0].tool, "a");
}

}  // namespace
}  // namespace mcpproxy::index
