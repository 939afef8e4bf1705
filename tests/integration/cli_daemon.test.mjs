// The management CLI against a running daemon: every command goes through the daemon's Unix
// socket (<data dir>/mcpproxy.sock) and its effects are checked on the daemon itself (its state
// as the API reports it, and tools/call through MCP). Upstreams are the fixture server.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { callTool, connectHttpClient, fixtureServer, startProxy, textOf, waitFor } from './harness.mjs';
import { mcpproxy } from './cli_helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const IMPORT_DATA = path.resolve(here, '..', 'data', 'import');

describe('management CLI through the daemon socket', () => {
  let proxy;
  let flags;
  let home;
  const cli = (...args) => mcpproxy([...args, ...flags], { home });
  const json = async (...args) => {
    const r = await cli(...args, '--json');
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  const server = async (name) => (await json('upstream', 'list')).servers.find((s) => s.name === name);

  before(async () => {
    proxy = await startProxy({
      mcpServers: [fixtureServer('fx'), fixtureServer('newbie', [], { quarantined: true })],
    });
    home = proxy.tmp;
    flags = ['--config', proxy.configPath, '--data-dir', proxy.dataDir];
    await waitFor(() => fs.existsSync(path.join(proxy.dataDir, 'mcpproxy.sock')), {
      timeout: 10000,
      what: 'the API socket',
    });
    await waitFor(async () => (await server('fx'))?.state === 'ready', { timeout: 20000, what: 'fx ready' });
  });

  test('status: running, the real listen address, counts; the key only with --show-key', async () => {
    const status = await json('status');
    assert.equal(status.running, true);
    assert.equal(status.mcp_url, `http://127.0.0.1:${proxy.port}/mcp`);
    assert.ok(status.servers.total >= 2);
    assert.equal(status.api_key.value, undefined);
    const text = await cli('status');
    assert.match(text.stdout, /daemon:\s+running/);
    assert.match(text.stdout, /api key:\s+in .* under "api_key"/);
    const stored = JSON.parse(fs.readFileSync(proxy.configPath, 'utf8')).api_key;
    assert.ok(stored, 'the daemon stored a generated key');
    assert.doesNotMatch(text.stdout, new RegExp(stored));
    assert.equal((await json('status', '--show-key')).api_key.value, stored);
  });

  test('upstream list comes from the daemon: live state and tool counts', async () => {
    const list = await json('upstream', 'list');
    assert.equal(list.daemon, true);
    const fx = list.servers.find((s) => s.name === 'fx');
    assert.equal(fx.state, 'ready');
    assert.ok(fx.tool_count > 5);
    assert.equal(list.servers.find((s) => s.name === 'newbie').quarantined, true);
    const text = await cli('upstream', 'list');
    assert.match(text.stdout, /fx\s+ready\s+yes\s+no/);
  });

  test('add (quarantined) -> approve -> call -> disable -> enable -> restart -> remove', async () => {
    let r = await mcpproxy(
      ['upstream', 'add', 'fx2', '--command', fixtureServer('fx2').command, ...flags, '--', '--name', 'fx2'],
      { home },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await server('fx2')).quarantined, true);
    r = await cli('upstream', 'add', 'fx2', '--command', 'x');
    assert.equal(r.code, 1);

    await waitFor(async () => (await server('fx2'))?.state === 'ready', { timeout: 20000, what: 'fx2 ready' });
    r = await cli('call', 'fx2:echo', '--args', '{"message":"x"}');
    assert.equal(r.code, 1, 'a quarantined server is refused');

    r = await cli('upstream', 'approve', 'fx2');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /approved server 'fx2'; pinned its \d+ current tools/);
    r = await cli('call', 'fx2:echo', '--args', '{"message":"through the daemon"}');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'through the daemon');
    // The call went through the daemon: it is in the daemon's activity log.
    await waitFor(async () => (await json('activity', 'list')).calls.some((c) => c.name === 'fx2:echo'), {
      what: 'the call in the activity log',
    });

    r = await cli('upstream', 'disable', 'fx2');
    assert.equal(r.code, 0, r.stderr);
    await waitFor(async () => (await server('fx2'))?.state === 'disabled', { what: 'fx2 disabled' });
    r = await cli('upstream', 'enable', 'fx2');
    assert.equal(r.code, 0, r.stderr);
    await waitFor(async () => (await server('fx2'))?.state === 'ready', { timeout: 20000, what: 'fx2 ready again' });
    r = await cli('upstream', 'restart', 'fx2');
    assert.equal(r.code, 0, r.stderr);
    await waitFor(async () => (await server('fx2'))?.state === 'ready', { timeout: 20000, what: 'fx2 restarted' });

    r = await cli('upstream', 'remove', 'fx2');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await server('fx2'), undefined);
    r = await cli('upstream', 'remove', 'fx2');
    assert.equal(r.code, 3);
    r = await cli('upstream', 'restart', 'ghost');
    assert.equal(r.code, 3);
  });

  test('logs, tools list/search and call', async () => {
    const logs = await json('upstream', 'logs', 'fx', '-n', '50');
    assert.ok(logs.lines.some((l) => /\[fixture fx\] ready/.test(l)), logs.lines.join('\n'));

    const tools = await json('tools', 'list', '--server', 'fx');
    assert.ok(tools.tools.some((t) => t.name === 'fx:echo' && t.server === 'fx' && t.tool === 'echo'));
    assert.ok(tools.tools.every((t) => t.server === 'fx'));
    const found = await json('tools', 'search', 'echo a message back', '--limit', '3');
    assert.equal(found.tools[0].name, 'fx:echo');

    const r = await cli('call', 'fx:echo', '--args', '{"message":"hi"}', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(textOf(JSON.parse(r.stdout)), 'hi');
    assert.equal((await cli('call', 'ghost:echo')).code, 3);
    assert.equal((await cli('call', 'newbie:echo', '--args', '{"message":"x"}')).code, 1);
  });

  test('import goes through the API; the daemon serves the new servers quarantined', async () => {
    const r = await cli('import', '--from', 'cursor', path.join(IMPORT_DATA, 'cursor_mcp.json'), '--json');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.via_daemon, true);
    assert.deepEqual(report.servers.filter((s) => s.result === 'added').map((s) => s.name), ['browser', 'remote', 'old-one']);
    const list = await json('upstream', 'list');
    for (const name of ['browser', 'remote', 'old-one']) {
      assert.equal(list.servers.find((s) => s.name === name)?.quarantined, true, name);
    }
    // Nothing of theirs reaches an MCP client.
    const client = await connectHttpClient(proxy.url);
    const { tools } = await client.listTools();
    assert.ok(!tools.some((t) => /^(browser|remote|old-one)__/.test(t.name)));
    const ok = await callTool(client, 'fx__echo', { message: 'still fine' });
    assert.equal(textOf(ok), 'still fine');
    for (const name of ['browser', 'remote', 'old-one']) assert.equal((await cli('upstream', 'remove', name)).code, 0);
  });

  test('doctor sees the daemon', async () => {
    const report = await mcpproxy(['doctor', ...flags, '--json'], { home });
    const checks = JSON.parse(report.stdout).checks;
    assert.equal(checks.find((c) => c.check === 'daemon').status, 'ok');
  });
});
