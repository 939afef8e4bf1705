// The management API (issue 6) end to end against the built proxy with real upstreams (the
// fixture server and server-everything): API-key auth and 401s, bad input, every endpoint's
// happy path, the Unix socket without a key, /events, /metrics, hot reload (good and broken
// edits, no reload loop after the proxy's own writes), and the upstream_servers tool's
// quarantine rule through /mcp and /mcp/all.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';

import {
  FIXTURE_BIN,
  MCPPROXY_BIN,
  callTool,
  connectHttpClient,
  everythingStdioServer,
  fixtureServer,
  makeTempDir,
  onCleanup,
  sleep,
  socketRequest,
  startProcess,
  startProxy,
  stopProcess,
  textOf,
  toolNames,
  waitFor,
  waitForStderr,
} from './harness.mjs';

const MAX_REQUEST_BYTES = 256 * 1024;

// ---------------------------------------------------------------------------------------------
// Helpers.

function readConfig(proxy) {
  return JSON.parse(fs.readFileSync(proxy.configPath, 'utf8'));
}

async function api(proxy, method, urlPath, { body, key = proxy.key, headers = {}, rawBody } = {}) {
  const init = { method, headers: { ...headers } };
  if (key !== null) init.headers['X-API-Key'] = key;
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] ??= 'application/json';
  }
  if (rawBody !== undefined) init.body = rawBody;
  const res = await fetch(`${proxy.baseUrl}${urlPath}`, init);
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

function assertError(res, status, code) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json?.error?.code, code, res.text);
  assert.equal(typeof res.json.error.message, 'string');
  assert.ok(res.json.error.message.length > 0);
}

/** Subscribes to GET /events; collects { event, data } records. */
async function openEvents(proxy, query = '') {
  const controller = new AbortController();
  const res = await fetch(`${proxy.baseUrl}/events${query}`, {
    headers: query ? {} : { 'X-API-Key': proxy.key },
    signal: controller.signal,
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/event-stream/);
  const events = [];
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data = [];
          for (const line of frame.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
          }
          if (data.length > 0) events.push({ event, data: JSON.parse(data.join('\n')) });
        }
      }
    } catch {
      // Aborted at cleanup.
    }
  })();
  const close = () => controller.abort();
  onCleanup(close);
  return {
    events,
    close,
    waitFor: (pred, what, timeout = 10000) =>
      waitFor(() => events.find((e) => pred(e)), { timeout, interval: 25, what }),
  };
}

async function waitForServerState(proxy, name, predicate, timeout = 20000) {
  return waitFor(
    async () => {
      const res = await api(proxy, 'GET', `/api/v1/servers/${name}`);
      return res.status === 200 && predicate(res.json.server) ? res.json.server : null;
    },
    { timeout, what: `server ${name} to reach the expected state` },
  );
}

function reloadCount(proxy) {
  return (proxy.proc.stderrText().match(/config reloaded from/g) ?? []).length;
}

/** Rewrites the config file the way editors do: write a temp file, rename it over. */
function editConfig(proxy, mutate) {
  const text = typeof mutate === 'string' ? mutate : JSON.stringify(mutate(readConfig(proxy)), null, 2);
  const temp = `${proxy.configPath}.edit`;
  fs.writeFileSync(temp, text);
  fs.renameSync(temp, proxy.configPath);
}

// ---------------------------------------------------------------------------------------------

describe('management API', () => {
  let proxy;

  before(async () => {
    proxy = await startProxy({
      max_request_bytes: MAX_REQUEST_BYTES,
      mcpServers: [
        fixtureServer('fx', [], { env: { FIXTURE_SECRET: 'value-that-must-not-leak' } }),
        everythingStdioServer('ev'),
      ],
    });
    proxy.key = readConfig(proxy).api_key;
    await waitForServerState(proxy, 'fx', (s) => s.state === 'ready');
    await waitForServerState(proxy, 'ev', (s) => s.state === 'ready');
  });

  test('the API key is generated on first run, stored in the config, never logged', () => {
    assert.match(proxy.key, /^[0-9a-f]{64}$/);
    assert.ok(!proxy.proc.stderrText().includes(proxy.key), 'the key is not in the log');
    assert.match(proxy.proc.stderrText(), /api key: stored in /);
  });

  test('401 without or with a wrong key; header, Bearer and (for /events only) query key', async () => {
    for (const urlPath of ['/api/v1/servers', '/api/v1/status', '/metrics', '/events']) {
      assertError(await api(proxy, 'GET', urlPath, { key: null }), 401, 'unauthorized');
      assertError(await api(proxy, 'GET', urlPath, { key: 'x'.repeat(64) }), 401, 'unauthorized');
    }
    assertError(await api(proxy, 'GET', '/api/v1/servers', { key: proxy.key.slice(1) }), 401, 'unauthorized');
    const bearer = await api(proxy, 'GET', '/api/v1/servers', {
      key: null,
      headers: { Authorization: `Bearer ${proxy.key}` },
    });
    assert.equal(bearer.status, 200, bearer.text);
    assertError(await api(proxy, 'GET', `/api/v1/servers?api_key=${proxy.key}`, { key: null }), 401, 'unauthorized');
    const stream = await openEvents(proxy, `?api_key=${proxy.key}`);
    stream.close();
  });

  test('health checks need no key; / redirects to /ui/', async () => {
    const health = await api(proxy, 'GET', '/healthz', { key: null });
    assert.equal(health.status, 200);
    assert.deepEqual(health.json, { status: 'ok' });
    const ready = await api(proxy, 'GET', '/readyz', { key: null });
    assert.equal(ready.status, 200, ready.text);
    const root = await fetch(`${proxy.baseUrl}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/ui/');
    assertError(await api(proxy, 'GET', '/nope', { key: null }), 404, 'not_found');
  });

  test('a foreign Origin is refused like on /mcp', async () => {
    const res = await api(proxy, 'GET', '/api/v1/servers', { headers: { Origin: 'http://evil.example' } });
    assertError(res, 403, 'forbidden');
  });

  test('status and the server list (config order; env values never returned)', async () => {
    const status = await api(proxy, 'GET', '/api/v1/status');
    assert.equal(status.status, 200);
    assert.equal(status.json.version, '0.1.0');
    assert.equal(status.json.servers.total, 2);
    assert.equal(status.json.servers.ready, 2);
    assert.equal(status.json.config_path, proxy.configPath);
    assert.ok(status.json.tool_count > 10);

    const list = await api(proxy, 'GET', '/api/v1/servers');
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.servers.map((s) => s.name), ['fx', 'ev']);
    const fx = list.json.servers[0];
    assert.equal(fx.enabled, true);
    assert.equal(fx.quarantined, false);
    assert.equal(fx.state, 'ready');
    assert.ok(fx.tool_count > 5);
    assert.equal(fx.protocol, 'stdio');
    assert.deepEqual(fx.env_keys, ['FIXTURE_SECRET']);
    assert.equal(fx.prefix, 'fx__');
    assert.equal(fx.call_timeout_ms, 50000);
    assert.ok(!list.text.includes('value-that-must-not-leak'));
    assertError(await api(proxy, 'GET', '/api/v1/servers/nope'), 404, 'not_found');
  });

  test('bad input: JSON, media type, duplicate, invalid entry, rename, oversized body', async () => {
    assertError(await api(proxy, 'POST', '/api/v1/servers', { rawBody: '{bad', headers: { 'Content-Type': 'application/json' } }), 400, 'invalid_request');
    assertError(await api(proxy, 'POST', '/api/v1/servers', { rawBody: '[]', headers: { 'Content-Type': 'application/json' } }), 400, 'invalid_request');
    assertError(await api(proxy, 'POST', '/api/v1/servers', { rawBody: '{}', headers: { 'Content-Type': 'text/plain' } }), 415, 'unsupported_media_type');
    assertError(await api(proxy, 'POST', '/api/v1/servers', { body: fixtureServer('fx') }), 409, 'conflict');
    assertError(await api(proxy, 'POST', '/api/v1/servers', { body: { name: 'nothing' } }), 400, 'invalid_request');
    assertError(await api(proxy, 'POST', '/api/v1/servers', { body: { name: 'bad name!', command: 'x' } }), 400, 'invalid_request');
    assertError(await api(proxy, 'PATCH', '/api/v1/servers/fx', { body: { name: 'other' } }), 400, 'invalid_request');
    assertError(await api(proxy, 'PATCH', '/api/v1/servers/fx', { body: { args: 'not-an-array' } }), 400, 'invalid_request');
    assertError(await api(proxy, 'PATCH', '/api/v1/servers/nope', { body: { enabled: false } }), 404, 'not_found');
    assertError(await api(proxy, 'DELETE', '/api/v1/servers/nope'), 404, 'not_found');
    assertError(await api(proxy, 'POST', '/api/v1/servers/nope/restart'), 404, 'not_found');
    const huge = { name: 'huge', command: 'x', args: ['y'.repeat(MAX_REQUEST_BYTES + 512)] };
    assertError(await api(proxy, 'POST', '/api/v1/servers', { body: huge }), 413, 'payload_too_large');
    assertError(await api(proxy, 'GET', '/api/v1/activity?limit=abc'), 400, 'invalid_request');
    assertError(await api(proxy, 'POST', '/api/v1/call', { body: { server: 'nope', tool: 'x' } }), 404, 'not_found');
    assertError(await api(proxy, 'POST', '/api/v1/call', { body: { server: 'fx' } }), 400, 'invalid_request');
    // Nothing of that reached the config file, and the proxy still serves.
    assert.deepEqual(readConfig(proxy).mcpServers.map((s) => s.name), ['fx', 'ev']);
    assert.equal((await api(proxy, 'GET', '/healthz')).status, 200);
  });

  test('add (quarantined), approve, call, activity, tools, logs, disable/enable, restart, remove', async () => {
    const reloadsBefore = reloadCount(proxy);
    const added = await api(proxy, 'POST', '/api/v1/servers', { body: fixtureServer('fx2') });
    assert.equal(added.status, 201, added.text);
    assert.equal(added.json.server.name, 'fx2');
    assert.equal(added.json.server.quarantined, true);
    assert.ok(readConfig(proxy).mcpServers.some((s) => s.name === 'fx2'), 'persisted');
    await waitForServerState(proxy, 'fx2', (s) => s.state === 'ready');

    const refused = await api(proxy, 'POST', '/api/v1/call', { body: { server: 'fx2', tool: 'echo', arguments: { message: 'x' } } });
    assertError(refused, 403, 'forbidden');
    const quarantinedTools = await api(proxy, 'GET', '/api/v1/servers/fx2/tools');
    assert.equal(quarantinedTools.status, 200);
    assert.ok(quarantinedTools.json.tools.length > 5);
    assert.ok(quarantinedTools.json.tools.every((t) => t.approval === 'quarantined'));

    const approved = await api(proxy, 'POST', '/api/v1/servers/fx2/approve');
    assert.equal(approved.status, 200, approved.text);
    assert.equal(approved.json.server.quarantined, false);
    const called = await api(proxy, 'POST', '/api/v1/call', { body: { server: 'fx2', tool: 'echo', arguments: { message: 'hello api' } } });
    assert.equal(called.status, 200, called.text);
    assert.match(textOf(called.json), /hello api/);

    const activity = await waitFor(async () => {
      const res = await api(proxy, 'GET', '/api/v1/activity?server=fx2&status=ok');
      return res.json.activity.length > 0 ? res.json.activity : null;
    }, { what: 'the call in the activity log' });
    assert.equal(activity[0].tool, 'echo');
    assert.equal(activity[0].status, 'ok');
    assert.equal(activity[0].caller, 'api');

    const tool = await waitFor(async () => {
      const res = await api(proxy, 'GET', '/api/v1/tools/fx2/echo');
      return res.status === 200 && res.json.tool.stats.calls >= 1 ? res.json.tool : null;
    }, { what: 'tool statistics' });
    assert.equal(tool.approval, 'allowed');
    assert.equal(tool.server, 'fx2');
    assert.ok(tool.input_schema);
    const diff = await api(proxy, 'GET', '/api/v1/tools/fx2/echo/diff');
    assert.equal(diff.status, 200, diff.text);
    assert.equal(diff.json.approved.hash, diff.json.current.hash);
    const reapproved = await api(proxy, 'POST', '/api/v1/tools/fx2/echo/approve');
    assert.equal(reapproved.status, 200, reapproved.text);
    assert.equal(reapproved.json.tool.approval, 'allowed');
    const search = await api(proxy, 'GET', '/api/v1/tools/search?q=echo%20text&limit=5');
    assert.equal(search.status, 200);
    assert.ok(search.json.results.some((r) => r.name === 'echo'), search.text);
    const all = await api(proxy, 'GET', '/api/v1/tools?server=ev');
    assert.ok(all.json.tools.length > 5 && all.json.tools.every((t) => t.server === 'ev'));

    await api(proxy, 'POST', '/api/v1/call', { body: { server: 'fx2', tool: 'stderr', arguments: { lines: 3 } } });
    const logs = await waitFor(async () => {
      const res = await api(proxy, 'GET', '/api/v1/servers/fx2/logs?lines=2');
      return res.json.lines.length === 2 ? res.json.lines : null;
    }, { what: 'log lines' });
    assert.equal(logs.length, 2);

    const disabled = await api(proxy, 'POST', '/api/v1/servers/fx2/disable');
    assert.equal(disabled.json.server.enabled, false);
    await waitForServerState(proxy, 'fx2', (s) => s.state === 'disabled');
    assert.equal(readConfig(proxy).mcpServers.find((s) => s.name === 'fx2').enabled, false);
    await api(proxy, 'POST', '/api/v1/servers/fx2/enable');
    await waitForServerState(proxy, 'fx2', (s) => s.state === 'ready');
    const pidBefore = textOf((await api(proxy, 'POST', '/api/v1/call', { body: { server: 'fx2', tool: 'pid' } })).json);
    const restarted = await api(proxy, 'POST', '/api/v1/servers/fx2/restart');
    assert.equal(restarted.status, 200);
    await waitForServerState(proxy, 'fx2', (s) => s.state === 'ready');
    const pidAfter = textOf((await api(proxy, 'POST', '/api/v1/call', { body: { server: 'fx2', tool: 'pid' } })).json);
    assert.notEqual(pidAfter, pidBefore, 'restart started a new process');

    const patched = await api(proxy, 'PATCH', '/api/v1/servers/fx2', { body: { call_timeout: '7s' } });
    assert.equal(patched.json.server.call_timeout_ms, 7000);
    const quarantined = await api(proxy, 'POST', '/api/v1/servers/fx2/quarantine');
    assert.equal(quarantined.json.server.quarantined, true);
    assertError(await api(proxy, 'POST', '/api/v1/call', { body: { server: 'fx2', tool: 'pid' } }), 403, 'forbidden');

    const removed = await api(proxy, 'DELETE', '/api/v1/servers/fx2');
    assert.equal(removed.status, 204);
    assertError(await api(proxy, 'GET', '/api/v1/servers/fx2'), 404, 'not_found');
    assert.ok(!readConfig(proxy).mcpServers.some((s) => s.name === 'fx2'));

    // No reload loop: the proxy's own writes are not reloaded.
    await sleep(1000);
    assert.equal(reloadCount(proxy), reloadsBefore, 'own writes did not trigger reloads');
  });

  test('security events and scan', async () => {
    const events = await api(proxy, 'GET', '/api/v1/security/events?limit=100');
    assert.equal(events.status, 200);
    assert.ok(events.json.events.some((e) => e.kind === 'approved' && e.server === 'fx2'), events.text);
    const quarantined = await api(proxy, 'GET', '/api/v1/security/events?kind=quarantined');
    assert.ok(quarantined.json.events.length > 0 && quarantined.json.events.every((e) => e.kind === 'quarantined'));
    const scan = await api(proxy, 'GET', '/api/v1/security/scan?server=ev');
    assert.equal(scan.status, 200);
    assert.ok(Array.isArray(scan.json.findings));
    assert.ok(scan.json.findings.every((f) => f.server === 'ev' && f.rule && f.severity));
    assertError(await api(proxy, 'GET', '/api/v1/security/scan?server=nope'), 404, 'not_found');
  });

  test('config: secrets redacted; validate', async () => {
    const config = await api(proxy, 'GET', '/api/v1/config');
    assert.equal(config.status, 200);
    assert.equal(config.json.path, proxy.configPath);
    assert.equal(config.json.config.api_key, '***');
    assert.equal(config.json.config.mcpServers[0].env.FIXTURE_SECRET, '***');
    assert.ok(!config.text.includes(proxy.key) && !config.text.includes('value-that-must-not-leak'));
    const good = await api(proxy, 'POST', '/api/v1/config/validate', { body: { mcpServers: [] } });
    assert.deepEqual(good.json.valid, true);
    const bad = await api(proxy, 'POST', '/api/v1/config/validate', { body: { mcpServers: [{ name: 'x' }] } });
    assert.equal(bad.json.valid, false);
    assert.ok(bad.json.errors[0].length > 0);
  });

  test('the Unix socket serves the API without a key (mode 0600)', async () => {
    const socketPath = path.join(proxy.dataDir, 'mcpproxy.sock');
    assert.equal(fs.statSync(socketPath).mode & 0o777, 0o600);
    const list = await socketRequest(socketPath, 'GET', '/api/v1/servers');
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.json.servers.map((s) => s.name), ['fx', 'ev']);
    const status = await socketRequest(socketPath, 'GET', '/api/v1/status');
    assert.equal(status.json.servers.total, 2);
  });

  test('/events delivers state changes; /metrics is Prometheus text', async () => {
    const stream = await openEvents(proxy);
    await api(proxy, 'POST', '/api/v1/servers/fx/disable');
    await stream.waitFor((e) => e.event === 'server.state' && e.data.name === 'fx' && e.data.state === 'disabled', 'server.state disabled');
    await stream.waitFor((e) => e.event === 'servers.changed', 'servers.changed');
    await api(proxy, 'POST', '/api/v1/servers/fx/enable');
    await stream.waitFor((e) => e.event === 'server.state' && e.data.name === 'fx' && e.data.state === 'ready', 'server.state ready');
    await api(proxy, 'POST', '/api/v1/call', { body: { server: 'fx', tool: 'echo', arguments: { message: 'm' } } });
    await stream.waitFor((e) => e.event === 'activity' && e.data.server === 'fx' && e.data.tool === 'echo', 'activity event');
    stream.close();

    const metrics = await api(proxy, 'GET', '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const samples = new Map();
    for (const line of metrics.text.split('\n')) {
      if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
      const match = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.eE+-]+|\+Inf|NaN)$/);
      assert.ok(match, `not a Prometheus sample line: ${line}`);
      samples.set(match[1] + (match[2] ?? ''), Number(match[3]));
    }
    assert.equal(samples.get('mcpproxy_upstreams'), 2);
    assert.ok(samples.get('mcpproxy_calls_total{server="fx",status="ok"}') >= 1);
    assert.equal(samples.get('mcpproxy_upstream_state{server="fx",state="ready"}'), 1);
    assert.ok(samples.get('mcpproxy_call_duration_seconds_count{server="fx"}') >= 1);
    assert.ok(samples.get('process_resident_memory_bytes') > 1e6);
  });

  test('hot reload: a good edit applies within a second; a broken edit is rejected', async () => {
    const stream = await openEvents(proxy);
    const started = Date.now();
    editConfig(proxy, (config) => {
      config.mcpServers.push(fixtureServer('fx3', [], { quarantined: false }));
      return config;
    });
    await waitFor(async () => (await api(proxy, 'GET', '/api/v1/servers/fx3')).status === 200, {
      timeout: 1500,
      interval: 20,
      what: 'the edited-in server to appear',
    });
    const appeared = Date.now() - started;
    console.log(`# reload: server visible ${appeared} ms after the edit`);
    await stream.waitFor((e) => e.event === 'config.reloaded', 'config.reloaded');
    await waitForServerState(proxy, 'fx3', (s) => s.state === 'ready');

    const before = (await api(proxy, 'GET', '/api/v1/servers')).json.servers.map((s) => s.name);
    const goodConfig = readConfig(proxy);
    editConfig(proxy, '{"mcpServers": [ {"name": ');
    const error = await stream.waitFor((e) => e.event === 'config.error', 'config.error');
    assert.equal(error.data.path, proxy.configPath);
    assert.match(error.data.message, /JSON/);
    assert.match(proxy.proc.stderrText(), /config reload rejected/);
    const after = (await api(proxy, 'GET', '/api/v1/servers')).json.servers.map((s) => s.name);
    assert.deepEqual(after, before, 'the running configuration stays');
    const call = await api(proxy, 'POST', '/api/v1/call', { body: { server: 'fx3', tool: 'echo', arguments: { message: 'still' } } });
    assert.match(textOf(call.json), /still/);

    // Fixing the file applies it: fx3 goes away; a listen change is reported as needing a
    // restart.
    const reloads = stream.events.filter((e) => e.event === 'config.reloaded').length;
    goodConfig.mcpServers = goodConfig.mcpServers.filter((s) => s.name !== 'fx3');
    goodConfig.listen = '127.0.0.1:1';
    editConfig(proxy, JSON.stringify(goodConfig, null, 2));
    await waitFor(async () => (await api(proxy, 'GET', '/api/v1/servers/fx3')).status === 404, {
      timeout: 3000,
      what: 'fx3 to be removed',
    });
    const reloaded = await waitFor(
      () => stream.events.filter((e) => e.event === 'config.reloaded')[reloads],
      { what: 'a second config.reloaded' },
    );
    assert.deepEqual(reloaded.data.restart_required, ['listen']);
    assert.equal((await api(proxy, 'GET', '/healthz')).status, 200, 'still serving on the old address');
  });
});

describe('upstream_servers proxy tool', () => {
  let proxy;
  let retrieve; // /mcp (retrieve_tools mode)
  let direct; // /mcp/all

  before(async () => {
    proxy = await startProxy({ mcpServers: [fixtureServer('fx')] });
    proxy.key = readConfig(proxy).api_key;
    retrieve = await connectHttpClient(`${proxy.baseUrl}/mcp`);
    direct = await connectHttpClient(proxy.url);
  });

  const structured = (result) => {
    assert.ok(!result.isError, textOf(result));
    return result.structuredContent;
  };

  test('listed on /mcp and /mcp/all', async () => {
    assert.ok((await toolNames(retrieve)).includes('upstream_servers'));
    assert.ok((await toolNames(direct)).includes('upstream_servers'));
    const list = structured(await callTool(retrieve, 'upstream_servers', { operation: 'list' }));
    assert.deepEqual(list.servers.map((s) => s.name), ['fx']);
  });

  test('a server an agent adds is quarantined; update, disable/enable and restart cannot release it', async () => {
    const added = structured(
      await callTool(retrieve, 'upstream_servers', {
        operation: 'add',
        name: 'agent1',
        command: FIXTURE_BIN,
        args_json: JSON.stringify(['--name', 'agent1']),
        env_json: JSON.stringify({ AGENT_TOKEN: 'agent-secret' }),
        protocol: 'stdio',
        quarantined: false, // ignored
      }),
    );
    assert.equal(added.server.quarantined, true);
    assert.deepEqual(added.server.env_keys, ['AGENT_TOKEN']);
    const entry = readConfig(proxy).mcpServers.find((s) => s.name === 'agent1');
    assert.equal(entry.quarantined, true, 'stored as quarantined in the config');
    await waitForServerState(proxy, 'agent1', (s) => s.state === 'ready');
    assertError(await api(proxy, 'POST', '/api/v1/call', { body: { server: 'agent1', tool: 'echo' } }), 403, 'forbidden');
    assert.ok(!(await toolNames(direct)).some((n) => n.startsWith('agent1__')), 'its tools stay hidden');

    const updated = structured(
      await callTool(direct, 'upstream_servers', {
        operation: 'update',
        name: 'agent1',
        args_json: JSON.stringify(['--name', 'agent1', '--page-size', '3']),
        quarantined: false,
      }),
    );
    assert.equal(updated.server.quarantined, true);
    assert.equal(readConfig(proxy).mcpServers.find((s) => s.name === 'agent1').quarantined, true);
    for (const operation of ['disable', 'enable', 'restart']) {
      const result = structured(await callTool(retrieve, 'upstream_servers', { operation, name: 'agent1' }));
      assert.equal(result.server.quarantined, true, operation);
    }
    await waitForServerState(proxy, 'agent1', (s) => s.state === 'ready');
    assertError(await api(proxy, 'POST', '/api/v1/call', { body: { server: 'agent1', tool: 'echo' } }), 403, 'forbidden');
  });

  test('a person approves; an agent changing the command puts it back into quarantine', async () => {
    const approved = await api(proxy, 'POST', '/api/v1/servers/agent1/approve');
    assert.equal(approved.json.server.quarantined, false);
    await waitFor(async () => (await toolNames(direct)).includes('agent1__echo'), { what: 'approved tools listed' });
    const updated = structured(
      await callTool(retrieve, 'upstream_servers', {
        operation: 'update',
        name: 'agent1',
        args_json: JSON.stringify(['--name', 'agent1', '--slow-start', '10']),
      }),
    );
    assert.equal(updated.server.quarantined, true, 'a new program under a reviewed name needs review');
    await waitFor(async () => !(await toolNames(direct)).includes('agent1__echo'), { what: 'tools hidden again' });
  });

  test('bad arguments get clear errors; remove works', async () => {
    const bad = await callTool(retrieve, 'upstream_servers', { operation: 'add', name: 'x', args_json: '[oops' });
    assert.equal(bad.isError, true);
    assert.match(textOf(bad), /args_json/);
    const unknown = await callTool(retrieve, 'upstream_servers', { operation: 'explode', name: 'x' });
    assert.equal(unknown.isError, true);
    const duplicate = await callTool(retrieve, 'upstream_servers', { operation: 'add', name: 'fx', command: FIXTURE_BIN });
    assert.equal(duplicate.isError, true);
    const removed = await callTool(direct, 'upstream_servers', { operation: 'remove', name: 'agent1' });
    assert.ok(!removed.isError, textOf(removed));
    assert.ok(!readConfig(proxy).mcpServers.some((s) => s.name === 'agent1'));
  });
});

describe('disable_management', () => {
  test('hides upstream_servers on both endpoints and refuses calls', async () => {
    const proxy = await startProxy({ disable_management: true, mcpServers: [fixtureServer('fx')] });
    const retrieve = await connectHttpClient(`${proxy.baseUrl}/mcp`);
    const direct = await connectHttpClient(proxy.url);
    assert.ok(!(await toolNames(retrieve)).includes('upstream_servers'));
    assert.ok(!(await toolNames(direct)).includes('upstream_servers'));
    for (const client of [retrieve, direct]) {
      const result = await callTool(client, 'upstream_servers', { operation: 'add', name: 'sneaky', command: FIXTURE_BIN }).catch(
        (err) => ({ isError: true, content: [{ type: 'text', text: String(err.message) }] }),
      );
      assert.equal(result.isError, true);
    }
    assert.ok(!readConfig(proxy).mcpServers.some((s) => s.name === 'sneaky'));

    // A live setting: turning management back on in the file shows the tool to both endpoints.
    editConfig(proxy, (config) => ({ ...config, disable_management: false }));
    await waitFor(async () => (await toolNames(direct)).includes('upstream_servers'), {
      timeout: 3000,
      what: 'upstream_servers after the reload',
    });
    assert.ok((await toolNames(retrieve)).includes('upstream_servers'));
  });
});

describe('management socket lifecycle', () => {
  test('removed on exit; a live one is not taken over; a crashed daemon\'s is replaced', async () => {
    const tmp = makeTempDir('mcpproxy-it-sock-');
    const dataDir = path.join(tmp, 'data');
    const socketPath = path.join(dataDir, 'mcpproxy.sock');
    const configPath = path.join(tmp, 'config.json');
    fs.writeFileSync(configPath, JSON.stringify({ mcpServers: [] }));
    const daemon = async () => {
      const proc = startProcess(MCPPROXY_BIN, ['serve', '--config', configPath, '--data-dir', dataDir, '--listen', '127.0.0.1:0'], { name: 'mcpproxy' });
      await waitForStderr(proc, /listening on http/, 30000, 'the proxy to listen');
      return proc;
    };
    const ownerPid = async () => (await socketRequest(socketPath, 'GET', '/api/v1/status')).json.uptime_s !== undefined;

    const first = await daemon();
    assert.ok(await ownerPid());
    const second = await daemon();
    assert.match(second.stderrText(), /management socket: another mcpproxy serves on/);
    assert.ok(await stopProcess(second), 'the second daemon stops on SIGTERM');
    assert.ok(fs.existsSync(socketPath), 'the first daemon\'s socket survives the second one');
    assert.ok(await ownerPid(), 'and still answers');

    first.kill('SIGKILL'); // a crash: the socket file stays behind
    await withTimeoutExit(first);
    assert.ok(fs.existsSync(socketPath), 'a crashed daemon leaves its socket file');
    await assert.rejects(socketRequest(socketPath, 'GET', '/healthz'));

    const third = await daemon();
    assert.doesNotMatch(third.stderrText(), /management socket:/);
    const status = await socketRequest(socketPath, 'GET', '/api/v1/status');
    assert.equal(status.status, 200);
    assert.equal(fs.statSync(socketPath).mode & 0o777, 0o600);
    assert.ok(await stopProcess(third));
    assert.equal(third.exitCode, 0);
    assert.ok(!fs.existsSync(socketPath), 'removed on a clean exit');
  });
});

async function withTimeoutExit(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  await waitFor(() => proc.exitCode !== null || proc.signalCode !== null, { what: 'the process to exit' });
}
