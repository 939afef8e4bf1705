// Validates the fixture server (tests/fixtures/fixture_server.cc) with the official SDK client
// over stdio, without the proxy: the lifecycle tests rely on it behaving exactly as documented.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';

import {
  Client,
  FIXTURE_BIN,
  StdioClientTransport,
  listAllTools,
  onCleanup,
  processAlive,
  startProcess,
  textOf,
  types,
  waitFor,
  waitForStderr,
  withTimeout,
} from './harness.mjs';

const CONNECT_TIMEOUT = 20000;

/**
 * Spawns the fixture through the SDK's StdioClientTransport and connects a Client.
 * Returns { client, transport, stderr() (text so far), closed (resolves on transport close) }.
 */
async function connectFixture(args = [], { onToolListChanged, env } = {}) {
  const transport = new StdioClientTransport({
    command: FIXTURE_BIN,
    args,
    stderr: 'pipe',
    env: { ...process.env, ...env },
  });
  let stderr = '';
  transport.stderr.setEncoding('utf8');
  transport.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const client = new Client({ name: 'fixture-test', version: '1.0.0' }, { capabilities: {} });
  const errors = [];
  client.onerror = (err) => errors.push(err);
  const closed = new Promise((resolve) => {
    client.onclose = resolve;
  });
  if (onToolListChanged) {
    client.setNotificationHandler(types.ToolListChangedNotificationSchema, onToolListChanged);
  }
  await withTimeout(client.connect(transport), CONNECT_TIMEOUT, 'connecting to the fixture');
  onCleanup(() => client.close());
  return { client, transport, stderr: () => stderr, closed, errors };
}

const call = (client, name, args = {}, options = {}) =>
  withTimeout(
    client.callTool({ name, arguments: args }, undefined, { timeout: 15000, ...options }),
    20000,
    `tools/call ${name}`,
  );

describe('fixture server over stdio (SDK client)', () => {
  test('initialize negotiates the version and reports tools.listChanged', async () => {
    const { client } = await connectFixture(['--name', 'fx']);
    assert.deepEqual(client.getServerVersion(), { name: 'fx', version: '1.0.0' });
    assert.deepEqual(client.getServerCapabilities(), { tools: { listChanged: true } });
    const names = (await listAllTools(client)).tools.map((tool) => tool.name);
    for (const name of ['echo', 'add', 'structured', 'fail', 'rpc_error', 'sleep', 'hang', 'crash',
      'garbage', 'flood', 'add_tool', 'env', 'cwd', 'stderr', 'pid', 'spawn_child', 'freeze']) {
      assert.ok(names.includes(name), `missing tool ${name}`);
    }
  });

  test('tools/list paginates with --page-size and rejects a bad cursor', async () => {
    const { client } = await connectFixture(['--tools', '25', '--page-size', '7']);
    const first = await client.listTools({}, { timeout: 10000 });
    assert.equal(first.tools.length, 7);
    assert.equal(typeof first.nextCursor, 'string');
    const { tools, pages } = await listAllTools(client);
    const names = tools.map((tool) => tool.name);
    assert.equal(new Set(names).size, names.length, 'no tool listed twice');
    const generated = names.filter((name) => name.startsWith('tool_'));
    assert.equal(generated.length, 25);
    assert.ok(generated.includes('tool_000') && generated.includes('tool_024'));
    assert.equal(pages, Math.ceil(names.length / 7));
    await assert.rejects(client.listTools({ cursor: 'bogus' }, { timeout: 10000 }), (err) => {
      assert.equal(err.code, -32602);
      return true;
    });
    const generatedResult = await call(client, 'tool_013');
    assert.equal(textOf(generatedResult), 'tool_013');
  });

  test('echo, add, structured, fail and rpc_error behave as documented', async () => {
    const { client } = await connectFixture();
    assert.equal(textOf(await call(client, 'echo', { message: 'héllo ✓' })), 'héllo ✓');
    assert.equal(textOf(await call(client, 'add', { a: 2, b: 40 })), '42');
    assert.equal(textOf(await call(client, 'add', { a: 0.5, b: 2 })), '2.5');
    const structured = await call(client, 'structured', { value: 'abc' });
    assert.deepEqual(structured.structuredContent, { value: 'abc', length: 3 });
    assert.deepEqual(JSON.parse(textOf(structured)), { value: 'abc', length: 3 });
    const failed = await call(client, 'fail');
    assert.equal(failed.isError, true);
    assert.equal(textOf(failed), 'fixture failure');
    await assert.rejects(call(client, 'rpc_error'), (err) => {
      assert.equal(err.code, -32099);
      assert.match(err.message, /fixture rpc error/);
      return true;
    });
    await assert.rejects(call(client, 'no_such_tool'), (err) => {
      assert.equal(err.code, -32602);
      return true;
    });
  });

  test('env, cwd, pid and stderr tools', async () => {
    const { client, transport, stderr } = await connectFixture([], { env: { FIXTURE_PROBE: 'probe-1' } });
    assert.equal(textOf(await call(client, 'env', { name: 'FIXTURE_PROBE' })), 'probe-1');
    assert.equal(textOf(await call(client, 'env', { name: 'FIXTURE_SURELY_UNSET' })), '<unset>');
    assert.equal(textOf(await call(client, 'cwd')), process.cwd());
    assert.equal(Number(textOf(await call(client, 'pid'))), transport.pid);
    assert.equal(textOf(await call(client, 'stderr', { lines: 3 })), 'ok');
    await waitFor(() => stderr().includes('fixture stderr line 2'), { timeout: 5000, what: 'stderr lines' });
  });

  test('garbage and a huge line on stdout do not break the session', async () => {
    const { client, errors } = await connectFixture();
    assert.equal(textOf(await call(client, 'garbage')), 'garbage sent');
    assert.equal(textOf(await call(client, 'flood', { bytes: 1 << 20 })), `flooded ${1 << 20}`);
    assert.ok(errors.length >= 3, 'the SDK reports the unparseable lines');
    assert.equal(textOf(await call(client, 'echo', { message: 'still here' })), 'still here');
  });

  test('crash ends the process with code 3 and fails the pending call', async () => {
    const { client, transport, closed } = await connectFixture();
    const pid = transport.pid;
    await assert.rejects(call(client, 'crash'), /Connection closed/);
    await withTimeout(closed, 5000, 'transport close after crash');
    await waitFor(() => !processAlive(pid), { timeout: 5000, what: 'crashed fixture gone' });
  });

  test('hang is cancelled by an aborted request; the server stays responsive', async () => {
    const { client, stderr } = await connectFixture();
    const controller = new AbortController();
    const pending = call(client, 'hang', {}, { signal: controller.signal });
    await waitFor(() => stderr().includes('call hang'), { timeout: 5000, what: 'the fixture to receive hang' });
    controller.abort('test abort');
    await assert.rejects(pending);
    await waitFor(() => stderr().includes('hang cancelled'), {
      timeout: 5000,
      what: 'the fixture to see notifications/cancelled',
    });
    assert.equal(textOf(await call(client, 'echo', { message: 'after cancel' })), 'after cancel');
  });

  test('a request timeout cancels sleep upstream', async () => {
    const { client, stderr } = await connectFixture();
    await assert.rejects(call(client, 'sleep', { ms: 60000 }, { timeout: 300 }), (err) => {
      assert.equal(err.code, types.ErrorCode.RequestTimeout);
      return true;
    });
    await waitFor(() => stderr().includes('sleep 60000 cancelled'), { timeout: 5000, what: 'sleep cancelled' });
    assert.equal(textOf(await call(client, 'sleep', { ms: 10 })), 'slept 10');
  });

  test('add_tool sends notifications/tools/list_changed before its result', async () => {
    let notified = 0;
    const { client } = await connectFixture([], {
      onToolListChanged: () => {
        notified += 1;
      },
    });
    const result = await call(client, 'add_tool', { name: 'late_tool' });
    assert.equal(textOf(result), 'added late_tool');
    assert.equal(notified, 1, 'the notification arrived before the result');
    const names = (await listAllTools(client)).tools.map((tool) => tool.name);
    assert.ok(names.includes('late_tool'));
    assert.equal(textOf(await call(client, 'late_tool')), 'late_tool');
    const again = await call(client, 'add_tool', { name: 'late_tool' });
    assert.equal(again.isError, true);
  });

  test('--slow-start delays but does not fail initialize', async () => {
    const started = Date.now();
    const { client } = await connectFixture(['--slow-start', '500']);
    assert.ok(Date.now() - started >= 450, 'initialize waited for the slow start');
    assert.equal(textOf(await call(client, 'echo', { message: 'slow' })), 'slow');
  });

  test('spawn_child leaves a sleeping child of the fixture', async () => {
    const { client, transport } = await connectFixture();
    const child = Number(textOf(await call(client, 'spawn_child')));
    assert.ok(child > 0);
    onCleanup(() => killQuietly(child));
    assert.ok(processAlive(child));
    assert.equal(procStat(child).ppid, transport.pid);
    assert.equal(procStat(child).pgrp, procStat(transport.pid).pgrp, 'same process group');
    killQuietly(child);
    await waitFor(() => !processAlive(child), {
      timeout: 5000,
      what: 'the child to die',
    });
  });

  test('--stubborn survives SIGTERM and stdin EOF, not SIGKILL', async () => {
    const proc = startProcess(FIXTURE_BIN, ['--stubborn'], { name: 'stubborn' });
    await waitForStderr(proc, /ready with/, 10000);
    process.kill(proc.pid, 'SIGTERM');
    // Still answering after SIGTERM was delivered.
    let stdout = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    proc.stdin.write('{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
    await waitFor(() => stdout.includes('"id":1'), { timeout: 5000, what: 'ping answer' });
    proc.stdin.end();
    await waitForStderr(proc, /staying alive/, 5000);
    assert.equal(proc.exitCode, null);
    process.kill(proc.pid, 'SIGKILL');
    assert.deepEqual(await withTimeout(proc.exited, 5000, 'exit after SIGKILL'), { code: null, signal: 'SIGKILL' });
  });

  test('freeze stops answering, even pings', async () => {
    const { client } = await connectFixture();
    assert.equal(textOf(await call(client, 'freeze')), 'frozen');
    await assert.rejects(withTimeout(client.ping({ timeout: 500 }), 5000, 'ping'), (err) => {
      assert.equal(err.code, types.ErrorCode.RequestTimeout);
      return true;
    });
  });

  test('--exit-on-start makes connecting fail', async () => {
    const transport = new StdioClientTransport({
      command: FIXTURE_BIN,
      args: ['--exit-on-start', '7'],
      stderr: 'pipe',
    });
    transport.stderr.resume();
    const client = new Client({ name: 'fixture-test', version: '1.0.0' });
    client.onerror = () => {};
    onCleanup(() => client.close());
    await assert.rejects(withTimeout(client.connect(transport), CONNECT_TIMEOUT, 'connect'), /Connection closed/);
  });
});

function killQuietly(pid) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** { ppid, pgrp, state } from /proc/<pid>/stat, or null when the process is gone. */
function procStat(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], ppid: Number(fields[1]), pgrp: Number(fields[2]) };
}
