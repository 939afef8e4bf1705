// Shared helpers for the integration tests (node:test). They start real processes (the proxy,
// the fixture server, npm MCP servers) in temp dirs, connect the official MCP SDK client to
// them, and clean everything up in an after() hook registered when this module is imported.
// Every wait has a deadline.
//
// Environment (set by CTest, see tests/CMakeLists.txt):
//   MCPPROXY_BIN  the proxy binary        FIXTURE_BIN  the mcp_fixture_server binary
//   NPM_DIR       .cache/npm with the pinned SDK and servers (scripts/install-test-deps.sh)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');

// Resolved to absolute paths: processes are started with their own working directories.
export const NPM_DIR = path.resolve(process.env.NPM_DIR ?? path.join(repoRoot, '.cache', 'npm'));
export const MCPPROXY_BIN = path.resolve(process.env.MCPPROXY_BIN ?? path.join(repoRoot, 'build', 'asan', 'mcpproxy'));
export const FIXTURE_BIN = path.resolve(
  process.env.FIXTURE_BIN ?? path.join(repoRoot, 'build', 'asan', 'tests', 'mcp_fixture_server'),
);
export const LOOPBACK_PRELOAD = path.join(here, 'loopback-preload.cjs');

const modules = path.join(NPM_DIR, 'node_modules');
export const EVERYTHING_JS = path.join(modules, '@modelcontextprotocol/server-everything/dist/index.js');
export const FILESYSTEM_JS = path.join(modules, '@modelcontextprotocol/server-filesystem/dist/index.js');

export const sdkModule = (rel) =>
  import(pathToFileURL(path.join(modules, '@modelcontextprotocol/sdk/dist/esm', rel)).href);

// The official SDK, resolved from NPM_DIR (not from a node_modules next to this file).
export const { Client } = await sdkModule('client/index.js');
export const { StdioClientTransport } = await sdkModule('client/stdio.js');
export const { StreamableHTTPClientTransport } = await sdkModule('client/streamableHttp.js');
export const types = await sdkModule('types.js');

// ---------------------------------------------------------------------------------------------
// Cleanup registry: every process, client and temp dir is released after the file's tests.

const cleanups = [];
const liveProcesses = new Set();

/**
 * Registers `fn` to run (in reverse order) after all tests of the file. With { check: true } an
 * error thrown by `fn` fails the file (used for "the proxy exited cleanly, no sanitizer
 * report"); otherwise it is only logged.
 */
export function onCleanup(fn, { check = false } = {}) {
  cleanups.push({ fn, check });
}

export async function cleanupAll() {
  const failures = [];
  while (cleanups.length > 0) {
    const { fn, check } = cleanups.pop();
    try {
      await withTimeout(Promise.resolve().then(fn), 30000, 'cleanup step');
    } catch (err) {
      if (check) failures.push(err?.message ?? String(err));
      else console.error(`cleanup failed: ${err?.message ?? err}`);
    }
  }
  if (failures.length > 0) throw new Error(`cleanup checks failed:\n${failures.join('\n')}`);
}

after(cleanupAll);

// Last resort if the test process dies without running after(): kill what we started.
process.on('exit', () => {
  for (const child of liveProcesses) {
    killTree(child, 'SIGKILL');
  }
});

// ---------------------------------------------------------------------------------------------
// Small utilities.

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves like `promise`, or rejects with "<what> timed out after <ms> ms". */
export function withTimeout(promise, ms, what = 'operation') {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Polls `fn` (sync or async) until it returns a truthy value; returns that value. */
export async function waitFor(fn, { timeout = 10000, interval = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    await sleep(interval);
  }
  const detail = lastError ? ` (last error: ${lastError.message ?? lastError})` : '';
  throw new Error(`${what} not met within ${timeout} ms${detail}`);
}

/** Makes a fresh temp dir removed at cleanup. */
export function makeTempDir(prefix = 'mcpproxy-it-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The text of every text content block of a tool result, joined with newlines. */
export function textOf(result) {
  return (result?.content ?? [])
    .filter((block) => block.type === 'text')
    .map((block) => block.text)
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// Processes.

function killTree(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    // Spawned with detached:true, so the child leads its own process group: this reaches what
    // it started in that group (not the proxy's stdio upstreams, which get groups of their own;
    // those exit when their stdin closes, and tests that start stubborn ones kill them by pid).
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

/**
 * SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited, with true when
 * SIGTERM was enough.
 */
export async function stopProcess(child, graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  killTree(child, 'SIGTERM');
  try {
    await withTimeout(exited, graceMs, 'process exit');
    return true;
  } catch {
    killTree(child, 'SIGKILL');
    await withTimeout(exited, 5000, 'process exit after SIGKILL').catch(() => {});
    return false;
  }
}

const SANITIZER_REPORT = /ERROR: (AddressSanitizer|LeakSanitizer|ThreadSanitizer)|runtime error:/;

/**
 * Throws unless `child` (a proxy) has exited with code 0 and printed no sanitizer report.
 * `what` names it in the message.
 */
export function assertCleanExit(child, what = 'mcpproxy') {
  const stderr = child.stderrText();
  const report = stderr.match(SANITIZER_REPORT);
  if (report || child.exitCode !== 0) {
    const status = child.exitCode !== null ? `code ${child.exitCode}` : `signal ${child.signalCode}`;
    throw new Error(
      `${what} (pid ${child.pid}) did not exit cleanly (${status}${report ? `, ${report[0]}` : ''}); ` +
        `stderr tail:\n${tail(stderr, 6000)}`,
    );
  }
}

/**
 * Spawns a process in its own process group with piped stdio; its stderr is accumulated
 * (capped) in `proc.stderrText()`. The process is stopped at cleanup.
 */
export function startProcess(command, args, { env = process.env, cwd, name = path.basename(command) } = {}) {
  const child = spawn(command, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  liveProcesses.add(child);
  child.once('exit', () => liveProcesses.delete(child));
  child.stdin.on('error', () => {}); // EPIPE when it exits first.
  let stderr = '';
  const limit = 1 << 20;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (stderr.length > limit) stderr = stderr.slice(stderr.length - limit);
    if (process.env.MCPPROXY_IT_VERBOSE) process.stderr.write(`[${name}] ${chunk}`);
  });
  child.stdout.on('data', () => {}); // Drain: nothing is expected there for HTTP servers.
  child.on('error', () => {}); // Reported through waitForStderr / exit instead.
  child.stderrText = () => stderr;
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  onCleanup(() => stopProcess(child));
  return child;
}

/** Waits for a stderr line matching `regex`; returns the match. Fails early if the process exits. */
export function waitForStderr(child, regex, timeout, what = `stderr matching ${regex}`) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const check = () => {
        const match = child.stderrText().match(regex);
        if (match) {
          cleanup();
          resolve(match);
        }
      };
      const onExit = (code, signal) => {
        cleanup();
        reject(
          new Error(
            `process exited (code ${code}, signal ${signal}) before ${what}; stderr:\n${tail(child.stderrText())}`,
          ),
        );
      };
      const onError = (err) => {
        cleanup();
        reject(err);
      };
      const cleanup = () => {
        child.stderr.off('data', check);
        child.off('exit', onExit);
        child.off('error', onError);
      };
      child.stderr.on('data', check);
      child.once('exit', onExit);
      child.once('error', onError);
      check();
    }),
    timeout,
    what,
  ).catch((err) => {
    throw new Error(`${err.message}\n--- stderr tail ---\n${tail(child.stderrText())}`);
  });
}

function tail(text, n = 4000) {
  return text.length > n ? `...${text.slice(text.length - n)}` : text;
}

// ---------------------------------------------------------------------------------------------
// Upstream server descriptions for the proxy config.

/** A config entry for the fixture server as a stdio upstream. */
export function fixtureServer(name = 'fixture', args = [], extra = {}) {
  return { name, command: FIXTURE_BIN, args: ['--name', name, ...args], protocol: 'stdio', ...extra };
}

/** A config entry for server-everything as a stdio upstream. */
export function everythingStdioServer(name = 'ev', extra = {}) {
  return { name, command: process.execPath, args: [EVERYTHING_JS, 'stdio'], protocol: 'stdio', ...extra };
}

/**
 * Starts server-everything in Streamable HTTP mode on a loopback port chosen by the OS
 * (PORT=0, loopback forced by loopback-preload.cjs), or on `port` (e.g. to restart a server
 * where it was). `mode: 'sse'` starts the legacy HTTP+SSE server (url is then its /sse).
 * Returns { url, port, proc }.
 */
export async function startEverythingHttp({ timeout = 20000, port = 0, mode = 'streamableHttp' } = {}) {
  const proc = startProcess(process.execPath, ['--require', LOOPBACK_PRELOAD, EVERYTHING_JS, mode], {
    env: { ...process.env, PORT: String(port) },
    name: 'everything-http',
  });
  const match = await waitForStderr(
    proc,
    /\[loopback-preload\] listening on 127\.0\.0\.1:(\d+)/,
    timeout,
    'server-everything streamableHttp to listen',
  );
  const bound = Number(match[1]);
  const endpoint = mode === 'sse' ? 'sse' : 'mcp';
  return { url: `http://127.0.0.1:${bound}/${endpoint}`, port: bound, proc };
}

// ---------------------------------------------------------------------------------------------
// The proxy.

/**
 * Writes `config` to <tmp>/config.json and starts `mcpproxy serve` on 127.0.0.1:0. Resolves when
 * the proxy logs "listening on http://127.0.0.1:<port>". Returns
 * { proc, port, baseUrl, url (…/mcp/all), tmp, dataDir, configPath }.
 */
export async function startProxy(
  config,
  { env = {}, args = [], timeout = 30000, dataDir: givenDataDir, quarantineByDefault = false } = {},
) {
  const tmp = makeTempDir('mcpproxy-it-proxy-');
  const dataDir = givenDataDir ?? path.join(tmp, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const configPath = path.join(tmp, 'config.json');
  // New servers are quarantined until a person approves them. Tests about other things trust
  // their servers explicitly, as a user would with "quarantined": false; security tests pass
  // quarantineByDefault to see the real default.
  if (!quarantineByDefault && config.mcpServers) {
    const servers = Array.isArray(config.mcpServers) ? config.mcpServers : Object.values(config.mcpServers);
    for (const server of servers) {
      if (server.quarantined === undefined) server.quarantined = false;
    }
  }
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
  const proc = startProcess(
    MCPPROXY_BIN,
    ['serve', '--config', configPath, '--data-dir', dataDir, '--listen', '127.0.0.1:0', ...args],
    { env: { ...process.env, ...env }, cwd: tmp, name: 'mcpproxy' },
  );
  // Registered after startProcess's own cleanup, so it runs first: SIGTERM must be enough
  // (the proxy stops its upstreams, including stubborn ones, within its own deadlines), and the
  // exit must be clean: code 0, no ASan/LSan/UBSan report.
  onCleanup(
    async () => {
      const graceful = await stopProcess(proc, 20000);
      if (!graceful) throw new Error(`mcpproxy (pid ${proc.pid}) needed SIGKILL: still running 20 s after SIGTERM`);
      assertCleanExit(proc);
    },
    { check: true },
  );
  const match = await waitForStderr(
    proc,
    /listening on http:\/\/127\.0\.0\.1:(\d+)/,
    timeout,
    'the proxy to listen',
  );
  const port = Number(match[1]);
  const baseUrl = `http://127.0.0.1:${port}`;
  return { proc, port, baseUrl, url: `${baseUrl}/mcp/all`, tmp, dataDir, configPath };
}

/**
 * Connects an SDK Client over Streamable HTTP to `url`. Options: onToolListChanged (called for
 * each notifications/tools/list_changed), capabilities, setup (called with the client before it
 * connects, to install request handlers). Closed at cleanup.
 *
 * The client gets two extra properties: `httpTransport` (the SDK transport, e.g. for its
 * sessionId) and `getStreamReady`, a promise resolved when the server has answered the SDK's
 * standalone GET (server-to-client SSE stream) with 200. Server notifications sent before that
 * have nowhere to go, so tests that expect one await it first.
 */
export async function connectHttpClient(
  url,
  { onToolListChanged, capabilities = {}, timeout = 20000, setup } = {},
) {
  const client = new Client({ name: 'mcpproxy-integration', version: '1.0.0' }, { capabilities });
  setup?.(client); // request handlers (sampling, elicitation, roots) must exist before connect
  client.onerror = () => {}; // Transport hiccups (e.g. SSE reconnects) surface through requests.
  if (onToolListChanged) {
    client.setNotificationHandler(types.ToolListChangedNotificationSchema, onToolListChanged);
  }
  let markGetStreamReady;
  client.getStreamReady = new Promise((resolve) => {
    markGetStreamReady = resolve;
  });
  const observingFetch = async (input, init) => {
    const response = await fetch(input, init);
    const method = (init?.method ?? 'GET').toUpperCase();
    if (method === 'GET' && response.status === 200 &&
        (response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      markGetStreamReady();
    }
    return response;
  };
  const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: observingFetch });
  client.httpTransport = transport;
  await withTimeout(client.connect(transport), timeout, `connecting to ${url}`);
  onCleanup(() => client.close());
  return client;
}

/** The stderr log the proxy keeps for upstream `server` ('' while it does not exist). */
export function upstreamLog(proxy, server) {
  try {
    return fs.readFileSync(path.join(proxy.dataDir, 'logs', `${server}.log`), 'utf8');
  } catch {
    return '';
  }
}

/** Whether a process with this pid exists (zombies count as gone). */
export function processAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Starts the proxy and connects a client to /mcp/all. Returns { proxy, client }. */
export async function startProxyWithClient(config, options = {}) {
  const proxy = await startProxy(config, options);
  const client = await connectHttpClient(proxy.url, options);
  return { proxy, client };
}

/**
 * Every tool, following nextCursor. Fails on a repeated cursor or more than `maxPages` pages.
 * Returns { tools, pages }.
 */
export async function listAllTools(client, { maxPages = 1000, timeout = 30000 } = {}) {
  const tools = [];
  const seen = new Set();
  let cursor;
  let pages = 0;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout });
    pages += 1;
    tools.push(...page.tools);
    cursor = page.nextCursor;
    if (cursor !== undefined) {
      if (seen.has(cursor)) throw new Error(`tools/list repeated cursor ${cursor}`);
      seen.add(cursor);
    }
    if (pages > maxPages) throw new Error(`tools/list did not end within ${maxPages} pages`);
  } while (cursor !== undefined);
  return { tools, pages };
}

/** The names of every tool (all pages). */
export async function toolNames(client) {
  return (await listAllTools(client)).tools.map((tool) => tool.name);
}

/** Waits until every name in `expected` is listed (default 30 s); returns all names. */
export async function waitForTools(client, expected, timeout = 30000) {
  return waitFor(
    async () => {
      const names = await toolNames(client);
      return expected.every((name) => names.includes(name)) ? names : null;
    },
    { timeout, interval: 100, what: `tools ${expected.join(', ')} to be listed` },
  );
}

/** Calls a tool with a deadline (the SDK's own request timeout plus a margin). */
export function callTool(client, name, args = {}, { timeout = 30000, signal } = {}) {
  return withTimeout(
    client.callTool({ name, arguments: args }, undefined, { timeout, signal }),
    timeout + 5000,
    `tools/call ${name}`,
  );
}

// ---------------------------------------------------------------------------------------------
// The management API.

/** One request over the Unix socket (no API key). */
export function socketRequest(socketPath, method, urlPath, body) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        socketPath,
        method,
        path: urlPath,
        headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode, text, json: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('socket request timed out')));
    if (payload) req.write(payload);
    req.end();
  });
}
