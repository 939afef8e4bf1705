// Config parsing: both mcpServers forms, aliases, defaults, protocols, unknown keys, errors that
// name the field, listen addresses, durations, and the atomic file writer in a temp directory.
#include "config/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <random>
#include <sstream>

namespace mcpproxy::config {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

Config parseOk(std::string_view text, std::vector<std::string>* warnings_out = nullptr) {
  std::vector<std::string> warnings;
  auto config = parseConfig(text, warnings);
  EXPECT_TRUE(config.has_value()) << text << "\n-> " << config.error().describe();
  if (warnings_out != nullptr) *warnings_out = warnings;
  return config ? std::move(*config) : Config{};
}

// The error message for text that must not parse.
std::string parseError(std::string_view text) {
  std::vector<std::string> warnings;
  auto config = parseConfig(text, warnings);
  EXPECT_FALSE(config.has_value()) << text;
  if (config) return "";
  EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument);
  return config.error().message;
}

// One server in the array form, from the JSON members given.
std::string oneServer(std::string_view members) {
  return R"({"mcpServers":[{)" + std::string(members) + "}]}";
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---------------------------------------------------------------------------------------------
// Defaults and top-level keys

TEST(ConfigParse, EmptyObjectGivesDefaults) {
  std::vector<std::string> warnings;
  Config c = parseOk("{}", &warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.data_dir, "");
  EXPECT_TRUE(c.api_key.empty());
  EXPECT_TRUE(c.servers.empty());
  EXPECT_EQ(c.call_timeout, 50s);
  EXPECT_EQ(c.init_timeout, 30s);
  EXPECT_EQ(c.health_interval, 30s);
  EXPECT_EQ(c.session_idle_timeout, 1h);
  EXPECT_EQ(c.tools_page_size, 1000u);
  EXPECT_EQ(c.max_request_bytes, 4u * 1024 * 1024);
  EXPECT_EQ(c.max_json_depth, 64u);
  EXPECT_TRUE(c.trusted_hosts.empty());
  EXPECT_EQ(c.log_level, "info");
  EXPECT_FALSE(c.servers_as_object);
  EXPECT_TRUE(c.unknown.empty());
}

TEST(ConfigParse, TopLevelKeys) {
  std::vector<std::string> warnings;
  Config c = parseOk(R"({
    "listen": "127.0.0.1:9090",
    "data_dir": "~/data",
    "api_key": "s3cret",
    "call_tool_timeout": "90s",
    "init_timeout": 5,
    "health_check_interval": 0,
    "session_idle_timeout": "2h",
    "tools_page_size": 50,
    "max_request_bytes": 1024,
    "max_json_depth": 16,
    "trusted_hosts": ["proxy.example", "10.0.0.2"],
    "log_level": "debug",
    "mcpServers": []
  })",
                     &warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(c.listen, "127.0.0.1:9090");
  EXPECT_EQ(c.data_dir, "~/data");
  EXPECT_EQ(c.api_key.reveal(), "s3cret");
  EXPECT_EQ(c.call_timeout, 90s);
  EXPECT_EQ(c.init_timeout, 5s);
  EXPECT_EQ(c.health_interval, 0ms);
  EXPECT_EQ(c.session_idle_timeout, 2h);
  EXPECT_EQ(c.tools_page_size, 50u);
  EXPECT_EQ(c.max_request_bytes, 1024u);
  EXPECT_EQ(c.max_json_depth, 16u);
  EXPECT_EQ(c.trusted_hosts, (std::vector<std::string>{"proxy.example", "10.0.0.2"}));
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_FALSE(c.servers_as_object);
}

TEST(ConfigParse, CallTimeoutAlias) {
  EXPECT_EQ(parseOk(R"({"call_timeout":"3m"})").call_timeout, 3min);
}

TEST(ConfigParse, NullMcpServersMeansNone) {
  Config c = parseOk(R"({"mcpServers":null})");
  EXPECT_TRUE(c.servers.empty());
}

TEST(ConfigParse, DefaultConfigTextParses) {
  std::vector<std::string> warnings;
  Config c = parseOk(defaultConfigText(), &warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.call_timeout, 50s);
  EXPECT_TRUE(c.servers.empty());
  EXPECT_FALSE(c.servers_as_object);
}

// ---------------------------------------------------------------------------------------------
// Servers: both forms

TEST(ConfigServers, ArrayForm) {
  std::vector<std::string> warnings;
  Config c = parseOk(R"({"mcpServers":[
    {"name":"files","command":"npx","args":["-y","@modelcontextprotocol/server-filesystem","/tmp"],
     "env":{"PORT":3000,"DEBUG":true,"TOKEN":"t"},"working_dir":"/srv","enabled":true,
     "quarantined":false,"call_timeout":"10s"},
    {"name":"remote","url":"https://example.com/mcp","headers":{"Authorization":"Bearer x"},
     "protocol":"http","enabled":false,"quarantined":true,"prefix":"r_"}
  ]})",
                     &warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_FALSE(c.servers_as_object);
  ASSERT_EQ(c.servers.size(), 2u);

  const ServerConfig& files = c.servers[0];
  EXPECT_EQ(files.name, "files");
  EXPECT_EQ(files.command, "npx");
  EXPECT_EQ(files.args,
            (std::vector<std::string>{"-y", "@modelcontextprotocol/server-filesystem", "/tmp"}));
  // Numbers and booleans in env become their JSON text; order is kept.
  EXPECT_EQ(files.env, (KeyValues{{"PORT", "3000"}, {"DEBUG", "true"}, {"TOKEN", "t"}}));
  EXPECT_EQ(files.working_dir, "/srv");
  EXPECT_TRUE(files.url.empty());
  EXPECT_EQ(files.protocol, Protocol::kAuto);
  EXPECT_EQ(files.effectiveProtocol(), Protocol::kStdio);
  EXPECT_TRUE(files.enabled);
  EXPECT_EQ(files.quarantined, false);
  EXPECT_FALSE(files.prefix.has_value());
  EXPECT_EQ(files.toolPrefix(), "files__");
  EXPECT_EQ(files.call_timeout, 10s);
  EXPECT_TRUE(files.unknown.empty());

  const ServerConfig& remote = c.servers[1];
  EXPECT_EQ(remote.name, "remote");
  EXPECT_EQ(remote.url, "https://example.com/mcp");
  EXPECT_EQ(remote.headers, (KeyValues{{"Authorization", "Bearer x"}}));
  EXPECT_EQ(remote.protocol, Protocol::kStreamableHttp);
  EXPECT_FALSE(remote.enabled);
  EXPECT_EQ(remote.quarantined, true);
  EXPECT_EQ(remote.toolPrefix(), "r_");
  EXPECT_FALSE(remote.call_timeout.has_value());
}

TEST(ConfigServers, ClaudeDesktopObjectForm) {
  Config c = parseOk(R"({"mcpServers":{
    "filesystem":{"command":"npx","args":["-y","@modelcontextprotocol/server-filesystem"]},
    "everything":{"command":"npx","args":["-y","@modelcontextprotocol/server-everything"],
                  "env":{"A":"1"}},
    "web":{"type":"http","url":"http://127.0.0.1:3001/mcp"}
  }})");
  EXPECT_TRUE(c.servers_as_object);
  ASSERT_EQ(c.servers.size(), 3u);
  // The key is the name, and the file's order is kept.
  EXPECT_EQ(c.servers[0].name, "filesystem");
  EXPECT_EQ(c.servers[1].name, "everything");
  EXPECT_EQ(c.servers[2].name, "web");
  EXPECT_EQ(c.servers[1].env, (KeyValues{{"A", "1"}}));
  EXPECT_EQ(c.servers[2].protocol, Protocol::kStreamableHttp);
  EXPECT_EQ(c.servers[0].toolPrefix(), "filesystem__");
}

TEST(ConfigServers, ObjectFormNameMustMatchTheKey) {
  Config same = parseOk(R"({"mcpServers":{"a":{"name":"a","command":"x"}}})");
  ASSERT_EQ(same.servers.size(), 1u);
  EXPECT_EQ(same.servers[0].name, "a");

  EXPECT_EQ(parseError(R"({"mcpServers":{"a":{"name":"b","command":"x"}}})"),
            "mcpServers.a.name: differs from the key \"a\"");
  EXPECT_EQ(parseError(R"({"mcpServers":{"a":{"name":5,"command":"x"}}})"),
            "mcpServers.a.name: differs from the key \"a\"");
}

TEST(ConfigServers, ObjectFormKeyMustBeAValidName) {
  EXPECT_TRUE(contains(parseError(R"({"mcpServers":{"bad name":{"command":"x"}}})"),
                       "mcpServers.bad name.name: \"bad name\""));
  EXPECT_EQ(parseError(R"({"mcpServers":{"":{"command":"x"}}})"), "mcpServers..name: required");
}

TEST(ConfigServers, Aliases) {
  Config c = parseOk(R"({"mcpServers":[
    {"name":"a","command":"x","cwd":"/work","disabled":true,"call_tool_timeout":"1m"},
    {"name":"b","url":"http://h/mcp","type":"sse"},
    {"name":"c","url":"http://h/mcp","transport":"streamable-http","disabled":false}
  ]})");
  ASSERT_EQ(c.servers.size(), 3u);
  EXPECT_EQ(c.servers[0].working_dir, "/work");
  EXPECT_FALSE(c.servers[0].enabled);
  EXPECT_EQ(c.servers[0].call_timeout, 1min);
  EXPECT_EQ(c.servers[1].protocol, Protocol::kSse);
  EXPECT_EQ(c.servers[2].protocol, Protocol::kStreamableHttp);
  EXPECT_TRUE(c.servers[2].enabled);
}

TEST(ConfigServers, LaterOfEnabledAndDisabledWins) {
  Config c = parseOk(R"({"mcpServers":[
    {"name":"a","command":"x","enabled":true,"disabled":true},
    {"name":"b","command":"x","disabled":true,"enabled":true}
  ]})");
  EXPECT_FALSE(c.servers[0].enabled);
  EXPECT_TRUE(c.servers[1].enabled);
}

TEST(ConfigServers, Prefix) {
  Config c = parseOk(R"({"mcpServers":[
    {"name":"a","command":"x"},
    {"name":"b","command":"x","prefix":""},
    {"name":"c","command":"x","prefix":"C-1.x_"}
  ]})");
  EXPECT_FALSE(c.servers[0].prefix.has_value());
  EXPECT_EQ(c.servers[0].toolPrefix(), "a__");
  ASSERT_TRUE(c.servers[1].prefix.has_value());
  EXPECT_EQ(c.servers[1].toolPrefix(), "");
  EXPECT_EQ(c.servers[2].toolPrefix(), "C-1.x_");

  EXPECT_TRUE(
      parseOk(oneServer(R"("name":"a","command":"x","prefix":")" + std::string(64, 'p') + "\""))
          .servers.size() == 1);
  EXPECT_EQ(
      parseError(oneServer(R"("name":"a","command":"x","prefix":")" + std::string(65, 'p') + "\"")),
      "mcpServers[0].prefix: a prefix may use only A-Z a-z 0-9 _ - . and at most 64 "
      "characters");
  EXPECT_TRUE(parseError(oneServer(R"("name":"a","command":"x","prefix":"a b")"))
                  .starts_with("mcpServers[0].prefix: "));
  EXPECT_EQ(parseError(oneServer(R"("name":"a","command":"x","prefix":null)")),
            "mcpServers[0].prefix: expected a string, got null");
}

TEST(ConfigServers, Protocols) {
  struct Case {
    const char* text;
    Protocol protocol;
  };
  for (const Case& c :
       {Case{"stdio", Protocol::kStdio}, Case{"http", Protocol::kStreamableHttp},
        Case{"streamable-http", Protocol::kStreamableHttp},
        Case{"streamableHttp", Protocol::kStreamableHttp}, Case{"sse", Protocol::kSse},
        Case{"auto", Protocol::kAuto}, Case{"", Protocol::kAuto}}) {
    SCOPED_TRACE(c.text);
    Config config = parseOk(oneServer(R"("name":"a","command":"x","url":"http://h/","protocol":")" +
                                      std::string(c.text) + "\""));
    ASSERT_EQ(config.servers.size(), 1u);
    EXPECT_EQ(config.servers[0].protocol, c.protocol);
  }
  EXPECT_EQ(parseError(oneServer(R"("name":"a","command":"x","protocol":"websocket")")),
            "mcpServers[0].protocol: unknown protocol \"websocket\" (use stdio, http, sse, "
            "streamable-http or auto)");
  EXPECT_EQ(parseError(oneServer(R"("name":"a","command":"x","type":"STDIO")")),
            "mcpServers[0].type: unknown protocol \"STDIO\" (use stdio, http, sse, "
            "streamable-http or auto)");
  EXPECT_EQ(parseError(oneServer(R"("name":"a","command":"x","transport":1)")),
            "mcpServers[0].transport: expected a string, got a number");
}

TEST(ConfigServers, ProtocolNamesAndEffectiveProtocol) {
  EXPECT_EQ(protocolName(Protocol::kAuto), "auto");
  EXPECT_EQ(protocolName(Protocol::kStdio), "stdio");
  EXPECT_EQ(protocolName(Protocol::kStreamableHttp), "streamable-http");
  EXPECT_EQ(protocolName(Protocol::kSse), "sse");

  ServerConfig s;
  s.command = "x";
  EXPECT_EQ(s.effectiveProtocol(), Protocol::kStdio);
  s.url = "http://h/";
  EXPECT_EQ(s.effectiveProtocol(), Protocol::kStdio);  // a command wins under auto
  s.command.clear();
  EXPECT_EQ(s.effectiveProtocol(), Protocol::kStreamableHttp);
  s.protocol = Protocol::kSse;
  EXPECT_EQ(s.effectiveProtocol(), Protocol::kSse);
}

TEST(ConfigServers, TransportRequirements) {
  EXPECT_EQ(parseError(oneServer(R"("name":"a")")),
            "mcpServers[0]: needs \"command\" (stdio) or \"url\" (http)");
  EXPECT_EQ(parseError(oneServer(R"("name":"a","url":"http://h/","protocol":"stdio")")),
            "mcpServers[0].command: required for protocol stdio");
  EXPECT_EQ(parseError(oneServer(R"("name":"a","command":"x","protocol":"http")")),
            "mcpServers[0].url: required for an HTTP protocol");
  EXPECT_EQ(parseError(oneServer(R"("name":"a","command":"x","protocol":"sse")")),
            "mcpServers[0].url: required for an HTTP protocol");
  EXPECT_EQ(parseError(oneServer(R"("name":"a","url":"ftp://h/")")),
            "mcpServers[0].url: must start with http:// or https://");
  EXPECT_EQ(parseError(oneServer(R"("name":"a","url":"example.com/mcp")")),
            "mcpServers[0].url: must start with http:// or https://");
  // A command with a non-http url is fine under auto: the url is not used.
  EXPECT_EQ(parseOk(oneServer(R"("name":"a","command":"x","url":"ftp://h/")")).servers.size(), 1u);
}

TEST(ConfigServers, Names) {
  EXPECT_EQ(parseError(oneServer(R"("command":"x")")), "mcpServers[0].name: required");
  EXPECT_EQ(parseError(oneServer(R"("name":"","command":"x")")), "mcpServers[0].name: required");
  EXPECT_EQ(parseError(oneServer(R"("name":"a/b","command":"x")")),
            "mcpServers[0].name: \"a/b\": use 1-64 characters of A-Z a-z 0-9 _ - .");
  EXPECT_TRUE(parseError(oneServer(R"("name":")" + std::string(65, 'n') + R"(","command":"x")"))
                  .starts_with("mcpServers[0].name: "));
  EXPECT_EQ(parseOk(oneServer(R"("name":")" + std::string(64, 'n') + R"(","command":"x")"))
                .servers.size(),
            1u);
  EXPECT_EQ(parseOk(oneServer(R"("name":"A-z_0.9","command":"x")")).servers[0].name, "A-z_0.9");
}

TEST(ConfigServers, DuplicateNames) {
  EXPECT_EQ(parseError(R"({"mcpServers":[{"name":"a","command":"x"},{"name":"b","command":"x"},
                                         {"name":"a","url":"http://h/"}]})"),
            "mcpServers: duplicate server name \"a\"");
  // Names are case-sensitive.
  EXPECT_EQ(parseOk(R"({"mcpServers":[{"name":"a","command":"x"},{"name":"A","command":"x"}]})")
                .servers.size(),
            2u);
}

// ---------------------------------------------------------------------------------------------
// Unknown keys

TEST(ConfigUnknownKeys, KeptAndWarned) {
  std::vector<std::string> warnings;
  Config c = parseOk(R"({"future_option":{"x":[1,2]},"mcpServers":[
    {"name":"a","command":"x","autoApprove":["read"],"alwaysAllow":true}
  ]})",
                     &warnings);
  ASSERT_TRUE(c.unknown.contains("future_option"));
  EXPECT_EQ(c.unknown.at("future_option"), (json::value{{"x", json::array{1, 2}}}));
  ASSERT_EQ(c.servers.size(), 1u);
  EXPECT_EQ(c.servers[0].unknown.at("autoApprove"), (json::array{"read"}));
  EXPECT_EQ(c.servers[0].unknown.at("alwaysAllow"), json::value(true));
  EXPECT_EQ(warnings,
            (std::vector<std::string>{"future_option: unknown key, kept and ignored",
                                      "mcpServers[0].autoApprove: unknown key, kept and ignored",
                                      "mcpServers[0].alwaysAllow: unknown key, kept and ignored"}));
}

TEST(ConfigUnknownKeys, ObjectFormPath) {
  std::vector<std::string> warnings;
  Config c = parseOk(R"({"mcpServers":{"fs":{"command":"x","autoApprove":[]}}})", &warnings);
  EXPECT_EQ(warnings,
            (std::vector<std::string>{"mcpServers.fs.autoApprove: unknown key, kept and ignored"}));
  EXPECT_TRUE(c.servers[0].unknown.contains("autoApprove"));
  // The injected name is a known key, not an unknown one.
  EXPECT_FALSE(c.servers[0].unknown.contains("name"));
}

// ---------------------------------------------------------------------------------------------
// Invalid values name the field

TEST(ConfigErrors, ServerFieldPaths) {
  const std::string ok = R"({"name":"ok","command":"x"},)";
  auto second = [&](std::string_view members) {
    return parseError(R"({"mcpServers":[)" + ok + "{" + std::string(members) + "}]}");
  };
  EXPECT_EQ(second(R"("name":"b","command":"x","args":["a",1])"),
            "mcpServers[1].args[1]: expected a string, got a number");
  EXPECT_EQ(second(R"("name":"b","command":"x","args":"-y")"),
            "mcpServers[1].args: expected an array of strings, got a string");
  EXPECT_EQ(second(R"("name":"b","command":["x"])"),
            "mcpServers[1].command: expected a string, got an array");
  EXPECT_EQ(second(R"("name":"b","command":"x","env":{"A":{}})"),
            "mcpServers[1].env.A: expected a string, got an object");
  EXPECT_EQ(second(R"("name":"b","command":"x","env":{"A":null})"),
            "mcpServers[1].env.A: expected a string, got null");
  EXPECT_EQ(second(R"("name":"b","command":"x","env":["A=1"])"),
            "mcpServers[1].env: expected an object of strings, got an array");
  EXPECT_EQ(second(R"("name":"b","command":"x","env":{"":"v"})"), "mcpServers[1].env: empty name");
  EXPECT_EQ(second(R"("name":"b","url":"http://h/","headers":{"X":[1]})"),
            "mcpServers[1].headers.X: expected a string, got an array");
  EXPECT_EQ(second(R"("name":"b","command":"x","enabled":"yes")"),
            "mcpServers[1].enabled: expected true or false, got a string");
  EXPECT_EQ(second(R"("name":"b","command":"x","disabled":1)"),
            "mcpServers[1].disabled: expected true or false, got a number");
  EXPECT_EQ(second(R"("name":"b","command":"x","quarantined":null)"),
            "mcpServers[1].quarantined: expected true or false, got null");
  EXPECT_EQ(second(R"("name":"b","command":"x","cwd":false)"),
            "mcpServers[1].cwd: expected a string, got a boolean");
  EXPECT_EQ(second(R"("name":"b","command":"x","call_timeout":"soon")"),
            "mcpServers[1].call_timeout: bad duration \"soon\"");
  EXPECT_EQ(second(R"("name":7,"command":"x")"),
            "mcpServers[1].name: expected a string, got a number");
}

TEST(ConfigErrors, ObjectFormFieldPaths) {
  EXPECT_EQ(parseError(R"({"mcpServers":{"fs":{"command":"x","args":[null]}}})"),
            "mcpServers.fs.args[0]: expected a string, got null");
  EXPECT_EQ(parseError(R"({"mcpServers":{"fs":"npx"}})"),
            "mcpServers.fs: expected an object, got a string");
}

TEST(ConfigErrors, ServerListShape) {
  EXPECT_EQ(parseError(R"({"mcpServers":"all"})"),
            "mcpServers: expected an array or an object, got a string");
  EXPECT_EQ(parseError(R"({"mcpServers":[{"name":"a","command":"x"},[]]})"),
            "mcpServers[1]: expected an object, got an array");
}

TEST(ConfigErrors, TopLevelFields) {
  EXPECT_EQ(parseError(R"({"listen":8080})"), "listen: expected a string, got a number");
  EXPECT_EQ(parseError(R"({"data_dir":[]})"), "data_dir: expected a string, got an array");
  EXPECT_EQ(parseError(R"({"api_key":1})"), "api_key: expected a string, got a number");
  EXPECT_EQ(parseError(R"({"log_level":"verbose"})"),
            "log_level: use one of trace, debug, info, warn, error, off");
  EXPECT_EQ(parseError(R"({"trusted_hosts":["a",1]})"),
            "trusted_hosts[1]: expected a string, got a number");
  EXPECT_EQ(parseError(R"({"trusted_hosts":"a"})"),
            "trusted_hosts: expected an array of strings, got a string");
  for (std::string_view bad : {"0", "-1", "1.5", "\"10\"", "null"}) {
    SCOPED_TRACE(std::string(bad));
    EXPECT_TRUE(parseError(R"({"tools_page_size":)" + std::string(bad) + "}")
                    .starts_with("tools_page_size: expected a positive integer, got "));
  }
  EXPECT_TRUE(parseError(R"({"max_json_depth":0})").starts_with("max_json_depth: "));
  // Deeper limits would let a peer exhaust the stack (Boost.JSON copies values recursively).
  EXPECT_EQ(parseOk(R"({"max_json_depth":1000})").max_json_depth, 1000u);
  EXPECT_EQ(parseError(R"({"max_json_depth":1001})"), "max_json_depth: at most 1000");
  EXPECT_TRUE(parseError(R"({"max_request_bytes":-5})").starts_with("max_request_bytes: "));
  EXPECT_EQ(parseError(R"({"call_tool_timeout":"abc"})"),
            "call_tool_timeout: bad duration \"abc\"");
  EXPECT_EQ(parseError(R"({"init_timeout":-1})"), "init_timeout: duration out of range");
  EXPECT_EQ(parseError(R"({"health_check_interval":true})"),
            "health_check_interval: expected a duration like \"30s\" or a number of seconds");
  EXPECT_EQ(parseError(R"({"session_idle_timeout":""})"), "session_idle_timeout: empty duration");
}

TEST(ConfigErrors, NotJsonOrNotAnObject) {
  EXPECT_TRUE(parseError("{").starts_with("not valid JSON: "));
  EXPECT_TRUE(parseError("").starts_with("not valid JSON: "));
  EXPECT_TRUE(parseError(R"({"listen":"a",})").starts_with("not valid JSON: "));
  EXPECT_EQ(parseError("[]"), "the top level must be a JSON object");
  EXPECT_EQ(parseError("\"config\""), "the top level must be a JSON object");
  std::string deep = R"({"x":)" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_EQ(parseError(deep), "not valid JSON: nesting deeper than 64");
}

// ---------------------------------------------------------------------------------------------
// listen

TEST(ConfigListen, PortOnlyBindsLoopbackWithAWarning) {
  std::vector<std::string> warnings;
  Config c = parseOk(R"({"listen":":8080"})", &warnings);
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_TRUE(warnings[0].starts_with("listen: \":8080\" has no host; binding 127.0.0.1"))
      << warnings[0];
  EXPECT_TRUE(contains(warnings[0], "0.0.0.0:8080")) << warnings[0];
}

TEST(ConfigListen, Normalisation) {
  struct Case {
    const char* in;
    const char* out;
    bool warns;
  };
  for (const Case& c :
       {Case{"localhost:9000", "127.0.0.1:9000", false}, Case{"127.0.0.1:0", "127.0.0.1:0", false},
        Case{"127.1.2.3:80", "127.1.2.3:80", false}, Case{"[::1]:8080", "[::1]:8080", false},
        Case{"127.0.0.1:08080", "127.0.0.1:8080", false},
        Case{"0.0.0.0:8080", "0.0.0.0:8080", true}, Case{"[::]:8080", "[::]:8080", true},
        Case{"192.168.1.5:65535", "192.168.1.5:65535", true}}) {
    SCOPED_TRACE(c.in);
    std::vector<std::string> warnings;
    Config config = parseOk(R"({"listen":")" + std::string(c.in) + "\"}", &warnings);
    EXPECT_EQ(config.listen, c.out);
    EXPECT_EQ(warnings.size(), c.warns ? 1u : 0u);
    if (c.warns && !warnings.empty()) {
      EXPECT_TRUE(contains(warnings[0], "reachable from other machines")) << warnings[0];
    }
  }
}

TEST(ConfigListen, Errors) {
  EXPECT_EQ(parseError(R"({"listen":"8080"})"), "listen: expected host:port");
  EXPECT_EQ(parseError(R"({"listen":"127.0.0.1:"})"), "listen: bad port \"\"");
  EXPECT_EQ(parseError(R"({"listen":"127.0.0.1:65536"})"), "listen: bad port \"65536\"");
  EXPECT_EQ(parseError(R"({"listen":"127.0.0.1:http"})"), "listen: bad port \"http\"");
  EXPECT_EQ(parseError(R"({"listen":"127.0.0.1:80x"})"), "listen: bad port \"80x\"");
  EXPECT_EQ(parseError(R"({"listen":"127.0.0.1:-1"})"), "listen: bad port \"-1\"");
  EXPECT_EQ(parseError(R"({"listen":"[::1]8080"})"), "listen: expected [ipv6]:port");
  EXPECT_EQ(parseError(R"({"listen":"[::1"})"), "listen: expected [ipv6]:port");
}

TEST(ConfigListen, ParseListenAddress) {
  auto v6 = parseListenAddress("[fe80::1]:443");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->host, "fe80::1");
  EXPECT_EQ(v6->port, 443);
  auto bare = parseListenAddress(":1");
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->host, "127.0.0.1");
  EXPECT_EQ(bare->port, 1);
  auto name = parseListenAddress("example.com:8443");
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->host, "example.com");
  EXPECT_EQ(name->port, 8443);
  auto bad = parseListenAddress("");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Durations

std::optional<milliseconds> duration(const json::value& v) {
  auto d = parseDuration(v);
  if (!d) return std::nullopt;
  return *d;
}

TEST(ConfigDuration, Numbers) {
  EXPECT_EQ(duration(30), 30s);
  EXPECT_EQ(duration(0), 0ms);
  EXPECT_EQ(duration(0.5), 500ms);
  EXPECT_EQ(duration(86400 * 365), std::chrono::hours(24 * 365));
  EXPECT_EQ(duration(86400 * 365 + 1), std::nullopt);
  EXPECT_EQ(duration(-1), std::nullopt);
  EXPECT_EQ(duration(1e300), std::nullopt);
}

TEST(ConfigDuration, Strings) {
  EXPECT_EQ(duration("500ms"), 500ms);
  EXPECT_EQ(duration("30s"), 30s);
  EXPECT_EQ(duration("2m"), 2min);
  EXPECT_EQ(duration("1h"), 1h);
  EXPECT_EQ(duration("1m30s"), 90s);
  EXPECT_EQ(duration("1h2m3s4ms"), 1h + 2min + 3s + 4ms);
  EXPECT_EQ(duration("1.5s"), 1500ms);
  EXPECT_EQ(duration("0s"), 0ms);
  EXPECT_EQ(duration("8760h"), std::chrono::hours(8760));
}

TEST(ConfigDuration, BadStrings) {
  for (const char* bad :
       {"", "30", "s", "5d", "-1s", "1s-", "1 s", " 1s", "1S", "1.5.5s", "abc", "1m-30s", "+1s"}) {
    SCOPED_TRACE(bad);
    auto d = parseDuration(json::value(bad));
    ASSERT_FALSE(d.has_value());
    EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(parseDuration(json::value(json::array{})).error().message,
            "expected a duration like \"30s\" or a number of seconds");
  EXPECT_EQ(parseDuration(json::value(nullptr)).error().message,
            "expected a duration like \"30s\" or a number of seconds");
}

TEST(ConfigDuration, OutOfRangeAndNonFiniteStringsAreRejected) {
  // Before the fix these reached a double -> long long conversion that overflowed (UB).
  for (const char* bad : {"inf", "infs", "infinityh", "nans", "nanms", "1e300h", "1e30ms",
                          "99999999999999999h", "8761h", "8760h1s", "5000000h5000000h"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(parseDuration(json::value(bad)).has_value());
  }
}

// ---------------------------------------------------------------------------------------------
// Files

class ConfigFiles : public testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    std::random_device random;
    dir_ = fs::temp_directory_path() / ("mcpproxy-config-test-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(counter++) + "-" + std::to_string(random()));
    ASSERT_TRUE(fs::create_directory(dir_));
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static std::string readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  static unsigned mode(const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }

  fs::path dir_;
};

TEST_F(ConfigFiles, WriteFileAtomicWritesAndReplaces) {
  fs::path path = dir_ / "mcp_config.json";
  ASSERT_TRUE(writeFileAtomic(path, "first"));
  EXPECT_EQ(readFile(path), "first");
  EXPECT_EQ(mode(path), 0600u);

  ASSERT_TRUE(writeFileAtomic(path, std::string("second\0with nul", 15)));
  EXPECT_EQ(readFile(path), std::string("second\0with nul", 15));

  ASSERT_TRUE(writeFileAtomic(path, ""));
  EXPECT_EQ(readFile(path), "");
  EXPECT_TRUE(fs::is_regular_file(path));

  // No temporary file is left behind.
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    names.push_back(entry.path().filename());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"mcp_config.json"}));
}

TEST_F(ConfigFiles, WriteFileAtomicCreatesPrivateParents) {
  fs::path path = dir_ / "a" / "b" / "mcp_config.json";
  auto written = writeFileAtomic(path, defaultConfigText());
  ASSERT_TRUE(written) << written.error().describe();
  EXPECT_EQ(readFile(path), defaultConfigText());
  EXPECT_EQ(mode(dir_ / "a"), 0700u);
  EXPECT_EQ(mode(dir_ / "a" / "b"), 0700u);
}

TEST_F(ConfigFiles, WriteFileAtomicLargeContent) {
  std::string big(3 * 1024 * 1024 + 17, 'z');
  fs::path path = dir_ / "big.json";
  ASSERT_TRUE(writeFileAtomic(path, big));
  EXPECT_EQ(fs::file_size(path), big.size());
}

TEST_F(ConfigFiles, WriteFileAtomicFailsUnderARegularFile) {
  fs::path blocker = dir_ / "file";
  ASSERT_TRUE(writeFileAtomic(blocker, "x"));
  auto failed = writeFileAtomic(blocker / "sub" / "c.json", "y");
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code, ErrorCode::kIo);
  EXPECT_TRUE(contains(failed.error().message, "cannot create")) << failed.error().message;
  EXPECT_EQ(readFile(blocker), "x");
}

TEST_F(ConfigFiles, WriteFileAtomicFailsWhenTheTargetIsADirectory) {
  fs::create_directory(dir_ / "taken");
  auto failed = writeFileAtomic(dir_ / "taken", "y");
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code, ErrorCode::kIo);
  // The temporary file was removed again.
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST_F(ConfigFiles, LoadConfigFile) {
  fs::path path = dir_ / "mcp_config.json";
  ASSERT_TRUE(writeFileAtomic(path, R"({"mcpServers":{"fs":{"command":"npx"}},"extra":1})"));
  std::vector<std::string> warnings;
  auto config = loadConfigFile(path, warnings);
  ASSERT_TRUE(config.has_value()) << config.error().describe();
  ASSERT_EQ(config->servers.size(), 1u);
  EXPECT_EQ(config->servers[0].name, "fs");
  EXPECT_EQ(warnings, (std::vector<std::string>{"extra: unknown key, kept and ignored"}));
}

TEST_F(ConfigFiles, LoadConfigFileErrorsNameTheFile) {
  fs::path path = dir_ / "mcp_config.json";
  ASSERT_TRUE(writeFileAtomic(path, R"({"mcpServers":[{"name":"a","command":"x","args":[1]}]})"));
  std::vector<std::string> warnings;
  auto bad = loadConfigFile(path, warnings);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "config file " + path.string() +
                                     ": mcpServers[0].args[0]: expected a string, got a number");

  auto missing = loadConfigFile(dir_ / "absent.json", warnings);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(contains(missing.error().message, (dir_ / "absent.json").string()));
}

TEST_F(ConfigFiles, DefaultConfigRoundTripsThroughAFile) {
  fs::path path = dir_ / "nested" / "mcp_config.json";
  ASSERT_TRUE(writeFileAtomic(path, defaultConfigText()));
  std::vector<std::string> warnings;
  auto config = loadConfigFile(path, warnings);
  ASSERT_TRUE(config.has_value()) << config.error().describe();
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(config->listen, "127.0.0.1:8080");
}

}  // namespace
}  // namespace mcpproxy::config
