#!/usr/bin/env node
// Counts the tokens (o200k_base, js-tiktoken from .cache/bench, see scripts/install-bench-deps.sh)
// of retrieve_tools answers written by `search_eval --dump-answers=DIR`: as the upstreams
// defined the tools, with schema noise dropped, and with descriptions also cut to 300 bytes.
// Prints median (min–max) per answer and the total saving. Until the proxy's own tokenizer
// (branch `tokens`) lands, this is the reference count.
//
//   node scripts/count-answer-tokens.mjs DIR
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, '.cache', 'bench', 'package.json'));
const { getEncoding } = require('js-tiktoken');
const enc = getEncoding('o200k_base');
const dir = process.argv[2];
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()) {
  const rows = fs.readFileSync(path.join(dir, file), 'utf8').split('\n').filter(Boolean).map(JSON.parse);
  const counts = { full: [], compressed: [], short: [] };
  for (const row of rows) for (const k of Object.keys(counts)) counts[k].push(enc.encode(row[k]).length);
  const sum = (v) => v.reduce((a, b) => a + b, 0);
  const line = (k) =>
    `${k.padEnd(10)} median ${median(counts[k])} (${Math.min(...counts[k])}–${Math.max(...counts[k])})` +
    (k === 'full' ? '' : `, ${(100 * (1 - sum(counts[k]) / sum(counts.full))).toFixed(1)}% fewer in total`);
  console.log(`${file}: ${rows.length} answers of 15 tools`);
  for (const k of Object.keys(counts)) console.log('  ' + line(k));
}
