#!/usr/bin/env node
// Collects the real tools/list of popular MCP servers into
// tests/data/security-dev/real_servers_tools.jsonl, the benign corpus on which the poisoning
// scanner's false positives are measured with every server side by side (issue 11 item 6).
//
// The servers are the pinned packages of tests/scanner-corpus/package.json, installed by
//   scripts/install-scanner-corpus.sh            (into .cache/scanner-corpus; not part of CI)
// and listed with the official SDK client from tests/integration's pinned packages
// (.cache/npm, from `make test-deps`). Each server runs over stdio with dummy credentials in a
// private network namespace (`unshare -n`: no interface but a downed loopback, so nothing it
// tries at start-up leaves the machine) and a temporary HOME. A server that fails to list within
// the time limit is reported and left out; the rest are written in the order below.
//
//   node tests/scanner-corpus/collect.mjs [--out FILE]
//
// One line per tool: {"server", "package", "version", "tool"} where "server" is the name a user
// would give it in mcp_config.json and "tool" the definition exactly as the server listed it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const corpusModules = path.join(root, '.cache', 'scanner-corpus', 'node_modules');
const sdkModules = path.join(root, '.cache', 'npm', 'node_modules');
const sdk = (rel) =>
  import(pathToFileURL(path.join(sdkModules, '@modelcontextprotocol/sdk/dist/esm', rel)).href);
const { Client } = await sdk('client/index.js');
const { StdioClientTransport } = await sdk('client/stdio.js');

const outArg = process.argv.indexOf('--out');
const outFile =
  outArg > 0
    ? path.resolve(process.argv[outArg + 1])
    : path.join(root, 'tests', 'data', 'security-dev', 'real_servers_tools.jsonl');
const kListTimeoutMs = 60_000;

// server name (as a user would configure it), package, bin, arguments, dummy environment, files
// to write into the temporary folder first. Left out because they cannot list tools offline:
// server-redis (exits when it cannot connect), @supabase/mcp-server-supabase and @stripe/mcp
// (fetch from their APIs before listing), @heroku/mcp-server 1.2.8 (imports an SDK path its
// pinned SDK lacks).
const dummy = 'dummy-not-a-real-credential';
const kServers = [
  ['filesystem', '@modelcontextprotocol/server-filesystem', null, ['{tmp}']],
  ['everything', '@modelcontextprotocol/server-everything', null, ['stdio']],
  ['memory', '@modelcontextprotocol/server-memory', null, [], { MEMORY_FILE_PATH: '{tmp}/memory.jsonl' }],
  ['sequential-thinking', '@modelcontextprotocol/server-sequential-thinking'],
  ['github', '@modelcontextprotocol/server-github', null, [], { GITHUB_PERSONAL_ACCESS_TOKEN: dummy }],
  ['postgres', '@modelcontextprotocol/server-postgres', null, ['postgresql://127.0.0.1:1/none']],
  ['puppeteer', '@modelcontextprotocol/server-puppeteer'],
  ['brave-search', '@modelcontextprotocol/server-brave-search', null, [], { BRAVE_API_KEY: dummy }],
  ['slack', '@modelcontextprotocol/server-slack', null, [], { SLACK_BOT_TOKEN: dummy, SLACK_TEAM_ID: 'T000' }],
  ['gdrive', '@modelcontextprotocol/server-gdrive', null, [], { GDRIVE_CREDENTIALS_PATH: '{tmp}/gdrive.json' },
    { 'gdrive.json': JSON.stringify({ access_token: dummy, token_type: 'Bearer' }) }],
  ['google-maps', '@modelcontextprotocol/server-google-maps', null, [], { GOOGLE_MAPS_API_KEY: dummy }],
  ['gitlab', '@modelcontextprotocol/server-gitlab', null, [], { GITLAB_PERSONAL_ACCESS_TOKEN: dummy }],
  ['playwright', '@playwright/mcp'],
  ['notion', '@notionhq/notion-mcp-server', null, [], { NOTION_TOKEN: dummy }],
  ['firecrawl', 'firecrawl-mcp', null, [], { FIRECRAWL_API_KEY: 'fc-' + dummy }],
  ['desktop-commander', '@wonderwhy-er/desktop-commander', 'desktop-commander'],
  ['context7', '@upstash/context7-mcp'],
  ['sentry', '@sentry/mcp-server', null, ['--access-token', dummy]],
  ['tavily', 'tavily-mcp', null, [], { TAVILY_API_KEY: 'tvly-' + dummy }],
  ['exa', 'exa-mcp-server', null, [], { EXA_API_KEY: dummy }],
  ['kubernetes', 'mcp-server-kubernetes'],
  ['mongodb', 'mongodb-mcp-server', null, [], { MDB_MCP_TELEMETRY: 'disabled' }],
  ['chrome-devtools', 'chrome-devtools-mcp', 'chrome-devtools-mcp'],
  ['figma', 'figma-developer-mcp', null, ['--stdio'], { FIGMA_API_KEY: dummy }],
  ['circleci', '@circleci/mcp-server-circleci', null, [], { CIRCLECI_TOKEN: dummy }],
  ['browsermcp', '@browsermcp/mcp'],
];

// The entry point of a package's bin (the one named `bin`, else the only or first one).
function binOf(pkgDir, pkg, bin) {
  const meta = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  if (typeof meta.bin === 'string') return [meta, path.join(pkgDir, meta.bin)];
  const entries = Object.entries(meta.bin ?? {});
  const hit = entries.find(([name]) => name === bin) ?? entries[0];
  if (!hit) throw new Error(`${pkg} has no bin`);
  return [meta, path.join(pkgDir, hit[1])];
}

async function listTools(client) {
  const tools = [];
  let cursor;
  do {
    const page = await client.listTools(cursor ? { cursor } : {}, { timeout: kListTimeoutMs });
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor);
  return tools;
}

if (spawnSync('unshare', ['-n', 'true']).status !== 0) {
  console.error('collect.mjs: `unshare -n` failed (run as root): refusing to run servers with network');
  process.exit(2);
}

const lines = [];
const failed = [];
for (const [server, pkg, bin, args = [], env = {}, files = {}] of kServers) {
  // A fixed folder per server (emptied first): some servers put their HOME or working folder
  // into descriptions, and the corpus should not change from one collection to the next.
  const tmp = path.join(os.tmpdir(), 'mcp-scanner-corpus', server);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const fill = (s) => s.replaceAll('{tmp}', tmp);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(tmp, name), text);
  const pkgDir = path.join(corpusModules, pkg);
  let client;
  try {
    const [meta, entry] = binOf(pkgDir, pkg, bin);
    const transport = new StdioClientTransport({
      command: 'unshare',
      args: ['-n', process.execPath, entry, ...args.map(fill)],
      cwd: tmp,
      stderr: 'pipe',
      env: {
        PATH: process.env.PATH,
        HOME: tmp,
        DO_NOT_TRACK: '1',
        NODE_ENV: 'production',
        ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, fill(v)])),
      },
    });
    let stderr = '';
    transport.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
    client = new Client({ name: 'mcpproxy-scanner-corpus', version: '1.0.0' });
    const timer = setTimeout(() => transport.close(), kListTimeoutMs + 5000);
    try {
      await client.connect(transport, { timeout: kListTimeoutMs });
      const tools = await listTools(client);
      for (const tool of tools) {
        lines.push(JSON.stringify({ server, package: meta.name, version: meta.version, tool }));
      }
      console.error(`${server}: ${tools.length} tools (${meta.name}@${meta.version})`);
    } catch (error) {
      failed.push(server);
      console.error(`${server}: FAILED ${error.message}\n${stderr.trim().split('\n').slice(-5).join('\n')}`);
    } finally {
      clearTimeout(timer);
    }
  } catch (error) {
    failed.push(server);
    console.error(`${server}: FAILED ${error.message}`);
  } finally {
    await client?.close().catch(() => {});
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
fs.writeFileSync(outFile, lines.join('\n') + '\n');
console.error(
  `${lines.length} tools of ${kServers.length - failed.length} servers -> ${path.relative(root, outFile)}` +
    (failed.length ? `; not listed: ${failed.join(', ')}` : ''),
);
