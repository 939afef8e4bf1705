// The Streamable HTTP endpoint at the byte level: raw requests (node:http, so no client adds or
// fixes headers for us) against /mcp/all, checking status codes, JSON-RPC error codes and ids,
// session handling, limits and DNS-rebinding defences. The proxy must answer every one of them
// and keep serving afterwards.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { before, describe, test } from 'node:test';

import { fixtureServer, startProxy, waitFor, withTimeout } from './harness.mjs';

const MAX_REQUEST_BYTES = 256 * 1024;
const ACCEPT = 'application/json, text/event-stream';
const VERSION = '2025-06-18';

let proxy;

/**
 * One request on a fresh connection. Options: method, path, headers (exactly what is sent,
 * besides Host unless `host` is given or null), body (string or Buffer). Resolves to
 * { status, headers, text, json() }.
 */
function request({ method = 'POST', path = '/mcp/all', headers = {}, body, host, timeout = 15000 } = {}) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: proxy.port,
        method,
        path,
        agent: false,
        setHost: host === undefined,
        headers: {
          ...(host ? { Host: host } : {}),
          ...(body !== undefined ? { 'Content-Length': Buffer.byteLength(body) } : {}),
          ...headers,
        },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode,
            headers: res.headers,
            text,
            json: () => JSON.parse(text),
          });
        });
      });
      if (body !== undefined) req.write(body);
      req.end();
    }),
    timeout,
    `${method} ${path}`,
  );
}

/** POST of a JSON-RPC message (object or raw string) with the headers a correct client sends. */
function post(message, { session, headers = {}, ...rest } = {}) {
  return request({
    body: typeof message === 'string' ? message : JSON.stringify(message),
    headers: {
      'Content-Type': 'application/json',
      Accept: ACCEPT,
      ...(session ? { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': VERSION } : {}),
      ...headers,
    },
    ...rest,
  });
}

const initialize = (id = 1, protocolVersion = VERSION) => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion, capabilities: {}, clientInfo: { name: 'raw-http', version: '1' } },
});

/** initialize + notifications/initialized; returns the session id. */
async function openSession(protocolVersion = VERSION) {
  const res = await post(initialize(1, protocolVersion));
  assert.equal(res.status, 200, res.text);
  const session = res.headers['mcp-session-id'];
  assert.ok(session, 'initialize returns Mcp-Session-Id');
  const initialized = await post(
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { headers: { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': protocolVersion } },
  );
  assert.equal(initialized.status, 202, initialized.text);
  return session;
}

/** Asserts a JSON-RPC error body with `code` and `id`. */
function assertRpcError(res, code, id = null) {
  let body;
  assert.doesNotThrow(() => {
    body = res.json();
  }, `not JSON: ${res.text}`);
  assert.equal(body.jsonrpc, '2.0', res.text);
  assert.equal(body.error?.code, code, res.text);
  assert.equal(typeof body.error?.message, 'string');
  assert.deepEqual(body.id, id, res.text);
}

async function assertStillServing() {
  const res = await request({ method: 'GET', path: '/healthz' });
  assert.equal(res.status, 200);
  assert.equal(proxy.proc.exitCode, null, 'the proxy is still running');
}

describe('Streamable HTTP edge cases', () => {
  before(async () => {
    proxy = await startProxy({ mcpServers: [fixtureServer('fx')], max_request_bytes: MAX_REQUEST_BYTES });
  });

  test('GET /healthz answers ok; unknown paths 404', async () => {
    const res = await request({ method: 'GET', path: '/healthz' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { status: 'ok' });
    assert.equal((await request({ method: 'GET', path: '/nope' })).status, 404);
    assert.equal((await post(initialize(), { path: '/mcp/other' })).status, 404);
  });

  test('initialize creates a session; /mcp and a trailing slash work too', async () => {
    for (const path of ['/mcp/all', '/mcp', '/mcp/all/']) {
      const res = await post(initialize(`init-${path}`), { path });
      assert.equal(res.status, 200, `${path}: ${res.text}`);
      assert.match(res.headers['content-type'], /^application\/json/);
      assert.match(res.headers['mcp-session-id'], /^[\x21-\x7e]{16,}$/, 'visible ASCII, long enough to be unguessable');
      const body = res.json();
      assert.equal(body.id, `init-${path}`);
      assert.equal(body.result.protocolVersion, VERSION);
      assert.equal(body.result.serverInfo.name, 'mcpproxy');
    }
    const a = (await post(initialize())).headers['mcp-session-id'];
    const b = (await post(initialize())).headers['mcp-session-id'];
    assert.notEqual(a, b, 'every initialize gets its own session');
  });

  test('an unsupported protocolVersion in initialize is answered with the latest supported one', async () => {
    const res = await post(initialize(1, '1999-01-01'));
    assert.equal(res.status, 200);
    assert.match(res.json().result.protocolVersion, /^\d{4}-\d{2}-\d{2}$/);
    assert.notEqual(res.json().result.protocolVersion, '1999-01-01');
  });

  test('initialize without protocolVersion is an error and creates no session', async () => {
    const res = await post({ jsonrpc: '2.0', id: 5, method: 'initialize', params: {} });
    assertRpcError(res, -32602, 5);
    assert.equal(res.headers['mcp-session-id'], undefined);
  });

  test('a foreign Origin is refused with 403 (DNS rebinding)', async () => {
    const foreign = [
      'http://evil.example',
      'https://attacker.com:8080',
      'null',
      'file://',
      'http://localhost.evil.example',
    ];
    for (const origin of foreign) {
      const res = await post(initialize(), { headers: { Origin: origin } });
      assert.equal(res.status, 403, `Origin ${origin}`);
      assert.equal(res.headers['mcp-session-id'], undefined);
    }
    const local = [`http://localhost:${proxy.port}`, `http://127.0.0.1:${proxy.port}`, `http://[::1]:${proxy.port}`];
    for (const origin of local) {
      assert.equal((await post(initialize(), { headers: { Origin: origin } })).status, 200, `Origin ${origin}`);
    }
  });

  test('a DNS name that merely starts with "127." is not loopback (Host and Origin)', async () => {
    // A rebinding attacker can make 127.0.0.1.evil.example resolve to 127.0.0.1; the browser
    // then sends that name as Host and Origin. Only real IPv4 loopback literals may pass.
    for (const name of ['127.0.0.1.evil.example', '127.evil.example', '127.0.0.1.nip.io']) {
      const byOrigin = await post(initialize(), { headers: { Origin: `http://${name}:${proxy.port}` } });
      assert.equal(byOrigin.status, 403, `Origin http://${name}:${proxy.port}`);
      const byHost = await post(initialize(), { host: `${name}:${proxy.port}` });
      assert.equal(byHost.status, 403, `Host ${name}:${proxy.port}`);
    }
    for (const host of ['127.0.0.1', '127.1.2.3']) {
      assert.equal((await post(initialize(), { host: `${host}:${proxy.port}` })).status, 200, `Host ${host}`);
    }
  });

  test('a wrong or missing Host is refused with 403', async () => {
    for (const host of ['evil.example', `evil.example:${proxy.port}`, 'localhost.evil.example', '[::2]:80']) {
      assert.equal((await post(initialize(), { host })).status, 403, `Host ${host}`);
    }
    assert.equal((await post(initialize(), { host: null })).status, 403, 'no Host header');
    assert.equal((await post(initialize(), { host: `localhost:${proxy.port}` })).status, 200);
  });

  test('Accept must list both application/json and text/event-stream (406)', async () => {
    const body = JSON.stringify(initialize());
    const noAccept = await request({ body, headers: { 'Content-Type': 'application/json' } });
    assert.equal(noAccept.status, 406);
    for (const accept of ['application/json', 'text/event-stream', 'text/html']) {
      const res = await request({ body, headers: { 'Content-Type': 'application/json', Accept: accept } });
      assert.equal(res.status, 406, `Accept: ${accept}`);
    }
  });

  test('Content-Type must be application/json (415)', async () => {
    const res = await request({
      body: JSON.stringify(initialize()),
      headers: { 'Content-Type': 'text/plain', Accept: ACCEPT },
    });
    assert.equal(res.status, 415);
  });

  test('malformed JSON is 400 with -32700 and id null', async () => {
    for (const body of ['{"jsonrpc": "2.0", "id": 1, "method": ', 'not json at all', '', '\u0000\u0001']) {
      const res = await post(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assertRpcError(res, -32700, null);
    }
  });

  test('an invalid request is 400 with -32600 and the id echoed', async () => {
    const cases = [
      [{ jsonrpc: '2.0', id: 7, method: 5 }, 7],
      [{ jsonrpc: '1.0', id: 'abc', method: 'ping' }, 'abc'],
      [{ id: 8, method: 'ping' }, 8],
      [{ jsonrpc: '2.0', id: 9 }, 9],
      [{ jsonrpc: '2.0', id: { nested: true }, method: 'ping' }, null],
      ['"just a string"', null],
      ['42', null],
    ];
    for (const [message, id] of cases) {
      const res = await post(message);
      assert.equal(res.status, 400, `${JSON.stringify(message)}: ${res.text}`);
      assertRpcError(res, -32600, id);
    }
  });

  test('requests after initialize: ping works, unknown methods get -32601 with their id', async () => {
    const session = await openSession();
    const ping = await post({ jsonrpc: '2.0', id: 'p', method: 'ping' }, { session });
    assert.equal(ping.status, 200);
    assert.deepEqual(ping.json(), { jsonrpc: '2.0', id: 'p', result: {} });
    const unknown = await post({ jsonrpc: '2.0', id: 42, method: 'no/such/method', params: {} }, { session });
    assert.equal(unknown.status, 200);
    assertRpcError(unknown, -32601, 42);
    const list = await post({ jsonrpc: '2.0', id: 43, method: 'tools/list' }, { session });
    assert.equal(list.status, 200);
    assert.ok(Array.isArray(list.json().result.tools));
    const badCursor = await post(
      { jsonrpc: '2.0', id: 44, method: 'tools/list', params: { cursor: 'garbage' } },
      { session },
    );
    assertRpcError(badCursor, -32602, 44);
  });

  test('a notification is accepted with 202 and no body', async () => {
    const session = await openSession();
    const res = await post(
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } },
      { session },
    );
    assert.equal(res.status, 202);
    assert.equal(res.text, '');
    const response = await post({ jsonrpc: '2.0', id: 99, result: {} }, { session });
    assert.equal(response.status, 202, 'a JSON-RPC response from the client is accepted too');
  });

  test('a request without Mcp-Session-Id after initialize is 400', async () => {
    await openSession();
    const res = await post({ jsonrpc: '2.0', id: 3, method: 'tools/list' });
    assert.equal(res.status, 400);
    const notification = await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    assert.equal(notification.status, 400);
  });

  test('an unknown session id is 404', async () => {
    for (const session of ['0123456789abcdef0123456789abcdef', 'x', '../../etc/passwd']) {
      const res = await post({ jsonrpc: '2.0', id: 4, method: 'tools/list' }, { session });
      assert.equal(res.status, 404, `session ${session}`);
    }
    const get = await request({ method: 'GET', headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': 'nope' } });
    assert.equal(get.status, 404);
    const del = await request({ method: 'DELETE', headers: { 'Mcp-Session-Id': 'nope' } });
    assert.equal(del.status, 404);
  });

  test('an unsupported MCP-Protocol-Version header is 400', async () => {
    const session = await openSession();
    for (const version of ['1999-01-01', 'garbage', '2025-06-18x']) {
      const res = await post(
        { jsonrpc: '2.0', id: 5, method: 'ping' },
        { headers: { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': version } },
      );
      assert.equal(res.status, 400, `version ${version}`);
    }
    const ok = await post({ jsonrpc: '2.0', id: 6, method: 'ping' }, { session });
    assert.equal(ok.status, 200);
  });

  test('an oversized body is 413 and the proxy keeps serving', async () => {
    const big = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: VERSION, padding: 'x'.repeat(MAX_REQUEST_BYTES + 1024) },
    });
    const res = await post(big);
    assert.equal(res.status, 413);
    await assertStillServing();
    // Just under the limit is fine.
    const session = await openSession();
    const near = JSON.stringify({
      jsonrpc: '2.0',
      id: 2,
      method: 'ping',
      params: { padding: 'y'.repeat(MAX_REQUEST_BYTES - 200) },
    });
    const ok = await post(near, { session });
    assert.equal(ok.status, 200, ok.text.slice(0, 200));
  });

  test('deeply nested JSON is rejected with -32700, not a crash', async () => {
    const depth = 100000;
    const arrays = await post(`${'['.repeat(depth)}${']'.repeat(depth)}`);
    assert.equal(arrays.status, 400);
    assertRpcError(arrays, -32700, null);
    const objects = await post(`${'{"a":'.repeat(depth / 10)}1${'}'.repeat(depth / 10)}`);
    assert.equal(objects.status, 400);
    assertRpcError(objects, -32700, null);
    const session = await openSession();
    let params = {};
    for (let i = 0; i < 100; i += 1) params = { p: params };
    const nestedParams = await post({ jsonrpc: '2.0', id: 1, method: 'tools/list', params }, { session });
    assert.equal(nestedParams.status, 400);
    assert.equal(nestedParams.json().error?.code, -32700);
    await assertStillServing();
  });

  test('DELETE ends the session; afterwards it is 404', async () => {
    const session = await openSession();
    const del = await request({ method: 'DELETE', headers: { 'Mcp-Session-Id': session } });
    assert.equal(del.status, 200);
    const after = await post({ jsonrpc: '2.0', id: 1, method: 'ping' }, { session });
    assert.equal(after.status, 404);
    const again = await request({ method: 'DELETE', headers: { 'Mcp-Session-Id': session } });
    assert.equal(again.status, 404);
    const noSession = await request({ method: 'DELETE' });
    assert.equal(noSession.status, 400);
  });

  test('other methods are 405 with Allow', async () => {
    for (const method of ['PUT', 'PATCH']) {
      const res = await request({
        method,
        body: '{}',
        headers: { 'Content-Type': 'application/json', Accept: ACCEPT },
      });
      assert.equal(res.status, 405, method);
      assert.match(res.headers.allow ?? '', /POST/);
    }
  });

  test('GET opens one SSE stream per session: 406 without Accept, 400 without session, 409 for a second', async () => {
    const session = await openSession();
    assert.equal((await request({ method: 'GET', headers: { 'Mcp-Session-Id': session } })).status, 406);
    assert.equal((await request({ method: 'GET', headers: { Accept: 'text/event-stream' } })).status, 400);

    const stream = await openGetStream(session);
    try {
      assert.equal(stream.status, 200);
      assert.match(stream.headers['content-type'], /^text\/event-stream/);
      const second = await request({
        method: 'GET',
        headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': session },
      });
      assert.equal(second.status, 409);
    } finally {
      stream.close();
    }
    // DELETE while a stream is open ends that stream.
    const other = await openGetStream(await openSession());
    await request({ method: 'DELETE', headers: { 'Mcp-Session-Id': other.session } });
    await withTimeout(other.ended, 5000, 'the GET stream to end after DELETE');
  });

  test('tools/call is answered on an SSE stream with the client id', async () => {
    const session = await openSession();
    await waitFor(
      async () => {
        const list = await post({ jsonrpc: '2.0', id: 'l', method: 'tools/list' }, { session });
        return list.json().result.tools.some((tool) => tool.name === 'fx__echo');
      },
      { timeout: 30000, interval: 200, what: 'fx__echo listed' },
    );
    const res = await post(
      {
        jsonrpc: '2.0',
        id: 'call-1',
        method: 'tools/call',
        params: { name: 'fx__echo', arguments: { message: 'sse' } },
      },
      { session },
    );
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/event-stream/);
    const events = parseSse(res.text);
    const messages = events.filter((event) => event.data).map((event) => JSON.parse(event.data));
    assert.equal(messages.length, 1, res.text);
    assert.equal(messages[0].id, 'call-1');
    assert.equal(messages[0].result.content[0].text, 'sse');
    const unknownTool = await post(
      { jsonrpc: '2.0', id: 'call-2', method: 'tools/call', params: { name: 'nope', arguments: {} } },
      { session },
    );
    const [error] = parseSse(unknownTool.text).filter((e) => e.data).map((e) => JSON.parse(e.data));
    assert.equal(error?.id, 'call-2', unknownTool.text);
    assert.equal(error?.error?.code, -32602);
    const badArgs = await post(
      { jsonrpc: '2.0', id: 'call-3', method: 'tools/call', params: { name: 'fx__echo', arguments: [1] } },
      { session },
    );
    const [badArgsError] = parseSse(badArgs.text).filter((e) => e.data).map((e) => JSON.parse(e.data));
    assert.equal(badArgsError?.error?.code, -32602, badArgs.text);
  });

  test('batches: rejected for 2025-06-18, served for 2025-03-26', async () => {
    const batch = [
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', id: 2, method: 'no/such' },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
    ];
    const modern = await openSession();
    const rejected = await post(batch, { session: modern });
    assert.equal(rejected.status, 400);
    assert.equal(rejected.json().error?.code, -32600);

    const legacy = await openSession('2025-03-26');
    const served = await post(batch, { headers: { 'Mcp-Session-Id': legacy, 'MCP-Protocol-Version': '2025-03-26' } });
    assert.equal(served.status, 200, served.text);
    const responses = served.json();
    assert.ok(Array.isArray(responses));
    assert.deepEqual(responses.map((r) => r.id).sort(), [1, 2]);
    assert.deepEqual(responses.find((r) => r.id === 1).result, {});
    assert.equal(responses.find((r) => r.id === 2).error.code, -32601);
    const empty = await post([], { headers: { 'Mcp-Session-Id': legacy, 'MCP-Protocol-Version': '2025-03-26' } });
    assert.equal(empty.status, 400);
  });

  test('garbage that is not HTTP, and oversized headers, close the connection without harm', async () => {
    await rawExchange('\x16\x03\x01\x02\x00 not http at all\r\n\r\n');
    await rawExchange(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n\r\n`);
    await rawExchange('POST /mcp/all HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n');
    await rawExchange('POST /mcp/all HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    await assertStillServing();
  });

  test('many sessions and requests in parallel are all answered', async () => {
    const sessions = await Promise.all(Array.from({ length: 20 }, () => openSession()));
    const replies = await Promise.all(
      sessions.map((session, i) => post({ jsonrpc: '2.0', id: i, method: 'ping' }, { session })),
    );
    replies.forEach((res, i) => {
      assert.equal(res.status, 200);
      assert.equal(res.json().id, i);
    });
  });
});

/** Opens a GET SSE stream; returns { status, headers, session, ended, close() }. */
function openGetStream(session) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: proxy.port,
        method: 'GET',
        path: '/mcp/all',
        agent: false,
        headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': session, 'MCP-Protocol-Version': VERSION },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        const ended = new Promise((done) => {
          res.on('end', done);
          res.on('close', done);
          res.on('error', done);
        });
        res.resume();
        resolve({ status: res.statusCode, headers: res.headers, session, ended, close: () => req.destroy() });
      });
      req.end();
    }),
    10000,
    'GET stream',
  );
}

/** Writes raw bytes on a new connection; resolves when the server has closed it (or answered). */
function rawExchange(bytes) {
  return withTimeout(
    new Promise((resolve) => {
      const socket = net.connect(proxy.port, '127.0.0.1');
      let received = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk) => {
        received += chunk;
      });
      socket.on('error', () => resolve(received));
      socket.on('close', () => resolve(received));
      socket.on('connect', () => {
        socket.write(bytes, 'latin1');
        socket.end();
      });
    }),
    15000,
    'raw exchange',
  );
}

/** Minimal SSE parser: [{ event, data, comment }]. */
function parseSse(text) {
  const events = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (block.trim() === '') continue;
    const event = { event: 'message', data: '' };
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) event.comment = line.slice(1);
      else if (line.startsWith('event:')) event.event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    event.data = data.join('\n');
    events.push(event);
  }
  return events;
}
