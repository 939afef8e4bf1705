// Defects found by using the proxy as a new user would and by attacking it (issue 11): leaked
// descriptors, a crash when the config changes during start-up, secrets in output, the data
// folder's mode, over-long headers, invalid UTF-8, and calls left running for a client that
// gave up. Each test failed before its fix.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';

import { mcpproxy } from './cli_helpers.mjs';
import {
  FIXTURE_BIN,
  MCPPROXY_BIN,
  callTool,
  connectHttpClient,
  fixtureServer,
  makeTempDir,
  processAlive,
  sleep,
  socketRequest,
  startEverythingHttp,
  startProcess,
  startProxy,
  stopProcess,
  upstreamLog,
  waitFor,
  waitForStderr,
} from './harness.mjs';

const O_CLOEXEC = 0o2000000;

/** fd numbers of a process, sorted. */
function openFds(pid) {
  return fs
    .readdirSync(`/proc/${pid}/fd`)
    .map(Number)
    .sort((a, b) => a - b);
}

/** What an fd of `pid` is ("socket:[123]", a path, ...) and whether it is close-on-exec. */
function describeFd(pid, fd) {
  let target = '?';
  try {
    target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return null; // closed meanwhile
  }
  const info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
  const flags = parseInt(info.match(/^flags:\s*([0-7]+)/m)[1], 8);
  return { fd, target, cloexec: (flags & O_CLOEXEC) !== 0 };
}

/** A raw HTTP/1.1 exchange on a fresh connection; resolves the whole response text. */
function rawHttp(port, request, timeout = 10000) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeout} ms; got: ${text.slice(0, 200)}`));
    }, timeout);
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => (text += chunk));
    socket.on('error', () => {}); // the server may close while we still write
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    socket.write(request);
  });
}

describe('descriptors', () => {
  test('an upstream child holds only its stdin, stdout and stderr; every proxy descriptor is close-on-exec', async () => {
    const tmp = makeTempDir();
    const listing = path.join(tmp, 'child-fds.txt');
    const http = await startEverythingHttp();
    // The child lists the descriptors it was started with.
    const lister = fixtureServer('lister', ['--fds-to', listing]);
    const proxy = await startProxy(
      { mcpServers: [fixtureServer('fx'), { name: 'remote', url: http.url }] },
      { args: ['--log-file', path.join(tmp, 'proxy.log')] },
    );
    // A live client connection (accepted socket, GET stream) and a ready HTTP upstream (an
    // outgoing socket) exist before the lister starts.
    const client = await connectHttpClient(proxy.url);
    await client.getStreamReady;
    await waitFor(async () => (await client.listTools()).tools.some((t) => t.name.startsWith('remote__')), {
      timeout: 20000,
      what: 'the HTTP upstream to be ready',
    });
    const add = await socketRequest(path.join(proxy.dataDir, 'mcpproxy.sock'), 'POST', '/api/v1/servers', lister);
    assert.equal(add.status, 201, add.text);
    await waitFor(() => fs.existsSync(listing) && fs.readFileSync(listing, 'utf8').trim() !== '', {
      what: 'the child to list its descriptors',
    });
    const childFds = fs.readFileSync(listing, 'utf8').trim().split(/\s+/).map(Number).sort((a, b) => a - b);
    // (before the fix: the TCP listener and mcpproxy.sock, fds 11 and 12, were inherited)
    assert.deepEqual(childFds, [0, 1, 2], 'the child inherited more than stdin/stdout/stderr');

    const leaky = openFds(proxy.proc.pid)
      .filter((fd) => fd > 2)
      .map((fd) => describeFd(proxy.proc.pid, fd))
      .filter((d) => d && !d.cloexec);
    assert.deepEqual(leaky, [], `descriptors of the proxy without FD_CLOEXEC: ${JSON.stringify(leaky)}`);
    const kinds = openFds(proxy.proc.pid).map((fd) => describeFd(proxy.proc.pid, fd)?.target ?? '');
    assert.ok(kinds.some((t) => t.endsWith('mcpproxy.db')), 'the database is open (and was checked)');
    assert.ok(kinds.some((t) => t.endsWith('proxy.log')), 'the log file is open (and was checked)');
    assert.ok(kinds.filter((t) => t.startsWith('socket:')).length >= 4, 'listeners and connections were checked');
  });
});

describe('start-up races', () => {
  test('changing, restarting and removing servers through the API during start-up never crashes the daemon', async () => {
    for (let round = 0; round < 6; round++) {
      const servers = [1, 2, 3, 4, 5].map((i) => fixtureServer(`s${i}`, ['--slow-start', String(20 * i)]));
      const proxy = await startProxy({ mcpServers: servers });
      const socket = path.join(proxy.dataDir, 'mcpproxy.sock');
      // Right after "listening": upstreams are being started one per event-loop turn.
      const changes = await Promise.all([
        socketRequest(socket, 'PATCH', '/api/v1/servers/s3', { args: ['--name', 's3', '--tools', '2'] }),
        socketRequest(socket, 'POST', '/api/v1/servers/s4/restart'),
        socketRequest(socket, 'DELETE', '/api/v1/servers/s5'),
        socketRequest(socket, 'PATCH', '/api/v1/servers/s1', { enabled: false }),
        socketRequest(socket, 'PATCH', '/api/v1/servers/s2', { args: ['--name', 's2', '--slow-start', '5'] }),
      ]);
      for (const change of changes) assert.ok(change.status < 300, `${change.status}: ${change.text}`);
      const list = await waitFor(
        async () => {
          const res = await socketRequest(socket, 'GET', '/api/v1/servers');
          const states = Object.fromEntries(res.json.servers.map((s) => [s.name, s.state]));
          return states.s2 === 'ready' && states.s3 === 'ready' && states.s4 === 'ready' ? states : null;
        },
        { timeout: 20000, what: 'the changed servers to become ready' },
      );
      assert.equal(list.s1, 'disabled');
      assert.equal(list.s5, undefined);
      assert.ok(processAlive(proxy.proc.pid), 'the daemon is alive');
      // Shutdown right after another change: the cleanup checks a clean exit (no ASan report).
      await socketRequest(socket, 'POST', '/api/v1/servers/s2/restart');
      assert.ok(await stopProcess(proxy.proc, 20000), 'SIGTERM was enough');
      assert.equal(proxy.proc.exitCode, 0, proxy.proc.stderrText().slice(-3000));
    }
  });

  test('a fatal signal leaves its reason and a backtrace in the log', async () => {
    const tmp = makeTempDir();
    const configPath = path.join(tmp, 'config.json');
    fs.writeFileSync(configPath, JSON.stringify({ mcpServers: [] }));
    const logFile = path.join(tmp, 'proxy.log');
    const proc = startProcess(MCPPROXY_BIN, [
      'serve', '--config', configPath, '--data-dir', path.join(tmp, 'data'), '--listen', '127.0.0.1:0',
      '--log-file', logFile,
    ]);
    await waitForStderr(proc, /listening on http/, 30000);
    process.kill(proc.pid, 'SIGSEGV');
    const { signal } = await proc.exited;
    assert.equal(signal, 'SIGSEGV', 'the process dies of the signal it got');
    const log = fs.readFileSync(logFile, 'utf8');
    assert.match(log, /FATAL: signal 11 \(SEGV: Segmentation fault\)/);
    assert.match(log, /backtrace follows/);
    assert.match(log, /end of backtrace/);
    assert.match(proc.stderrText(), /FATAL: signal 11/);
  });
});

describe('secrets in output', () => {
  test('userinfo and secret query values never appear in the CLI, the API, events or logs', async () => {
    const tmp = makeTempDir();
    const url = 'http://alice:hunter2pass@127.0.0.1:9/mcp?api_key=SECRETKEY123&page=2';
    const logFile = path.join(tmp, 'proxy.log');
    const proxy = await startProxy(
      { mcpServers: [{ name: 'remote', url, protocol: 'streamable-http' }] },
      { args: ['--log-file', logFile] },
    );
    const events = [];
    const controller = new AbortController();
    const key = JSON.parse(fs.readFileSync(proxy.configPath, 'utf8')).api_key;
    const stream = await fetch(`${proxy.baseUrl}/events`, { headers: { 'X-API-Key': key }, signal: controller.signal });
    const reader = (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of stream.body) events.push(decoder.decode(chunk));
      } catch {
        // aborted at the end of the test
      }
    })();
    await socketRequest(path.join(proxy.dataDir, 'mcpproxy.sock'), 'POST', '/api/v1/servers/remote/restart');
    await waitFor(() => events.join('').includes('server.state'), { what: 'a server.state event' });
    const where = ['--config', proxy.configPath, '--data-dir', proxy.dataDir];
    const outputs = {
      'api servers': (await socketRequest(path.join(proxy.dataDir, 'mcpproxy.sock'), 'GET', '/api/v1/servers')).text,
      'api config': (await socketRequest(path.join(proxy.dataDir, 'mcpproxy.sock'), 'GET', '/api/v1/config')).text,
      'list (daemon)': (await mcpproxy(['upstream', 'list', ...where])).stdout,
      'list --json (daemon)': (await mcpproxy(['upstream', 'list', '--json', ...where])).stdout,
      'status (daemon)': (await mcpproxy(['status', ...where])).stdout,
    };
    controller.abort();
    await reader;
    outputs.events = events.join('');
    assert.ok(await stopProcess(proxy.proc, 20000));
    outputs['list (standalone)'] = (await mcpproxy(['upstream', 'list', ...where])).stdout;
    outputs['list --json (standalone)'] = (await mcpproxy(['upstream', 'list', '--json', ...where])).stdout;
    const doctor = await mcpproxy(['doctor', ...where]);
    outputs.doctor = doctor.stdout + doctor.stderr;
    outputs.log = fs.readFileSync(logFile, 'utf8') + proxy.proc.stderrText();
    for (const [name, text] of Object.entries(outputs)) {
      assert.ok(!text.includes('hunter2pass'), `${name} shows the password:\n${text}`);
      assert.ok(!text.includes('SECRETKEY123'), `${name} shows the api key:\n${text}`);
    }
    for (const name of ['api servers', 'list --json (daemon)', 'list --json (standalone)']) {
      assert.ok(outputs[name].includes('http://***@127.0.0.1:9/mcp?api_key=***&page=2'), `${name}: ${outputs[name]}`);
    }
    assert.ok(outputs['list (standalone)'].includes('***@127.0.0.1:9'), outputs['list (standalone)']);
  });
});

describe('the data folder', () => {
  test('a data folder given with --data-dir is created 0700, parents included', async () => {
    const tmp = makeTempDir();
    const configPath = path.join(tmp, 'config.json');
    fs.writeFileSync(configPath, JSON.stringify({ mcpServers: [] }));
    const dataDir = path.join(tmp, 'new', 'data');
    const proc = startProcess(MCPPROXY_BIN, ['serve', '--config', configPath, '--data-dir', dataDir, '--listen', '127.0.0.1:0']);
    await waitForStderr(proc, /listening on http/, 30000);
    assert.equal(fs.statSync(dataDir).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(tmp, 'new')).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(dataDir, 'logs')).mode & 0o777, 0o700);
    assert.ok(await stopProcess(proc, 20000));
  });
});

describe('hostile HTTP', () => {
  test('over-long request headers get 431, not a silent close', async () => {
    const proxy = await startProxy({ mcpServers: [] });
    for (const target of ['/mcp', '/api/v1/status']) {
      const answer = await rawHttp(
        proxy.port,
        `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'a'.repeat(70 * 1024)}\r\nContent-Length: 0\r\n\r\n`,
      );
      assert.match(answer, /^HTTP\/1\.1 431 /, `${target}: ${answer.slice(0, 200)}`);
      assert.match(answer, /headers exceed/i);
    }
  });

  test('invalid UTF-8 is named with its byte offset', async () => {
    const proxy = await startProxy({ mcpServers: [] });
    const prefix = Buffer.from('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"x":"ab');
    const body = Buffer.concat([prefix, Buffer.from([0xc3, 0x28]), Buffer.from('"}}')]);
    const res = await fetch(`${proxy.baseUrl}/mcp`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body,
    });
    assert.equal(res.status, 400);
    const answer = await res.json();
    assert.equal(answer.error.code, -32700);
    assert.equal(answer.error.message, `Parse error: invalid UTF-8 at byte ${prefix.length}`);
  });
});

describe('client timeouts', () => {
  test('a client that disconnects while its call runs cancels the upstream call', async () => {
    const proxy = await startProxy({ mcpServers: [fixtureServer('fx')] });
    const client = await connectHttpClient(proxy.url);
    await waitFor(async () => (await client.listTools()).tools.some((t) => t.name === 'fx__hang'));
    const sessionId = client.httpTransport.sessionId;
    const post = (body, signal) =>
      fetch(proxy.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          'Mcp-Session-Id': sessionId,
          'MCP-Protocol-Version': '2025-11-25',
        },
        body: JSON.stringify(body),
        signal,
      });
    // Still in the JSON phase (< 1 s): a disconnect cancels at once.
    const early = new AbortController();
    const pending = post({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'fx__hang', arguments: {} } }, early.signal);
    await sleep(300);
    early.abort();
    await pending.catch(() => {});
    await waitFor(() => (upstreamLog(proxy, 'fx').match(/hang cancelled/g) ?? []).length === 1, {
      timeout: 5000,
      what: 'the upstream to be told of the cancellation',
    });
    // The reply already became an SSE stream: the client may still resume; after the grace
    // period without a resume the call is cancelled.
    const late = new AbortController();
    const res = await post({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'fx__hang', arguments: {} } }, late.signal);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    late.abort();
    await sleep(3000);
    assert.equal((upstreamLog(proxy, 'fx').match(/hang cancelled/g) ?? []).length, 1, 'not cancelled within the grace');
    await waitFor(() => (upstreamLog(proxy, 'fx').match(/hang cancelled/g) ?? []).length === 2, {
      timeout: 15000,
      what: 'the call to be cancelled after the resume grace',
    });
    // The session itself is fine.
    const ok = await callTool(client, 'fx__echo', { message: 'still here' });
    assert.ok(JSON.stringify(ok).includes('still here'));
  });
});
