// Upstream lifecycle through the proxy, driven with the misbehaving fixture server: crashes,
// hangs, garbage output, servers that die at start or start slowly, freezes caught by health
// checks, tools/list_changed propagation, and shutdown leaving no process behind.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';

import {
  callTool,
  connectHttpClient,
  everythingStdioServer,
  fixtureServer,
  onCleanup,
  processAlive,
  startProxyWithClient,
  textOf,
  toolNames,
  upstreamLog,
  waitFor,
  withTimeout,
  waitForTools,
} from './harness.mjs';

/** The pid of upstream `server` (its fixture `pid` tool); throws on an error result. */
async function pidOf(client, server) {
  const result = await callTool(client, `${server}__pid`);
  if (result.isError) throw new Error(`${server}__pid failed: ${textOf(result)}`);
  return Number(textOf(result));
}

/** Pids of every descendant of `pid`, from /proc. */
function descendantsOf(pid) {
  const children = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  const out = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '?';
  }
}

/** Kills `pids` at cleanup if they are still around (a failing test must not leak them). */
function reapAtCleanup(pids) {
  onCleanup(() => {
    for (const pid of pids) {
      if (processAlive(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone meanwhile.
        }
      }
    }
  });
}

describe('upstream crash', () => {
  test('the call gets an error result at once, others keep working, the server restarts', async () => {
    let listChanged = 0;
    const { proxy, client } = await startProxyWithClient(
      { mcpServers: [fixtureServer('fx'), fixtureServer('other')], call_tool_timeout: '20s' },
      { onToolListChanged: () => (listChanged += 1) },
    );
    await waitForTools(client, ['fx__echo', 'other__echo']);
    await withTimeout(client.getStreamReady, 10000, 'the SDK GET stream');
    const firstPid = await pidOf(client, 'fx');
    reapAtCleanup([firstPid]);
    const notifiedBefore = listChanged;

    const started = Date.now();
    const crashed = await callTool(client, 'fx__crash');
    assert.equal(crashed.isError, true, JSON.stringify(crashed));
    assert.match(textOf(crashed), /fx/, 'the error names the server');
    assert.ok(Date.now() - started < 10000, 'failed on the crash, not on the 20 s call timeout');

    assert.equal(textOf(await callTool(client, 'other__echo', { message: 'unaffected' })), 'unaffected');
    // The crashed child is reaped (no zombie left behind).
    await waitFor(() => !fs.existsSync(`/proc/${firstPid}`), { timeout: 10000, what: `pid ${firstPid} reaped` });

    // Backoff (about 1 s), restart, and the tools are back under the same names.
    const secondPid = await waitFor(() => pidOf(client, 'fx'), {
      timeout: 20000,
      interval: 200,
      what: 'fx to answer again after the crash',
    });
    reapAtCleanup([secondPid]);
    assert.notEqual(secondPid, firstPid, 'a new process');
    await waitForTools(client, ['fx__echo', 'fx__crash']);
    assert.equal(textOf(await callTool(client, 'fx__echo', { message: 'back' })), 'back');
    assert.match(upstreamLog(proxy, 'fx'), /crashing/, "the child's stderr went to logs/fx.log");
    // Tools went away and came back: clients were told.
    await waitFor(() => listChanged >= notifiedBefore + 2, {
      timeout: 10000,
      what: 'list_changed for the failure and for the recovery',
    });
  });

  test('calls pending on a crashed upstream fail at once instead of waiting for their timeout', async () => {
    const { proxy, client } = await startProxyWithClient({
      mcpServers: [fixtureServer('fx')],
      call_tool_timeout: '60s',
    });
    await waitForTools(client, ['fx__hang']);
    const pending = callTool(client, 'fx__hang', {}, { timeout: 90000 });
    await waitFor(() => upstreamLog(proxy, 'fx').includes('call hang'), { timeout: 10000, what: 'hang to reach fx' });
    const started = Date.now();
    const crashed = await callTool(client, 'fx__crash');
    assert.equal(crashed.isError, true);
    const hung = await withTimeout(pending, 10000, 'the pending hang to fail after the crash');
    assert.equal(hung.isError, true, JSON.stringify(hung));
    assert.match(textOf(hung), /fx/);
    assert.ok(Date.now() - started < 10000);
  });
});

describe('upstream hang', () => {
  test('a hanging call times out per call_tool_timeout with a clear error; upstream cancelled, usable', async () => {
    const { proxy, client } = await startProxyWithClient({
      mcpServers: [fixtureServer('fx', [], { call_tool_timeout: '2s' }), fixtureServer('other')],
      call_tool_timeout: '60s',
    });
    await waitForTools(client, ['fx__hang', 'other__sleep']);
    const pid = await pidOf(client, 'fx');

    const started = Date.now();
    const pending = callTool(client, 'fx__hang', {}, { timeout: 60000 });
    // Other calls, to the same upstream and to another, are not held up by the hanging one.
    await waitFor(() => upstreamLog(proxy, 'fx').includes('call hang'), { timeout: 10000, what: 'hang to reach fx' });
    assert.equal(textOf(await callTool(client, 'fx__echo', { message: 'meanwhile' })), 'meanwhile');
    assert.equal(textOf(await callTool(client, 'other__sleep', { ms: 10 })), 'slept 10');

    const result = await pending;
    const elapsed = Date.now() - started;
    assert.equal(result.isError, true, JSON.stringify(result));
    assert.match(textOf(result), /fx/);
    assert.match(textOf(result), /did not answer within 2(\.0*)? ?s/);
    assert.ok(elapsed >= 1900, `timed out after ${elapsed} ms, before the 2 s deadline`);
    assert.ok(elapsed < 10000, `timed out after ${elapsed} ms, long after the 2 s deadline`);

    // The proxy told the upstream (notifications/cancelled), which is still the same process.
    await waitFor(() => upstreamLog(proxy, 'fx').includes('hang cancelled'), {
      timeout: 10000,
      what: 'the fixture to receive notifications/cancelled',
    });
    assert.equal(await pidOf(client, 'fx'), pid, 'a timeout does not restart the upstream');
    assert.equal(textOf(await callTool(client, 'fx__echo', { message: 'after' })), 'after');
  });

  test('the server-level timeout overrides the top-level one, which applies otherwise', async () => {
    const { client } = await startProxyWithClient({
      mcpServers: [fixtureServer('quick', [], { call_tool_timeout: '500ms' }), fixtureServer('slow')],
      call_tool_timeout: '5s',
    });
    await waitForTools(client, ['quick__sleep', 'slow__sleep']);
    const quick = await callTool(client, 'quick__sleep', { ms: 2000 });
    assert.equal(quick.isError, true, 'quick: 2 s exceeds its 500 ms');
    assert.equal(textOf(await callTool(client, 'slow__sleep', { ms: 1500 })), 'slept 1500', 'slow: within 5 s');
    const started = Date.now();
    const slow = await callTool(client, 'slow__sleep', { ms: 20000 });
    assert.equal(slow.isError, true, 'slow: 20 s exceeds the top-level 5 s');
    assert.ok(Date.now() - started < 12000);
  });

  test('a frozen upstream is caught by the health check, killed and restarted', async () => {
    const { client } = await startProxyWithClient({
      mcpServers: [fixtureServer('fx')],
      health_check_interval: '1s',
      call_tool_timeout: '5s',
    });
    await waitForTools(client, ['fx__freeze']);
    const frozenPid = await pidOf(client, 'fx');
    reapAtCleanup([frozenPid]);
    assert.equal(textOf(await callTool(client, 'fx__freeze')), 'frozen');
    // A ping every second, each with the proxy's ping timeout; then kill + backoff + restart.
    const newPid = await waitFor(
      async () => {
        const pid = await pidOf(client, 'fx');
        return pid !== frozenPid ? pid : null;
      },
      { timeout: 45000, interval: 500, what: 'fx to be restarted after freezing' },
    );
    reapAtCleanup([newPid]);
    await waitFor(() => !fs.existsSync(`/proc/${frozenPid}`), {
      timeout: 15000,
      what: `the frozen pid ${frozenPid} to be killed and reaped`,
    });
  });
});

describe('bad upstream output', () => {
  test('garbage lines and an oversized line on stdout are dropped; the connection survives', async () => {
    const { proxy, client } = await startProxyWithClient({ mcpServers: [fixtureServer('fx')] });
    await waitForTools(client, ['fx__garbage']);
    const pid = await pidOf(client, 'fx');
    assert.equal(textOf(await callTool(client, 'fx__garbage')), 'garbage sent');
    const bytes = 6 * 1024 * 1024; // above max_request_bytes (4 MiB)
    assert.equal(textOf(await callTool(client, 'fx__flood', { bytes })), `flooded ${bytes}`);
    assert.equal(textOf(await callTool(client, 'fx__echo', { message: 'fine' })), 'fine');
    assert.equal(await pidOf(client, 'fx'), pid, 'not restarted');
    assert.ok(proxy.proc.stderrText().length < 1 << 20, 'the huge line is not copied into the log');
  });
});

describe('startup', () => {
  test('a server exiting at start does not block the others and is retried with backoff', async () => {
    const { proxy, client } = await startProxyWithClient({
      mcpServers: [
        fixtureServer('dead', ['--exit-on-start', '1']),
        fixtureServer('slow', ['--slow-start', '4000']),
        fixtureServer('fx'),
      ],
    });
    const started = Date.now();
    const names = await waitForTools(client, ['fx__echo'], 10000);
    assert.ok(!names.some((name) => name.startsWith('dead__')));
    if (Date.now() - started < 3000) {
      assert.ok(!names.some((name) => name.startsWith('slow__')), 'slow cannot be ready yet');
    }
    assert.equal(textOf(await callTool(client, 'fx__echo', { message: 'first' })), 'first');
    await assert.rejects(callTool(client, 'dead__echo', { message: 'x' }), (err) => {
      assert.equal(err.code, -32602);
      return true;
    });
    // Retried: the child ran (and logged) more than once.
    await waitFor(() => (upstreamLog(proxy, 'dead').match(/exiting on start/g) ?? []).length >= 2, {
      timeout: 15000,
      what: 'a second start attempt of dead',
    });
    await waitForTools(client, ['slow__echo'], 20000);
    assert.equal(textOf(await callTool(client, 'slow__echo', { message: 'late' })), 'late');
  });

  test('a server slower than init_timeout is failed, not waited for forever', async () => {
    const { proxy, client } = await startProxyWithClient({
      mcpServers: [fixtureServer('glacial', ['--slow-start', '30000']), fixtureServer('fx')],
      init_timeout: '1s',
    });
    await waitForTools(client, ['fx__echo']);
    await waitFor(() => /upstream glacial: .*retrying/.test(proxy.proc.stderrText()), {
      timeout: 15000,
      what: 'the proxy to give up on glacial and schedule a retry',
    });
    assert.ok(!(await toolNames(client)).some((name) => name.startsWith('glacial__')));
  });
});

describe('tools/list_changed', () => {
  test('an upstream list change reaches every connected client', async () => {
    let first = 0;
    let second = 0;
    const { proxy, client } = await startProxyWithClient(
      // trust_mode auto: a tool added later is approved at once (manual would hold it back).
      { mcpServers: [fixtureServer('fx', [], { trust_mode: 'auto' }), fixtureServer('other')] },
      { onToolListChanged: () => (first += 1) },
    );
    await waitForTools(client, ['fx__add_tool', 'other__echo']);
    const another = await connectHttpClient(proxy.url, { onToolListChanged: () => (second += 1) });
    await withTimeout(Promise.all([client.getStreamReady, another.getStreamReady]), 10000, 'the GET streams');
    const [before1, before2] = [first, second];

    assert.equal(textOf(await callTool(client, 'fx__add_tool', { name: 'late_tool' })), 'added late_tool');
    await waitFor(() => first > before1 && second > before2, {
      timeout: 10000,
      what: 'notifications/tools/list_changed on both clients',
    });
    const names = await toolNames(another);
    assert.ok(names.includes('fx__late_tool'), 'the new tool is listed');
    assert.equal(textOf(await callTool(another, 'fx__late_tool')), 'late_tool');
    assert.ok(names.includes('other__echo'), 'the other server is unaffected');
  });
});

describe('shutdown', () => {
  test('SIGTERM with a call in flight: the client still gets an answer (a tool error), exit 0', async () => {
    const { proxy, client } = await startProxyWithClient({ mcpServers: [fixtureServer('fx')] });
    await waitForTools(client, ['fx__sleep']);
    const pending = callTool(client, 'fx__sleep', { ms: 60000 }, { timeout: 60000 }).then(
      (result) => ({ result }),
      (error) => ({ error: error.message }),
    );
    await waitFor(() => upstreamLog(proxy, 'fx').includes('call sleep'), { timeout: 10000, what: 'sleep to reach fx' });
    process.kill(proxy.proc.pid, 'SIGTERM');
    // docs/configuration.md: "give in-flight requests 3 s, fail the rest with a tool error".
    const outcome = await withTimeout(pending, 15000, 'the in-flight call to be answered during shutdown');
    assert.equal(outcome.result?.isError, true, `expected an isError result, got ${JSON.stringify(outcome)}`);
    const { code } = await withTimeout(proxy.proc.exited, 30000, 'the proxy to exit after SIGTERM');
    assert.equal(code, 0);
  });

  test('SIGTERM stops every upstream (stubborn ones and grandchildren too) and exits 0', async () => {
    const { proxy, client } = await startProxyWithClient({
      mcpServers: [fixtureServer('fx'), fixtureServer('stub', ['--stubborn']), everythingStdioServer('ev')],
    });
    await waitForTools(client, ['fx__pid', 'stub__pid', 'ev__echo']);
    const fxPid = await pidOf(client, 'fx');
    const stubPid = await pidOf(client, 'stub');
    const grandchild = Number(textOf(await callTool(client, 'fx__spawn_child')));
    assert.ok(grandchild > 0);
    const processes = descendantsOf(proxy.proc.pid);
    reapAtCleanup(processes);
    for (const pid of [fxPid, stubPid, grandchild]) assert.ok(processes.includes(pid), `${pid} is a descendant`);
    assert.ok(processes.length >= 4, `fx, stub, its grandchild and ev: ${processes}`);

    await client.close();
    process.kill(proxy.proc.pid, 'SIGTERM'); // the proxy alone, not its process group
    const { code, signal } = await withTimeout(proxy.proc.exited, 30000, 'the proxy to exit after SIGTERM');
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, proxy.proc.stderrText());
    assert.match(proxy.proc.stderrText(), /stopped/);
    const direct = [fxPid, stubPid].filter((pid) => fs.existsSync(`/proc/${pid}`));
    assert.deepEqual(direct, [], 'direct children were stopped and reaped before the proxy exited');
    await waitFor(() => processes.every((pid) => !processAlive(pid)), { timeout: 5000, what: 'no orphans' }).catch(
      (err) => {
        const alive = processes.filter(processAlive).map((pid) => `${pid} (${cmdline(pid)})`);
        throw new Error(`${err.message}: still alive after the proxy exited: ${alive.join(', ')}`);
      },
    );
  });
});
