// The `make bench` harness: every table of docs/benchmarks.md in one run, on 127.0.0.1 only.
//
// Sections (each figure is the median of BENCH_RUNS independent runs with min–max shown):
//   latency   official TypeScript SDK client, sequential tools/call echo: direct stdio to
//             server-everything, and through mcpproxy, mcp-proxy and supergateway (stateful),
//             each Streamable HTTP downstream -> stdio server-everything; plus the peak/steady
//             RSS of each proxy process with that one upstream. Fresh processes every run.
//   load      bench_load_client (C++) at concurrency 1/8/32 against bench_echo_server directly
//             and through mcpproxy (HTTP upstream), so the difference is the proxy's own cost.
//   memory    mcpproxy's peak (VmHWM) and steady (VmRSS after warm-up) RSS with 1, 20 and 70
//             stdio fixture upstreams of 15 real tool definitions each.
//   startup   exec -> first 200 from /healthz, and exec -> /mcp/all lists every tool of 70
//             stdio upstreams (bench_load_client startup).
//   search    retrieve_tools in-process (search_bench) and end to end through /mcp with the SDK
//             client at 1k/10k/100k tools (one fixture upstream serving the synthetic corpus).
//   tokens    o200k_base tokens (js-tiktoken) of the tool definitions a client receives from
//             /mcp (search mode) and /mcp/all (direct) with 20 and 70 servers.
//
// Every process is started in its own process group and killed (by pid/group) at exit, also on
// failure or Ctrl-C. Results: stdout, build/bench/results.md and build/bench/results.json.
//
//   node bench/run.mjs [section ...]     env: BENCH_RUNS (5), BENCH_BUILD (build/release),
//                                        BENCH_E2E_MAX (10000: largest end-to-end search corpus)
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const build = path.resolve(root, process.env.BENCH_BUILD ?? 'build/release');
const modules = path.join(root, '.cache', 'bench', 'node_modules');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const bin = {
  proxy: path.join(build, 'mcpproxy'),
  fixture: path.join(build, 'mcp_fixture_server'),
  load: path.join(build, 'bench_load_client'),
  echo: path.join(build, 'bench_echo_server'),
  search: path.join(build, 'search_bench'),
};
const EVERYTHING = path.join(modules, '@modelcontextprotocol/server-everything/dist/index.js');
const MCP_PROXY = path.join(modules, 'mcp-proxy/dist/bin/mcp-proxy.mjs');
const SUPERGATEWAY = path.join(modules, 'supergateway/dist/index.js');
const sdk = (rel) => import(pathToFileURL(path.join(modules, '@modelcontextprotocol/sdk/dist/esm', rel)).href);
const { Client } = await sdk('client/index.js');
const { StdioClientTransport } = await sdk('client/stdio.js');
const { StreamableHTTPClientTransport } = await sdk('client/streamableHttp.js');
const { getEncoding } = await import(pathToFileURL(path.join(modules, 'js-tiktoken/dist/index.js')).href);

const outDir = path.join(root, 'build', 'bench');
fs.mkdirSync(outDir, { recursive: true });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpproxy-bench-'));

// ---------------------------------------------------------------------------------------------
// Processes: started detached (own process group), killed by group at the end of their use,
// and in any case at exit.

const live = new Set();
function killGroup(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {}
  }
}
function start(command, args, { env = {}, name = path.basename(command), cwd = work } = {}) {
  const logPath = path.join(work, `${name}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}.log`);
  const log = fs.openSync(logPath, 'w');
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', log, log],
    detached: true,
  });
  fs.closeSync(log);
  child.logPath = logPath;
  child.log = () => fs.readFileSync(logPath, 'utf8');
  child.exited = new Promise((resolve) => child.once('exit', resolve));
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}
async function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 8000);
  await child.exited;
  clearTimeout(timer);
}
function killAll() {
  for (const child of live) killGroup(child, 'SIGKILL');
}
process.on('exit', () => {
  killAll();
  fs.rmSync(work, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

// ---------------------------------------------------------------------------------------------
// Helpers.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(fn, what, timeout = 60000, interval = 50) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(interval);
  }
  throw new Error(`${what}: not within ${timeout} ms${last ? ` (${last.message})` : ''}`);
}
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  const n = v.length;
  return n === 0 ? NaN : n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
};
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.round(p * (sorted.length - 1)))];
function stats(xs) {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs.length };
}
const fmt = (x, digits = 2) =>
  Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(digits)) : '–';
// "median (min–max)"
const spread = (s, digits = 2, unit = '') =>
  `${fmt(s.median, digits)}${unit} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
function memoryOf(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN);
  return { hwm_mb: kb('VmHWM') / 1024, rss_mb: kb('VmRSS') / 1024 };
}
// CPU time (user + system, every thread) a process has used, in ms.
function cpuMs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;  // utime, stime at 100 Hz
}
function runJson(command, args, options = {}) {
  const out = execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options });
  return JSON.parse(out.trim().split('\n').pop());
}

async function connectHttp(url) {
  const client = new Client({ name: 'mcpproxy-bench', version: '1.0.0' });
  client.onerror = () => {};
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}
async function listAll(client) {
  const tools = [];
  let cursor;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout: 600000 });
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return tools;
}

// Writes `config` and starts `mcpproxy serve` on a free port; resolves once it listens.
async function startProxy(servers, extra = {}) {
  const dir = fs.mkdtempSync(path.join(work, 'proxy-'));
  const port = await freePort();
  const config = { listen: `127.0.0.1:${port}`, log_level: 'warn', mcpServers: servers, ...extra };
  for (const s of servers) s.quarantined ??= false;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const proc = start(bin.proxy, ['serve', '--config', path.join(dir, 'config.json'), '--data-dir', path.join(dir, 'data')], {
    name: 'mcpproxy',
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/healthz`)).ok, 'mcpproxy to serve', 20000, 10);
  return { proc, port, base, dir };
}

// ---------------------------------------------------------------------------------------------
// Realistic tool sets: the 336 real tool definitions of tests/data (MCP-Universe's 13 servers,
// then the Azure MCP Server), cut into consecutive 15-tool servers, cycling through the pool.

function realToolPool() {
  const read = (file) =>
    fs.readFileSync(path.join(root, 'tests/data', file), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const pool = [];
  for (const row of read('security-dev/benign_tools_mcpuniverse.jsonl')) pool.push(row.tool);
  for (const row of read('retrieval-dev/tools.jsonl')) {
    pool.push({ name: row.name, description: row.description, inputSchema: row.inputSchema });
  }
  return pool;
}
const POOL = realToolPool();
const TOOLS_PER_SERVER = 15;
// Writes the tool files of `count` servers; returns fixture config entries.
function fixtureServers(count) {
  const servers = [];
  for (let i = 0; i < count; i += 1) {
    const file = path.join(work, `tools-${i}.jsonl`);
    if (!fs.existsSync(file)) {
      const lines = [];
      const names = new Set();
      for (let k = 0; k < TOOLS_PER_SERVER; k += 1) {
        const tool = { ...POOL[(i * TOOLS_PER_SERVER + k) % POOL.length] };
        while (names.has(tool.name)) tool.name += '_';
        names.add(tool.name);
        lines.push(JSON.stringify(tool));
      }
      fs.writeFileSync(file, `${lines.join('\n')}\n`);
    }
    const name = `srv${String(i).padStart(2, '0')}`;
    servers.push({ name, command: bin.fixture, args: ['--name', name, '--no-builtin-tools', '--tools-file', file] });
  }
  return servers;
}

// Waits until /mcp/all lists tools of all `n` fixture servers and the count has been stable for
// half a second; returns the tools. Fewer than n × 15: the poisoning scanner blocks a few real
// definitions (cross-tool references; see docs/benchmarks.md).
async function waitAllListed(client, n, timeout = 120000) {
  let last = -1;
  let stableSince = 0;
  return waitFor(async () => {
    const t = await listAll(client);
    const servers = new Set(t.map((x) => x.name.split('__')[0]));
    if (servers.size < n) return false;
    if (t.length !== last) {
      last = t.length;
      stableSince = Date.now();
      return false;
    }
    return Date.now() - stableSince >= 500 && t;
  }, `${n} upstreams listed`, timeout, 50);
}

const results = { machine: {}, sections: {} };
const md = [];
const emit = (line = '') => {
  md.push(line);
  console.log(line);
};

// ---------------------------------------------------------------------------------------------
// Machine and versions.

function machine() {
  const lscpu = execFileSync('lscpu', { encoding: 'utf8' });
  const field = (k) => lscpu.match(new RegExp(`^${k}:\\s+(.*)$`, 'm'))?.[1]?.trim();
  const memKb = Number(fs.readFileSync('/proc/meminfo', 'utf8').match(/MemTotal:\s+(\d+)/)[1]);
  const pkg = (name) => JSON.parse(fs.readFileSync(path.join(modules, name, 'package.json'), 'utf8')).version;
  const sh = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim().split('\n')[0];
    } catch {
      return '?';
    }
  };
  const m = {
    cpu: field('Model name'),
    cpus: Number(field('CPU\\(s\\)')),
    ram_gib: (memKb / 1024 / 1024).toFixed(1),
    kernel: os.release(),
    os: sh('sh', ['-c', '. /etc/os-release && echo $PRETTY_NAME']),
    gxx: sh('g++', ['--version']),
    node: process.version,
    commit: sh('git', ['-C', root, 'rev-parse', '--short', 'HEAD']),
    load: os.loadavg().map((x) => x.toFixed(2)).join(' '),
    packages: Object.fromEntries(
      ['@modelcontextprotocol/sdk', '@modelcontextprotocol/server-everything', 'mcp-proxy', 'supergateway', 'js-tiktoken'].map(
        (p) => [p, pkg(p)],
      ),
    ),
  };
  results.machine = m;
  emit(`## Machine`);
  emit();
  emit(`${m.cpu}, ${m.cpus} CPUs, ${m.ram_gib} GiB RAM, ${m.os}, kernel ${m.kernel}; ${m.gxx}; node ${m.node};`);
  emit(`mcpproxy at ${m.commit} (release preset, -O2); load average at start ${m.load}; ${RUNS} runs per figure.`);
  emit(`npm: ${Object.entries(m.packages).map(([k, v]) => `${k}@${v}`).join(', ')}.`);
  emit();
}

// ---------------------------------------------------------------------------------------------
// latency: SDK client, sequential echo calls, four targets started fresh in every run.

const LAT_WARMUP = 100;
const LAT_CALLS = Number(process.env.BENCH_LAT_CALLS ?? 500);

async function timeCalls(client, tool) {
  const args = { message: 'hello' };
  for (let i = 0; i < LAT_WARMUP; i += 1) await client.callTool({ name: tool, arguments: args });
  const ms = [];
  for (let i = 0; i < LAT_CALLS; i += 1) {
    const t0 = process.hrtime.bigint();
    const r = await client.callTool({ name: tool, arguments: args });
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.isError || !JSON.stringify(r.content).includes('hello')) throw new Error(`${tool}: bad echo ${JSON.stringify(r)}`);
  }
  ms.sort((a, b) => a - b);
  return { p50: pct(ms, 0.5), p99: pct(ms, 0.99) };
}

async function startPeer(kind) {
  const port = await freePort();
  const everything = `${process.execPath} ${EVERYTHING} stdio`;
  let proc;
  if (kind === 'mcp-proxy') {
    proc = start(process.execPath, [MCP_PROXY, '--host', '127.0.0.1', '--port', String(port), '--server', 'stream', '--',
      process.execPath, EVERYTHING, 'stdio'], { name: 'mcp-proxy' });
  } else {
    proc = start(process.execPath, [SUPERGATEWAY, '--stdio', everything, '--outputTransport', 'streamableHttp', '--stateful',
      '--port', String(port), '--logLevel', 'none'], { name: 'supergateway' });
  }
  const url = `http://127.0.0.1:${port}/mcp`;
  const client = await waitFor(() => connectHttp(url), `${kind} to accept an MCP client`, 30000, 100);
  return { proc, client };
}

async function latency() {
  const names = ['direct stdio', 'mcpproxy', 'mcp-proxy 6.7.19', 'supergateway 4.0.0 (stateful)'];
  const per = Object.fromEntries(names.map((n) => [n, { p50: [], p99: [], added: [], hwm: [], rss: [] }]));
  for (let run = 0; run < RUNS; run += 1) {
    const targets = [];
    const direct = new Client({ name: 'mcpproxy-bench', version: '1.0.0' });
    const transport = new StdioClientTransport({ command: process.execPath, args: [EVERYTHING, 'stdio'], stderr: 'ignore' });
    await direct.connect(transport);
    targets.push({ name: names[0], client: direct, tool: 'echo' });
    const proxy = await startProxy([{ name: 'ev', command: process.execPath, args: [EVERYTHING, 'stdio'] }]);
    const pc = await connectHttp(`${proxy.base}/mcp/all`);
    await waitFor(async () => (await pc.listTools()).tools.some((t) => t.name === 'ev__echo'), 'ev__echo listed');
    targets.push({ name: names[1], client: pc, tool: 'ev__echo', proc: proxy.proc });
    const mp = await startPeer('mcp-proxy');
    targets.push({ name: names[2], client: mp.client, tool: 'echo', proc: mp.proc });
    const sg = await startPeer('supergateway');
    targets.push({ name: names[3], client: sg.client, tool: 'echo', proc: sg.proc });
    // Interleaved so drift of the machine's load spreads over every target alike.
    const measured = {};
    for (const t of run % 2 ? [...targets].reverse() : targets) measured[t.name] = await timeCalls(t.client, t.tool);
    for (const t of targets) {
      const p = per[t.name];
      p.p50.push(measured[t.name].p50);
      p.p99.push(measured[t.name].p99);
      p.added.push(measured[t.name].p50 - measured[names[0]].p50);
      if (t.proc) {
        const mem = memoryOf(t.proc.pid);
        p.hwm.push(mem.hwm_mb);
        p.rss.push(mem.rss_mb);
      }
    }
    for (const t of targets) await t.client.close().catch(() => {});
    for (const t of targets) await stop(t.proc);
    process.stderr.write(`latency run ${run + 1}/${RUNS} done\n`);
  }
  const out = Object.fromEntries(
    Object.entries(per).map(([k, v]) => [
      k,
      Object.fromEntries(Object.entries(v).filter(([, xs]) => xs.length).map(([m, xs]) => [m, stats(xs)])),
    ]),
  );
  results.sections.latency = out;
  emit(`## Latency: official SDK client, sequential tools/call echo (server-everything over stdio)`);
  emit();
  emit(`${LAT_CALLS} timed calls after ${LAT_WARMUP} warm-up calls per target and run; all four targets fresh in each run.`);
  emit();
  emit(`| Target | p50 ms | p99 ms | added p50 ms | peak RSS MB | steady RSS MB |`);
  emit(`|---|---|---|---|---|---|`);
  for (const [k, v] of Object.entries(out)) {
    const added = k === names[0] ? '–' : spread(v.added);
    emit(`| ${k} | ${spread(v.p50)} | ${spread(v.p99)} | ${added} | ${v.hwm ? spread(v.hwm, 1) : '–'} | ${v.rss ? spread(v.rss, 1) : '–'} |`);
  }
  const ours = out[names[1]].added.median;
  const best = Math.min(out[names[2]].added.median, out[names[3]].added.median);
  emit();
  emit(`mcpproxy's added p50 / best npm peer's added p50 = **${(ours / best).toFixed(2)}×** (target ≤ 0.25×).`);
  emit();
}

// ---------------------------------------------------------------------------------------------
// load: C++ client, concurrency sweep, direct echo upstream vs through mcpproxy.

const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 2);
async function load() {
  const levels = [1, 8, 32];
  const per = {};
  for (let run = 0; run < RUNS; run += 1) {
    const echoPort = await freePort();
    const echo = start(bin.echo, ['--port', String(echoPort)], { name: 'echo' });
    await waitFor(() => echo.log().includes('listening'), 'echo server');
    const proxy = await startProxy([{ name: 'echo', url: `http://127.0.0.1:${echoPort}/mcp` }]);
    const check = await connectHttp(`${proxy.base}/mcp/all`);
    await waitFor(async () => (await check.listTools()).tools.some((t) => t.name === 'echo__echo'), 'echo__echo listed');
    await check.close();
    for (const c of levels) {
      for (const [target, url, tool] of [
        ['direct', `http://127.0.0.1:${echoPort}/mcp`, 'echo'],
        ['mcpproxy', `${proxy.base}/mcp/all`, 'echo__echo'],
      ]) {
        const server = target === 'direct' ? echo : proxy.proc;
        const cpu0 = cpuMs(server.pid);
        const r = runJson(bin.load, ['load', '--url', url, '--tool', tool, '--concurrency', String(c), '--duration',
          String(LOAD_SECONDS), '--warmup', '0.5']);
        const cpuPerCall = ((cpuMs(server.pid) - cpu0) * 1000) / r.all_calls;
        const key = `${target}@${c}`;
        per[key] ??= { rate: [], p50: [], p99: [], cpu: [] };
        per[key].rate.push(r.calls_per_s);
        per[key].cpu.push(cpuPerCall);
        per[key].p50.push(r.p50_us);
        per[key].p99.push(r.p99_us);
      }
      per[`added@${c}`] ??= { p50: [] };
      per[`added@${c}`].p50.push(per[`mcpproxy@${c}`].p50.at(-1) - per[`direct@${c}`].p50.at(-1));
    }
    await stop(proxy.proc);
    await stop(echo);
    process.stderr.write(`load run ${run + 1}/${RUNS} done\n`);
  }
  const out = Object.fromEntries(Object.entries(per).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).map(([m, xs]) => [m, stats(xs)]))]));
  results.sections.load = out;
  emit(`## Throughput: C++ load client (keep-alive, one session per connection), echo over Streamable HTTP`);
  emit();
  emit(`${LOAD_SECONDS} s measured after 0.5 s warm-up per point; client, proxy and upstream share the machine's cores.`);
  emit();
  emit(`Server CPU/call = CPU time (all threads, from /proc, 10 ms ticks) the echo server or mcpproxy used during the point,`);
  emit(`divided by the calls it served: unlike latency and calls/s it does not depend on what else the machine runs.`);
  emit();
  emit(`| Concurrency | direct calls/s | direct p50 / p99 µs | echo CPU/call µs | mcpproxy calls/s | mcpproxy p50 / p99 µs | mcpproxy CPU/call µs | proxy-added p50 µs |`);
  emit(`|---|---|---|---|---|---|---|---|`);
  for (const c of levels) {
    const d = out[`direct@${c}`];
    const p = out[`mcpproxy@${c}`];
    emit(`| ${c} | ${spread(d.rate, 0)} | ${fmt(d.p50.median, 0)} / ${fmt(d.p99.median, 0)} | ${fmt(d.cpu.median, 0)} | ${spread(p.rate, 0)} | ` +
      `${fmt(p.p50.median, 0)} / ${fmt(p.p99.median, 0)} | ${spread(p.cpu, 0)} | ${spread(out[`added@${c}`].p50, 0)} |`);
  }
  emit();
}

// ---------------------------------------------------------------------------------------------
// memory: mcpproxy with 1/20/70 fixture upstreams (15 real tools each).

async function memory() {
  const per = {};
  for (const n of [1, 20, 70]) {
    per[n] = { hwm: [], rss: [], ready: [], tools: [] };
    for (let run = 0; run < Math.min(RUNS, 3); run += 1) {
      const t0 = Date.now();
      const proxy = await startProxy(fixtureServers(n), { tools_page_size: 5000 });
      const all = await connectHttp(`${proxy.base}/mcp/all`);
      const tools = await waitAllListed(all, n);
      per[n].ready.push(Date.now() - t0);
      per[n].tools.push(tools.length);
      // Warm-up: a call to every server, a few searches, listings from two sessions.
      const search = await connectHttp(`${proxy.base}/mcp`);
      for (let i = 0; i < n; i += 1) {
        const tool = tools.find((t) => t.name.startsWith(`srv${String(i).padStart(2, '0')}__`));
        await all.callTool({ name: tool.name, arguments: {} });
      }
      for (const q of ['list github issues', 'create a storage account', 'weather forecast', 'search the web']) {
        await search.callTool({ name: 'retrieve_tools', arguments: { query: q } });
      }
      await listAll(all);
      await listAll(search);
      await sleep(200);
      const mem = memoryOf(proxy.proc.pid);
      per[n].hwm.push(mem.hwm_mb);
      per[n].rss.push(mem.rss_mb);
      await all.close();
      await search.close();
      await stop(proxy.proc);
    }
    process.stderr.write(`memory with ${n} upstreams done\n`);
  }
  const out = Object.fromEntries(Object.entries(per).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).map(([m, xs]) => [m, stats(xs)]))]));
  results.sections.memory = out;
  emit(`## Memory: mcpproxy with stdio fixture upstreams (15 real tool definitions each)`);
  emit();
  emit(`Proxy process only (upstreams are separate processes). Steady = VmRSS after a call to every server, four`);
  emit(`retrieve_tools searches and two full listings; peak = VmHWM at that point. ${Math.min(RUNS, 3)} runs.`);
  emit();
  emit(`| Upstreams (tools) | peak RSS MB | steady RSS MB |`);
  emit(`|---|---|---|`);
  for (const [n, v] of Object.entries(out)) emit(`| ${n} (${v.tools.median} tools listed) | ${spread(v.hwm, 1)} | ${spread(v.rss, 1)} |`);
  emit();
}

// ---------------------------------------------------------------------------------------------
// startup: exec -> serving, exec -> 70 stdio upstreams listed.

async function startup() {
  const per = {};
  for (const n of [0, 70]) {
    per[n] = { serving: [], ready: [] };
    for (let run = 0; run < RUNS; run += 1) {
      const dir = fs.mkdtempSync(path.join(work, 'startup-'));
      const port = await freePort();
      const config = { listen: `127.0.0.1:${port}`, log_level: 'warn', tools_page_size: 5000, mcpServers: fixtureServers(n) };
      for (const s of config.mcpServers) s.quarantined = false;
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
      const r = runJson(bin.load, ['startup', '--port', String(port), '--expect-servers', String(n),
        '--timeout', '30', '--log', path.join(dir, 'log'), '--', bin.proxy, 'serve', '--config', path.join(dir, 'config.json'),
        '--data-dir', path.join(dir, 'data')]);
      per[n].serving.push(r.serving_ms);
      if (n > 0) per[n].ready.push(r.ready_ms);
    }
  }
  const out = {
    serving_empty: stats(per[0].serving),
    serving_70: stats(per[70].serving),
    ready_70: stats(per[70].ready),
  };
  results.sections.startup = out;
  emit(`## Start-up`);
  emit();
  emit(`\`bench_load_client startup\`: from just before posix_spawn of \`mcpproxy serve\` (fresh data dir every run) to the`);
  emit(`first 200 from \`/healthz\`, and to \`tools/list\` on \`/mcp/all\` listing tools of all 70 stdio fixture upstreams (15 real tools each).`);
  emit();
  emit(`| What | ms |`);
  emit(`|---|---|`);
  emit(`| exec → serving, no upstreams | ${spread(out.serving_empty, 1)} |`);
  emit(`| exec → serving, 70 upstreams configured | ${spread(out.serving_70, 1)} |`);
  emit(`| exec → all 70 stdio upstreams listed | ${spread(out.ready_70, 0)} |`);
  emit();
}

// ---------------------------------------------------------------------------------------------
// search: in-process (search_bench) and end to end through /mcp.

const QUERIES = fs.readFileSync(path.join(root, 'tests/data/retrieval-dev/queries.jsonl'), 'utf8')
  .split('\n').filter(Boolean).map((l) => JSON.parse(l).query);

async function search() {
  const sizes = [1000, 10000, 100000];
  // End to end only up to BENCH_E2E_MAX tools: 10,000 by default, because at 100,000 the proxy
  // does not finish scanning within 10 minutes on 2 cores yet (docs/benchmarks.md).
  const e2eSizes = sizes.filter((n) => n <= Number(process.env.BENCH_E2E_MAX ?? 10000));
  // In-process.
  const reps = Math.min(RUNS, 3);
  const gb = JSON.parse(execFileSync(bin.search, ['--benchmark_format=json', '--benchmark_filter=BM_Search',
    `--benchmark_repetitions=${reps}`], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] }));
  const inproc = {};
  for (const b of gb.benchmarks.filter((x) => x.run_type === 'iteration')) {
    const [name, size] = b.run_name.split('/');
    inproc[`${name}/${size}`] ??= { p50: [], p99: [] };
    inproc[`${name}/${size}`].p50.push(b.p50_us / 1000);
    inproc[`${name}/${size}`].p99.push(b.p99_us / 1000);
  }
  // End to end: one fixture upstream serving the corpus, SDK client on /mcp.
  const e2e = {};
  const E2E_QUERIES = 200;
  for (const size of e2eSizes) {
    // The corpus split over fixture servers of at most 5,000 tools (mcpproxy refuses more than
    // 10,000 from one server): 1, 2 and 20 upstreams.
    const file = path.join(work, `corpus-${size}.jsonl`);
    execFileSync(bin.search, [`--write-corpus=${size}:${file}`]);
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    fs.rmSync(file, { force: true });
    const servers = [];
    for (let i = 0; i * 5000 < lines.length; i += 1) {
      const part = path.join(work, `corpus-${size}-${i}.jsonl`);
      fs.writeFileSync(part, `${lines.slice(i * 5000, (i + 1) * 5000).join('\n')}\n`);
      const name = `big${i}`;
      servers.push({ name, command: bin.fixture, args: ['--name', name, '--no-builtin-tools', '--page-size', '1000', '--tools-file', part] });
    }
    const t0 = Date.now();
    const proxy = await startProxy(servers, { init_timeout: '5m' });
    const client = await connectHttp(`${proxy.base}/mcp`);
    // Searchable once every server's tools are listed (the index follows the listing).
    const all = await connectHttp(`${proxy.base}/mcp/all`);
    const listed = await waitAllListed(all, servers.length, 600000);
    await all.close();
    const indexedMs = Date.now() - t0;
    const p50 = [];
    const p99 = [];
    for (let run = 0; run < reps; run += 1) {
      const ms = [];
      for (let i = 0; i < E2E_QUERIES + 20; i += 1) {
        const q = QUERIES[(run * 97 + i) % QUERIES.length];
        const t = process.hrtime.bigint();
        const r = await client.callTool({ name: 'retrieve_tools', arguments: { query: q } });
        if (i >= 20) ms.push(Number(process.hrtime.bigint() - t) / 1e6);
        if (r.isError) throw new Error(`retrieve_tools failed: ${JSON.stringify(r)}`);
      }
      ms.sort((a, b) => a - b);
      p50.push(pct(ms, 0.5));
      p99.push(pct(ms, 0.99));
    }
    const mem = memoryOf(proxy.proc.pid);
    e2e[size] = { p50: stats(p50), p99: stats(p99), ready_ms: indexedMs, hwm_mb: mem.hwm_mb, listed: listed.length };
    await client.close();
    await stop(proxy.proc);
    for (const server of servers) fs.rmSync(server.args.at(-1), { force: true });
    process.stderr.write(`search e2e ${size} done\n`);
  }
  const ip = Object.fromEntries(Object.entries(inproc).map(([k, v]) => [k, { p50: stats(v.p50), p99: stats(v.p99) }]));
  results.sections.search = { in_process: ip, end_to_end: e2e };
  emit(`## Search: retrieve_tools latency`);
  emit();
  emit(`In-process: \`search_bench --benchmark_filter=BM_Search --benchmark_repetitions=${reps}\` (the dataset's 474 prompts;`);
  emit(`"long" = three prompts joined into one task). End to end: SDK client → \`/mcp\` \`retrieve_tools\` (default limit 15) →`);
  emit(`answer, ${E2E_QUERIES} prompts after 20 warm-up, ${reps} runs; the same synthetic corpus served by stdio fixture upstreams of at most`);
  emit(`5,000 tools each (1, 2 and 20 servers). "Start → listed": proxy start until \`/mcp/all\` lists every server's tools (count stable).`);
  emit();
  emit(`| Tools | in-process p50 / p99 ms | in-process long query p50 / p99 ms | end to end p50 ms | end to end p99 ms | start → listed (tools listed) | proxy peak RSS |`);
  emit(`|---|---|---|---|---|---|---|`);
  for (const size of sizes) {
    const s = ip[`BM_Search/${size}`];
    const l = ip[`BM_SearchLongQuery/${size}`];
    const e = e2e[size] ?? { p50: stats([NaN]), p99: stats([NaN]), ready_ms: NaN, listed: 'not run', hwm_mb: NaN };
    emit(`| ${size.toLocaleString('en')} | ${fmt(s.p50.median, 3)} / ${fmt(s.p99.median, 3)} | ${fmt(l.p50.median, 3)} / ${fmt(l.p99.median, 3)} | ` +
      `${spread(e.p50, 2)} | ${spread(e.p99, 2)} | ${(e.ready_ms / 1000).toFixed(1)} s (${e.listed}) | ${fmt(e.hwm_mb, 0)} MB |`);
  }
  emit();
}

// ---------------------------------------------------------------------------------------------
// tokens: what a client receives from /mcp (search mode) vs /mcp/all (direct).

async function tokens() {
  const enc = getEncoding('o200k_base');
  const count = (value) => enc.encode(JSON.stringify(value)).length;
  const rows = [];
  for (const n of [20, 70]) {
    const proxy = await startProxy(fixtureServers(n), { tools_page_size: 5000 });
    const all = await connectHttp(`${proxy.base}/mcp/all`);
    const direct = await waitAllListed(all, n);
    const searchClient = await connectHttp(`${proxy.base}/mcp`);
    const proxyTools = await listAll(searchClient);
    // One retrieve_tools answer per prompt: what search mode adds per lookup.
    const perQuery = [];
    for (const q of QUERIES.slice(0, 100)) {
      const r = await searchClient.callTool({ name: 'retrieve_tools', arguments: { query: q } });
      perQuery.push(count(r.content));
    }
    rows.push({ servers: n, tools: direct.length, direct: count(direct), search: count(proxyTools), proxy_tools: proxyTools.length,
      retrieve: stats(perQuery) });
    await all.close();
    await searchClient.close();
    await stop(proxy.proc);
  }
  results.sections.tokens = rows;
  emit(`## Token economy`);
  emit();
  emit(`Tokens (o200k_base, js-tiktoken ${results.machine.packages?.['js-tiktoken'] ?? ''}) of the JSON \`tools\` array a client gets from \`tools/list\`. Servers: consecutive`);
  emit(`15-tool slices of the 336 real definitions in tests/data (MCP-Universe's 13 servers, then the Azure MCP Server), cycling.`);
  emit(`A retrieve_tools answer = its content for one of the dataset's first 100 prompts (default limit 15), median (min–max).`);
  emit();
  emit(`| Servers (tools) | /mcp/all (direct) | /mcp (search mode) | saved | one retrieve_tools answer |`);
  emit(`|---|---|---|---|---|`);
  for (const r of rows) {
    emit(`| ${r.servers} (${r.tools}) | ${r.direct.toLocaleString('en')} | ${r.search.toLocaleString('en')} (${r.proxy_tools} tools) | ` +
      `${(100 * (1 - r.search / r.direct)).toFixed(1)}% | ${spread(r.retrieve, 0)} |`);
  }
  emit();
}

// ---------------------------------------------------------------------------------------------

const sections = { latency, load, memory, startup, search, tokens };
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(sections);
for (const name of wanted) if (!sections[name]) throw new Error(`unknown section ${name}; known: ${Object.keys(sections).join(' ')}`);
for (const [name, file] of Object.entries(bin)) {
  if (!fs.existsSync(file)) throw new Error(`missing ${name} binary ${file}: build the release preset first (make bench)`);
}
const started = Date.now();
try {
  machine();
  for (const name of wanted) await sections[name]();
} finally {
  killAll();
}
emit(`Harness time: ${((Date.now() - started) / 1000).toFixed(0)} s.`);
fs.writeFileSync(path.join(outDir, 'results.md'), `${md.join('\n')}\n`);
fs.writeFileSync(path.join(outDir, 'results.json'), JSON.stringify(results, null, 2));
process.exit(0);
