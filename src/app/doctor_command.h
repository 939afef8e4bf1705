// `mcpproxy doctor [--json]`: checks what mcpproxy needs before a person has to read logs: the
// config (parses, warnings), the listen port (free, or held by mcpproxy), the data directory
// (exists, 0700, writable, database opens), the runtimes the configured stdio servers need
// (node, npx, uvx, python, docker... found on PATH, with versions) and the daemon (answering on
// its socket). Prints one line per check (ok / warn / fail); exits 1 when any check fails.
#pragma once

#include "app/cli_util.h"

namespace mcpproxy::app {

int runDoctor(const CommonOptions& options);

}  // namespace mcpproxy::app
