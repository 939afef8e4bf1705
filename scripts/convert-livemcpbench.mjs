#!/usr/bin/env node
// Converts LiveMCPBench (icip-cas/LiveMCPBench, Apache-2.0: 70 MCP servers, 527 tools, 95
// multi-step tasks with the tools a person used for each) into the retrieval-dataset format of
// tests/data/retrieval-dev, so the search evaluation can run it as an unseen benchmark:
//   tools.jsonl    {"id": "<server>:<tool>", "server", "name", "description", "inputSchema"}
//   queries.jsonl  {"id", "query", "relevant": [...], "groups": [[...], ...], "category"}
// A task's annotation names tools without their server; a name several servers share
// ("read_file") becomes one group listing every such tool: any of them answers that step.
// Annotated names that no server of the set has are dropped and counted in the summary.
//
//   node scripts/convert-livemcpbench.mjs tools/LiveMCPTool/tools.json \
//        annotated_data/all_annotations.json tests/data/livemcpbench
import fs from 'node:fs';
import path from 'node:path';

const [toolsFile, annotationsFile, outDir] = process.argv.slice(2);
if (!toolsFile || !annotationsFile || !outDir) {
  console.error('usage: convert-livemcpbench.mjs TOOLS_JSON ANNOTATIONS_JSON OUT_DIR');
  process.exit(2);
}
const servers = JSON.parse(fs.readFileSync(toolsFile, 'utf8'));
const annotations = JSON.parse(fs.readFileSync(annotationsFile, 'utf8'));

const byName = new Map(); // tool name -> ["server:tool", ...]
const toolLines = [];
for (const entry of servers) {
  for (const [server, listing] of Object.entries(entry.tools ?? {})) {
    for (const tool of listing.tools ?? []) {
      const id = `${server}:${tool.name}`;
      if (!byName.has(tool.name)) byName.set(tool.name, []);
      if (byName.get(tool.name).includes(id)) continue;
      byName.get(tool.name).push(id);
      toolLines.push(
        JSON.stringify({
          id,
          server,
          name: tool.name,
          description: tool.description ?? '',
          inputSchema: tool.inputSchema ?? { type: 'object' },
        }),
      );
    }
  }
}

let annotated = 0;
let dropped = 0;
const queryLines = [];
for (const task of annotations) {
  const names = String(task['Annotator Metadata']?.Tools ?? '')
    .split('\n')
    .map((line) => line.replace(/^\s*\d+[.)]\s*/, '').trim())
    .filter(Boolean);
  const groups = [];
  for (const name of new Set(names)) {
    annotated++;
    const ids = byName.get(name);
    if (!ids) {
      dropped++;
      continue;
    }
    groups.push([...ids]);
  }
  if (groups.length === 0) continue;
  queryLines.push(
    JSON.stringify({
      id: task.task_id,
      query: task.Question,
      relevant: [...new Set(groups.flat())],
      groups,
      category: task.category ?? '',
    }),
  );
}

fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'tools.jsonl'), toolLines.join('\n') + '\n');
fs.writeFileSync(path.join(outDir, 'queries.jsonl'), queryLines.join('\n') + '\n');
console.log(
  `${toolLines.length} tools of ${servers.length} servers; ${queryLines.length} tasks; ` +
    `${annotated} annotated tools, ${dropped} not in the tool set (dropped)`,
);
