// Search quality measured the way users meet it: the 180 tools of the public retrieval-dev set
// (tests/data/retrieval-dev, MIT) are served by a real upstream (the fixture server over stdio),
// and each of the 474 queries goes through retrieve_tools on /mcp with the official SDK client.
// Prints R@1, R@5, MRR@10 and nDCG@10 and holds the targets (R@1 >= 0.85, R@5 >= 0.97).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { callTool, connectHttpClient, fixtureServer, startProxy, waitFor } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const data = path.join(here, '..', 'data', 'retrieval-dev');

test('retrieve_tools quality on retrieval-dev through a real upstream', async () => {
  const queries = fs
    .readFileSync(path.join(data, 'queries.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  const proxy = await startProxy({
    mcpServers: [fixtureServer('azure', ['--tools-file', path.join(data, 'tools.jsonl')])],
  });
  const client = await connectHttpClient(`${proxy.baseUrl}/mcp`);
  await waitFor(
    async () => {
      const r = await callTool(client, 'retrieve_tools', { query: 'list storage accounts', limit: 1 });
      return r.structuredContent.tools.length > 0 ? true : null;
    },
    { timeout: 30000, interval: 200, what: 'the dataset server to be searchable' },
  );

  let r1 = 0;
  let r5 = 0;
  let mrr = 0;
  let ndcg = 0;
  const started = process.hrtime.bigint();
  for (const q of queries) {
    const result = await callTool(client, 'retrieve_tools', { query: q.query, limit: 10 });
    const names = result.structuredContent.tools.map((t) => t.name);
    const rank = names.findIndex((name) => q.relevant.includes(name)); // one relevant tool each
    if (rank === 0) r1++;
    if (rank >= 0 && rank < 5) r5++;
    if (rank >= 0) {
      mrr += 1 / (rank + 1);
      ndcg += 1 / Math.log2(rank + 2);
    }
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const n = queries.length;
  const metrics = { r1: r1 / n, r5: r5 / n, mrr10: mrr / n, ndcg10: ndcg / n };
  console.log(
    `retrieval-dev via /mcp: ${n} queries, R@1 ${metrics.r1.toFixed(3)} R@5 ${metrics.r5.toFixed(3)} ` +
      `MRR@10 ${metrics.mrr10.toFixed(3)} nDCG@10 ${metrics.ndcg10.toFixed(3)} ` +
      `(${(ms / n).toFixed(2)} ms per retrieve_tools round trip)`,
  );
  assert.ok(metrics.r1 >= 0.85, `R@1 ${metrics.r1}`);
  assert.ok(metrics.r5 >= 0.97, `R@5 ${metrics.r5}`);
});
