// `mcpproxy serve --stdio`: one client on stdin/stdout. Driven by the SDK's StdioClientTransport
// (what Claude Desktop and friends do) and by a raw pipe to check that stdout carries nothing
// but JSON-RPC, whatever the upstreams print and whatever the client sends. The configs set
// "routing_mode": "direct" so that stdio exposes every upstream tool as <server>__<tool> (the
// default, retrieve_tools, exposes the proxy's search tools instead).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import {
  Client,
  MCPPROXY_BIN,
  StdioClientTransport,
  assertCleanExit,
  callTool,
  everythingStdioServer,
  fixtureServer,
  makeTempDir,
  onCleanup,
  processAlive,
  startProcess,
  textOf,
  toolNames,
  types,
  waitFor,
  withTimeout,
} from './harness.mjs';

const READY_TIMEOUT = 30000;

function writeConfig(config) {
  const tmp = makeTempDir('mcpproxy-it-stdio-');
  const dataDir = path.join(tmp, 'data');
  fs.mkdirSync(dataDir);
  const configPath = path.join(tmp, 'config.json');
  // Trusted explicitly, as a user would; quarantine has its own tests (security.test.mjs).
  for (const server of config.mcpServers ?? []) {
    if (server.quarantined === undefined) server.quarantined = false;
  }
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
  return { tmp, dataDir, configPath };
}

/** Every line must be one JSON-RPC 2.0 message; returns the parsed messages. */
function parseJsonRpcLines(text) {
  assert.ok(text === '' || text.endsWith('\n'), 'stdout ends with a newline');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      let message;
      assert.doesNotThrow(() => {
        message = JSON.parse(line);
      }, `stdout line is not JSON: ${line.slice(0, 200)}`);
      assert.equal(message.jsonrpc, '2.0', `not JSON-RPC: ${line.slice(0, 200)}`);
      return message;
    });
}

/**
 * Starts `mcpproxy serve --stdio` as a plain child process and speaks NDJSON to it. Returns
 * { proc, send(obj|string), messages() (parsed so far), waitForMessage(pred), stdout() }.
 */
function startRawStdioProxy(configInfo, extraArgs = []) {
  const proc = startProcess(
    MCPPROXY_BIN,
    ['serve', '--stdio', '--config', configInfo.configPath, '--data-dir', configInfo.dataDir, ...extraArgs],
    { cwd: configInfo.tmp, name: 'mcpproxy-stdio' },
  );
  let stdout = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  const messages = () => parseJsonRpcLines(stdout.slice(0, stdout.lastIndexOf('\n') + 1));
  return {
    proc,
    stdout: () => stdout,
    messages,
    send: (message) => proc.stdin.write(`${typeof message === 'string' ? message : JSON.stringify(message)}\n`),
    waitForMessage: (predicate, what, timeout = READY_TIMEOUT) =>
      waitFor(() => messages().find(predicate), { timeout, interval: 50, what }),
  };
}

const initializeRequest = (id = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

describe('serve --stdio with the SDK client', () => {
  test('lists and calls tools of stdio upstreams; stdout stays pure JSON-RPC', async () => {
    const info = writeConfig({
      // trust_mode auto: the tool added below is approved at once, so list_changed follows.
      mcpServers: [fixtureServer('fx', [], { trust_mode: 'auto' }), everythingStdioServer('ev')],
      routing_mode: 'direct',
    });
    const transport = new StdioClientTransport({
      command: MCPPROXY_BIN,
      args: ['serve', '--stdio', '--config', info.configPath, '--data-dir', info.dataDir],
      env: { ...process.env },
      cwd: info.tmp,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr.setEncoding('utf8');
    transport.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const client = new Client({ name: 'stdio-it', version: '1.0.0' }, { capabilities: {} });
    const transportErrors = [];
    client.onerror = (err) => transportErrors.push(err);
    let listChanged = 0;
    client.setNotificationHandler(types.ToolListChangedNotificationSchema, () => {
      listChanged += 1;
    });
    await withTimeout(client.connect(transport), READY_TIMEOUT, 'connecting over stdio');
    const pid = transport.pid;
    onCleanup(() => client.close());

    assert.equal(client.getServerVersion()?.name, 'mcpproxy');
    await waitFor(
      async () => {
        const names = await toolNames(client);
        return names.includes('fx__echo') && names.includes('ev__echo');
      },
      { timeout: READY_TIMEOUT, interval: 200, what: 'tools of fx and ev' },
    );

    assert.equal(textOf(await callTool(client, 'fx__echo', { message: 'over stdio' })), 'over stdio');
    assert.equal(textOf(await callTool(client, 'ev__echo', { message: 'x' })), 'Echo: x');
    const structured = await callTool(client, 'fx__structured', { value: 'abcd' });
    assert.deepEqual(structured.structuredContent, { value: 'abcd', length: 4 });
    // An upstream writing garbage and a 1 MiB line to its stdout: nothing of it reaches ours.
    assert.equal(textOf(await callTool(client, 'fx__garbage')), 'garbage sent');
    assert.equal(textOf(await callTool(client, 'fx__flood', { bytes: 1 << 20 })), `flooded ${1 << 20}`);
    assert.equal(textOf(await callTool(client, 'fx__stderr', { lines: 50 })), 'ok');

    // list_changed from an upstream reaches the stdio client.
    const before = listChanged;
    await callTool(client, 'fx__add_tool', { name: 'added_over_stdio' });
    await waitFor(() => listChanged > before, { timeout: 10000, what: 'notifications/tools/list_changed' });
    await waitFor(async () => (await toolNames(client)).includes('fx__added_over_stdio'), {
      timeout: 10000,
      what: 'fx__added_over_stdio listed',
    });

    assert.deepEqual(transportErrors.map(String), [], 'the SDK saw only valid JSON-RPC on stdout');
    assert.match(stderr, /serving one client on stdin\/stdout/, 'logs go to stderr');
    assert.ok(!stderr.includes('fixture stderr line'), "upstream stderr goes to its log file, not the proxy's");
    const upstreamLog = fs.readFileSync(path.join(info.dataDir, 'logs', 'fx.log'), 'utf8');
    assert.match(upstreamLog, /fixture stderr line 49/);

    // Closing stdin ends the proxy (the SDK escalates to SIGTERM after 2 s; either way the exit
    // must be free of sanitizer reports; the raw-pipe test below checks the exit code).
    await client.close();
    await waitFor(() => !processAlive(pid), { timeout: 20000, what: 'the stdio proxy to exit' });
    await waitFor(() => transport.stderr.readableEnded || transport.stderr.destroyed, {
      timeout: 5000,
      what: 'proxy stderr to end',
    }).catch(() => {});
    assert.doesNotMatch(stderr, /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:/);
  });
});

describe('serve --stdio over a raw pipe', () => {
  test('answers garbage with JSON-RPC errors, logs only to stderr and the log file, exits 0 on EOF', async () => {
    const info = writeConfig({ mcpServers: [fixtureServer('fx')], tools_page_size: 5, routing_mode: 'direct' });
    const logFile = path.join(info.tmp, 'proxy.log');
    const raw = startRawStdioProxy(info, ['--log-file', logFile, '--log-level', 'debug']);

    raw.send(initializeRequest(1));
    const init = await raw.waitForMessage((m) => m.id === 1, 'initialize result');
    assert.equal(init.result?.serverInfo?.name, 'mcpproxy');
    assert.equal(init.result?.protocolVersion, '2025-06-18');
    raw.send({ jsonrpc: '2.0', method: 'notifications/initialized' });

    raw.send('this is not json');
    await raw.waitForMessage((m) => m.error?.code === -32700 && m.id === null, 'parse error for garbage');
    raw.send({ jsonrpc: '2.0', id: 'bad', method: 42 });
    await raw.waitForMessage((m) => m.id === 'bad' && m.error?.code === -32600, 'invalid request with its id');
    raw.send({ jsonrpc: '2.0', id: 2, method: 'no/such/method' });
    await raw.waitForMessage((m) => m.id === 2 && m.error?.code === -32601, 'method not found');
    raw.send(`${'['.repeat(5000)}${']'.repeat(5000)}`);
    await waitFor(() => raw.messages().filter((m) => m.error?.code === -32700).length >= 2, {
      timeout: 10000,
      what: 'parse error for deeply nested JSON',
    });

    // Wait for the upstream, then page through the tools 5 at a time.
    await waitFor(
      async () => {
        const id = `list-${Date.now()}`;
        raw.send({ jsonrpc: '2.0', id, method: 'tools/list', params: {} });
        const reply = await raw.waitForMessage((m) => m.id === id, 'tools/list', 10000);
        return reply.result?.tools?.length === 5;
      },
      { timeout: READY_TIMEOUT, interval: 200, what: 'fx tools listed' },
    );
    const names = [];
    let cursor;
    for (let page = 0; page < 100; page += 1) {
      const id = `page-${page}`;
      raw.send({ jsonrpc: '2.0', id, method: 'tools/list', params: cursor ? { cursor } : {} });
      const reply = await raw.waitForMessage((m) => m.id === id, `tools/list page ${page}`, 10000);
      assert.ok(reply.result, JSON.stringify(reply));
      assert.ok(reply.result.tools.length <= 5);
      names.push(...reply.result.tools.map((tool) => tool.name));
      cursor = reply.result.nextCursor;
      if (!cursor) break;
    }
    assert.ok(names.length > 10 && names.includes('fx__echo') && names.includes('fx__spawn_child'));
    assert.equal(new Set(names).size, names.length);

    // Two requests in flight: the quick one is not held up by the slow one; ids are kept.
    const call = (id, name, args) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
    raw.send(call('slow', 'fx__sleep', { ms: 1500 }));
    raw.send(call('quick', 'fx__echo', { message: 'q' }));
    const quick = await raw.waitForMessage((m) => m.id === 'quick', 'quick result', 10000);
    assert.equal(quick.result?.content?.[0]?.text, 'q');
    assert.ok(!raw.messages().some((m) => m.id === 'slow'), 'the quick answer came first');
    const slow = await raw.waitForMessage((m) => m.id === 'slow', 'slow result', 10000);
    assert.equal(slow.result?.content?.[0]?.text, 'slept 1500');

    // A request sent right before EOF is still answered, then the proxy exits 0.
    raw.send(call('last', 'fx__sleep', { ms: 300 }));
    raw.proc.stdin.end();
    const { code, signal } = await withTimeout(raw.proc.exited, 20000, 'exit after stdin EOF');
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, raw.proc.stderrText());
    assertCleanExit(raw.proc, 'mcpproxy --stdio');
    const all = parseJsonRpcLines(raw.stdout());
    assert.equal(all.find((m) => m.id === 'last')?.result?.content?.[0]?.text, 'slept 300');

    const stderr = raw.proc.stderrText();
    assert.match(stderr, /serving one client on stdin\/stdout/);
    assert.match(fs.readFileSync(logFile, 'utf8'), /serving one client on stdin\/stdout/, '--log-file gets the logs');
  });

  test('a bad config fails with exit code 2 and a message naming the field, nothing on stdout', async () => {
    const info = writeConfig({ mcpServers: [{ name: 'bad', command: 42 }] });
    const raw = startRawStdioProxy(info);
    const { code } = await withTimeout(raw.proc.exited, 10000, 'exit on a bad config');
    assert.equal(code, 2);
    assert.match(raw.proc.stderrText(), /mcpServers\[0\]\.command/);
    assert.equal(raw.stdout(), '');
  });

  test('the upstream is stopped when the stdio client goes away', async () => {
    const info = writeConfig({ mcpServers: [fixtureServer('fx')], routing_mode: 'direct' });
    const raw = startRawStdioProxy(info);
    raw.send(initializeRequest(1));
    await raw.waitForMessage((m) => m.id === 1, 'initialize result');
    raw.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    let upstreamPid;
    await waitFor(
      async () => {
        const id = `pid-${Date.now()}`;
        raw.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'fx__pid', arguments: {} } });
        const reply = await raw.waitForMessage((m) => m.id === id, 'fx__pid', 10000);
        upstreamPid = Number(reply.result?.content?.[0]?.text);
        return reply.result && !reply.result.isError && upstreamPid > 0;
      },
      { timeout: READY_TIMEOUT, interval: 200, what: 'fx__pid to answer' },
    );
    onCleanup(() => {
      if (processAlive(upstreamPid)) process.kill(upstreamPid, 'SIGKILL');
    });
    assert.ok(processAlive(upstreamPid));
    raw.proc.stdin.end();
    await withTimeout(raw.proc.exited, 20000, 'exit after stdin EOF');
    assertCleanExit(raw.proc, 'mcpproxy --stdio');
    await waitFor(() => !processAlive(upstreamPid), { timeout: 5000, what: `upstream pid ${upstreamPid} to be gone` });
  });
});
