// Offline, deterministic tool-poisoning scanner: reads one MCP tool definition (name, title,
// description and every string in its input/output schema) and reports what in it looks like an
// attack on the model that will read it: hidden instructions, directives with a harmful payload
// (shell commands, secret files, exfiltration URLs, demands to call or re-parameterise other
// tools, secrecy towards the user), invisible Unicode, escapes, encoded blobs, promotional
// manipulation. Self-contained (Boost.JSON and std); no I/O except runScanCommand.
#pragma once

#include <boost/json.hpp>
#include <cstddef>
#include <span>
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

// What the scanner knows about the tool's own server. Cross-server checks (other servers' tools
// and names) are in cross_server.h; they add to a result made with this context.
struct ScanContext {
  // Names of the same server's tools (borrowed for the scan; compared ignoring ASCII case): a
  // demand to call one of them ("You MUST call resolve-library-id first") is that server's own
  // workflow, not an attack by itself.
  std::span<const std::string> sibling_tool_names;
  // Their titles (title or annotations.title), for "call 'Resolve Context7 Library ID' tool".
  std::span<const std::string> sibling_tool_titles;
};

// Scans one tool definition. Never fails: non-string or missing members are skipped, invalid
// UTF-8 is reported, not trusted. Strings beyond kMaxScanBytes per field are scanned only up to
// that length (and reported as a length anomaly).
ScanResult scanTool(const boost::json::object& tool, const ScanContext& context = {});

// Sets risk and verdict from result.findings (and orders them by severity, highest first): low
// findings count 5 points each up to 15 in all, medium 25, high 45, critical 80 (and block
// outright); an obligation to the model together with any other finding above low adds 15.
// Warn from 25, block from 70. scanTool ends with it; callers that add findings call it again.
void score(ScanResult& result);

std::string_view verdictName(Verdict verdict);     // "pass" | "warn" | "block"
std::string_view severityName(Severity severity);  // "low" | "medium" | "high" | "critical"

// {"name","verdict","risk","findings":[{"rule","severity","field","span":[b,e],"explanation"}]}
boost::json::object toJson(const ScanResult& result);

// A copy of `tool` in which every string (and object key), at any depth, has invisible
// characters removed: zero-width and bidi controls, Unicode tag characters, C0/C1 controls other
// than \n and \t, ANSI escape sequences, and invalid UTF-8 bytes. Everything else is unchanged.
boost::json::object sanitizeTool(const boost::json::object& tool);

// Reads a JSON array of tool objects or a tools/list result ({"tools":[...]}, also inside
// {"result":{...}}) into `tools`; false with the reason in `why` when the file is unreadable or
// not such JSON.
bool loadToolsFile(const std::string& path, boost::json::array& tools, std::string& why);

// Prints {"tools":[{name, verdict, risk, findings}]} in the given order (json_output) or a
// readable table with a summary line to stdout.
void printScanResults(const std::vector<ScanResult>& results, bool json_output);

// `mcpproxy security scan --tools-file FILE [--json]`: scans each tool of the file (one server's
// listing: the other tools of the file are its siblings) and prints the results in input order.
// Returns 0, or 2 with a message on stderr when the file is unusable.
int runScanCommand(const std::string& tools_file, bool json_output);

}  // namespace mcpproxy::policy
