// Offline, deterministic tool-poisoning scanner: reads one MCP tool definition (name, title,
// description and every string in its input/output schema) and reports what in it looks like an
// attack on the model that will read it: hidden instructions, directives with a harmful payload
// (shell commands, secret files, exfiltration URLs, demands to call or re-parameterise other
// tools, secrecy towards the user), invisible Unicode, escapes, encoded blobs, promotional
// manipulation. Self-contained (Boost.JSON and std); no I/O except runScanCommand.
#pragma once

#include <boost/json.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mcpproxy::policy {

// Limits on what one definition can make the scanner do.
inline constexpr std::size_t kMaxScanBytes = 64 * 1024;  // per string, rest reported not scanned
inline constexpr std::size_t kMaxScanDepth = 32;         // schema nesting
inline constexpr std::size_t kMaxScanFields = 4096;      // strings per tool

enum class Severity { kLow, kMedium, kHigh, kCritical };
enum class Verdict { kPass, kWarn, kBlock };

struct Finding {
  std::string rule;         // stable id: "hidden-instruction", "secret-path", "exfil-url", ...
  Severity severity;        //
  std::string field;        // "description", "name", "inputSchema.properties.note.description"
  std::size_t begin, end;   // byte span within that field's text
  std::string explanation;  // one sentence for a human
};

struct ScanResult {
  std::string name;
  Verdict verdict = Verdict::kPass;
  int risk = 0;  // 0-100
  std::vector<Finding> findings;
};

// Names of the other tools and servers the client will see, for shadowing and cross-references.
// May be empty.
struct ScanContext {
  std::vector<std::string> other_tool_names;
  std::vector<std::string> other_server_names;

  // The names above prepared for lookup (lower-case; names made only of word bytes in hash
  // sets, so a text is checked word by word instead of name by name). Optional: indexNames()
  // fills it once for a context that serves many scans (the router keeps one per server);
  // without it scanTool builds its own.
  struct NameIndex;
  std::shared_ptr<const NameIndex> index;
};

// Fills context.index from the two name lists.
void indexNames(ScanContext& context);

// Scans one tool definition. Never fails: non-string or missing members are skipped, invalid
// UTF-8 is reported, not trusted. Strings beyond kMaxScanBytes per field are scanned only up to
// that length (and reported as a length anomaly).
ScanResult scanTool(const boost::json::object& tool, const ScanContext& context = {});

std::string_view verdictName(Verdict verdict);     // "pass" | "warn" | "block"
std::string_view severityName(Severity severity);  // "low" | "medium" | "high" | "critical"

// {"name","verdict","risk","findings":[{"rule","severity","field","span":[b,e],"explanation"}]}
boost::json::object toJson(const ScanResult& result);

// A copy of `tool` in which every string (and object key), at any depth, has invisible
// characters removed: zero-width and bidi controls, Unicode tag characters, C0/C1 controls other
// than \n and \t, ANSI escape sequences, and invalid UTF-8 bytes. Everything else is unchanged.
boost::json::object sanitizeTool(const boost::json::object& tool);

// `mcpproxy security scan --tools-file FILE [--json]`: reads a JSON array of tool objects or a
// tools/list result ({"tools":[...]}, also inside {"result":{...}}), scans each tool and prints
// {"tools":[{name, verdict, risk, findings}]} in input order (json_output) or a readable table to
// stdout. Returns 0, or 2 with a message on stderr when the file is unreadable or not such JSON.
int runScanCommand(const std::string& tools_file, bool json_output);

}  // namespace mcpproxy::policy
