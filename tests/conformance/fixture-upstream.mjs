#!/usr/bin/env node
// Fixture upstream for the official MCP conformance suite (server mode).
//
// mcpproxy is tested by running `conformance server` against the proxy while the proxy fronts
// this server as its only upstream (with an empty name prefix), once over stdio and once over
// Streamable HTTP. This file implements every tool, resource, prompt and behaviour the server
// scenarios of @modelcontextprotocol/conformance 0.1.16 ask for, written from the scenario
// descriptions (see ../shared/reference/mcp-protocol.md §4.4), on the low-level `Server` of the
// pinned official SDK so that every schema and content block goes out exactly as written here.
//
// Usage:
//   node fixture-upstream.mjs stdio
//   node fixture-upstream.mjs http --port N      (N = 0: any free port; 127.0.0.1 only)
// In http mode it prints "fixture-upstream listening on http://127.0.0.1:<port>/mcp" on stderr.
//
// The SDK comes from $NPM_DIR (default <repo>/.cache/npm, installed by make test-deps).
import http from 'node:http';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const npmDir = path.resolve(process.env.NPM_DIR ?? path.join(here, '..', '..', '.cache', 'npm'));
const sdk = (rel) =>
  import(pathToFileURL(path.join(npmDir, 'node_modules', '@modelcontextprotocol', 'sdk', 'dist', 'esm', rel)).href);

const { Server } = await sdk('server/index.js');
const { StdioServerTransport } = await sdk('server/stdio.js');
const { StreamableHTTPServerTransport } = await sdk('server/streamableHttp.js');
const t = await sdk('types.js');

const log = (...args) => process.stderr.write(`[fixture-upstream] ${args.join(' ')}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Binary payloads, built here rather than pasted: a 1x1 red PNG and a short silent WAV.

// A valid 1x1 RGBA PNG (signature, IHDR, IDAT, IEND).
const PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

function silentWavBase64(samples = 800, rate = 8000) {
  const data = Buffer.alloc(samples * 2); // 16-bit mono silence
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16); // PCM chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]).toString('base64');
}
const WAV_BASE64 = silentWavBase64();

// ---------------------------------------------------------------------------------------------
// Tools.

const noArgs = { type: 'object', properties: {} };

const TOOLS = [
  { name: 'test_simple_text', description: 'Returns a fixed text block.', inputSchema: noArgs },
  { name: 'test_image_content', description: 'Returns a PNG image block.', inputSchema: noArgs },
  { name: 'test_audio_content', description: 'Returns a WAV audio block.', inputSchema: noArgs },
  { name: 'test_embedded_resource', description: 'Returns an embedded text resource.', inputSchema: noArgs },
  {
    name: 'test_multiple_content_types',
    description: 'Returns text, an image and an embedded resource in one result.',
    inputSchema: noArgs,
  },
  {
    name: 'test_tool_with_logging',
    description: 'Sends three info log notifications while it runs.',
    inputSchema: noArgs,
  },
  {
    name: 'test_tool_with_progress',
    description: 'Reports progress 0, 50 and 100 of 100 when given a progress token.',
    inputSchema: noArgs,
  },
  { name: 'test_error_handling', description: 'Always returns a tool error (isError).', inputSchema: noArgs },
  {
    name: 'test_sampling',
    description: 'Asks the client to sample an LLM reply to the prompt.',
    inputSchema: {
      type: 'object',
      properties: { prompt: { type: 'string', description: 'The prompt to send to the LLM' } },
      required: ['prompt'],
    },
  },
  {
    name: 'test_elicitation',
    description: 'Asks the user (through the client) for a username and an email.',
    inputSchema: {
      type: 'object',
      properties: { message: { type: 'string', description: 'The message to show the user' } },
      required: ['message'],
    },
  },
  {
    name: 'test_elicitation_sep1034_defaults',
    description: 'Elicitation whose schema gives a default for every primitive type (SEP-1034).',
    inputSchema: noArgs,
  },
  {
    name: 'test_elicitation_sep1330_enums',
    description: 'Elicitation with the five enum schema forms (SEP-1330).',
    inputSchema: noArgs,
  },
  {
    name: 'test_reconnection',
    description: 'Closes its SSE stream mid-call; the result arrives after the client resumes (SEP-1699).',
    inputSchema: noArgs,
  },
  {
    name: 'json_schema_2020_12_tool',
    description: 'Tool with JSON Schema 2020-12 features',
    inputSchema: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      $defs: {
        address: {
          type: 'object',
          properties: { street: { type: 'string' }, city: { type: 'string' } },
        },
      },
      properties: {
        name: { type: 'string' },
        address: { $ref: '#/$defs/address' },
      },
      additionalProperties: false,
    },
  },
  {
    name: 'test_dynamic_tool',
    description: 'Adds or removes the tool test_dynamic_extra and announces tools/list_changed.',
    inputSchema: noArgs,
  },
];

const DYNAMIC_EXTRA = {
  name: 'test_dynamic_extra',
  description: 'Present only after test_dynamic_tool was called an odd number of times.',
  inputSchema: noArgs,
};

const text = (value) => ({ type: 'text', text: value });

const LOG_SEVERITY = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/** One MCP server instance (one per HTTP session; one for stdio). */
function createServer({ closeStreamSupported }) {
  const server = new Server(
    { name: 'mcpproxy-conformance-fixture', version: '1.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
        logging: {},
        completions: {},
      },
      instructions: 'Fixture upstream for the MCP conformance suite (mcpproxy tests).',
    },
  );
  let logLevel = 'info'; // until the client sets one
  let dynamicExtra = false;
  const subscriptions = new Set();

  const sendLog = async (extra, level, data) => {
    if (LOG_SEVERITY.indexOf(level) < LOG_SEVERITY.indexOf(logLevel)) return;
    await extra.sendNotification({ method: 'notifications/message', params: { level, logger: 'fixture', data } });
  };

  server.setRequestHandler(t.SetLevelRequestSchema, async (request) => {
    logLevel = request.params.level;
    return {};
  });

  server.setRequestHandler(t.ListToolsRequestSchema, async () => ({
    tools: dynamicExtra ? [...TOOLS, DYNAMIC_EXTRA] : TOOLS,
  }));

  const requireClientCapability = (name) => {
    if (!server.getClientCapabilities()?.[name]) {
      throw new t.McpError(t.ErrorCode.InvalidRequest, `the client did not declare the ${name} capability`);
    }
  };

  const elicit = async (extra, params) => {
    requireClientCapability('elicitation');
    const result = await extra.sendRequest({ method: 'elicitation/create', params }, t.ElicitResultSchema);
    return result;
  };

  const toolHandlers = {
    test_simple_text: async () => ({ content: [text('This is a simple text response for testing.')] }),
    test_image_content: async () => ({ content: [{ type: 'image', data: PNG_BASE64, mimeType: 'image/png' }] }),
    test_audio_content: async () => ({ content: [{ type: 'audio', data: WAV_BASE64, mimeType: 'audio/wav' }] }),
    test_embedded_resource: async () => ({
      content: [
        {
          type: 'resource',
          resource: {
            uri: 'test://embedded-resource',
            mimeType: 'text/plain',
            text: 'This is an embedded resource content.',
          },
        },
      ],
    }),
    test_multiple_content_types: async () => ({
      content: [
        text('Multiple content types test:'),
        { type: 'image', data: PNG_BASE64, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: {
            uri: 'test://mixed-content-resource',
            mimeType: 'application/json',
            text: JSON.stringify({ test: 'data', value: 123 }),
          },
        },
      ],
    }),
    test_tool_with_logging: async (_args, extra) => {
      await sendLog(extra, 'info', 'Tool execution started');
      await sleep(50);
      await sendLog(extra, 'info', 'Tool processing data');
      await sleep(50);
      await sendLog(extra, 'info', 'Tool execution completed');
      return { content: [text('Tool with logging executed successfully')] };
    },
    test_tool_with_progress: async (_args, extra, request) => {
      const progressToken = request.params._meta?.progressToken;
      for (const progress of [0, 50, 100]) {
        if (progressToken !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken, progress, total: 100, message: `step ${progress}` },
          });
        }
        if (progress < 100) await sleep(50);
      }
      return { content: [text(`Tool with progress executed successfully`)] };
    },
    test_error_handling: async () => ({
      isError: true,
      content: [text('This tool intentionally returns an error for testing')],
    }),
    test_sampling: async (args, extra) => {
      requireClientCapability('sampling');
      const prompt = String(args.prompt ?? '');
      const result = await extra.sendRequest(
        {
          method: 'sampling/createMessage',
          params: { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 },
        },
        t.CreateMessageResultSchema,
      );
      const reply = result.content?.type === 'text' ? result.content.text : JSON.stringify(result.content);
      return { content: [text(`LLM response: ${reply}`)] };
    },
    test_elicitation: async (args, extra) => {
      const result = await elicit(extra, {
        message: String(args.message ?? ''),
        requestedSchema: {
          type: 'object',
          properties: {
            username: { type: 'string', description: "User's response" },
            email: { type: 'string', description: "User's email address" },
          },
          required: ['username', 'email'],
        },
      });
      return {
        content: [text(`User response: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`)],
      };
    },
    test_elicitation_sep1034_defaults: async (_args, extra) => {
      const result = await elicit(extra, {
        message: 'Please review the defaults and accept',
        requestedSchema: {
          type: 'object',
          properties: {
            name: { type: 'string', description: 'Name', default: 'John Doe' },
            age: { type: 'integer', description: 'Age', default: 30 },
            score: { type: 'number', description: 'Score', default: 95.5 },
            status: { type: 'string', description: 'Status', enum: ['active', 'inactive', 'pending'], default: 'active' },
            verified: { type: 'boolean', description: 'Verified', default: true },
          },
        },
      });
      return {
        content: [
          text(`Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`),
        ],
      };
    },
    test_elicitation_sep1330_enums: async (_args, extra) => {
      const result = await elicit(extra, {
        message: 'Pick from each kind of enum',
        requestedSchema: {
          type: 'object',
          properties: {
            untitledSingle: { type: 'string', enum: ['option1', 'option2', 'option3'] },
            titledSingle: {
              type: 'string',
              oneOf: [
                { const: 'value1', title: 'First Option' },
                { const: 'value2', title: 'Second Option' },
                { const: 'value3', title: 'Third Option' },
              ],
            },
            legacyEnum: {
              type: 'string',
              enum: ['opt1', 'opt2', 'opt3'],
              enumNames: ['Option One', 'Option Two', 'Option Three'],
            },
            untitledMulti: { type: 'array', items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
            titledMulti: {
              type: 'array',
              items: {
                anyOf: [
                  { const: 'value1', title: 'First Choice' },
                  { const: 'value2', title: 'Second Choice' },
                  { const: 'value3', title: 'Third Choice' },
                ],
              },
            },
          },
        },
      });
      return {
        content: [
          text(`Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`),
        ],
      };
    },
    test_reconnection: async (_args, extra) => {
      // The transport offers closeSSEStream only for resumable (>= 2025-11-25) HTTP clients:
      // then the POST stream is closed mid-call and the result is replayed after the client
      // resumes with GET + Last-Event-ID. Otherwise the result simply arrives on the stream.
      await sleep(100);
      if (closeStreamSupported && extra.closeSSEStream) {
        log('test_reconnection: closing the POST SSE stream mid-call');
        extra.closeSSEStream();
      }
      await sleep(200);
      return { content: [text('Reconnection test completed successfully')] };
    },
    json_schema_2020_12_tool: async (args) => ({ content: [text(`Received: ${JSON.stringify(args)}`)] }),
    test_dynamic_tool: async () => {
      dynamicExtra = !dynamicExtra;
      await server.sendToolListChanged();
      return { content: [text(dynamicExtra ? 'test_dynamic_extra added' : 'test_dynamic_extra removed')] };
    },
    test_dynamic_extra: async () => ({ content: [text('dynamic tool called')] }),
  };

  server.setRequestHandler(t.CallToolRequestSchema, async (request, extra) => {
    const name = request.params.name;
    const handler = toolHandlers[name];
    if (!handler || (name === 'test_dynamic_extra' && !dynamicExtra)) {
      throw new t.McpError(t.ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    }
    return handler(request.params.arguments ?? {}, extra, request);
  });

  // -------------------------------------------------------------------------------------------
  // Resources.

  const RESOURCES = [
    {
      uri: 'test://static-text',
      name: 'static-text',
      description: 'A static text resource.',
      mimeType: 'text/plain',
    },
    {
      uri: 'test://static-binary',
      name: 'static-binary',
      description: 'A static binary (PNG) resource.',
      mimeType: 'image/png',
    },
    {
      uri: 'test://watched-resource',
      name: 'watched-resource',
      description: 'A resource clients may subscribe to.',
      mimeType: 'text/plain',
    },
  ];
  const TEMPLATE = {
    uriTemplate: 'test://template/{id}/data',
    name: 'template-data',
    description: 'JSON data for any id.',
    mimeType: 'application/json',
  };

  server.setRequestHandler(t.ListResourcesRequestSchema, async () => ({ resources: RESOURCES }));
  server.setRequestHandler(t.ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: [TEMPLATE] }));
  server.setRequestHandler(t.ReadResourceRequestSchema, async (request) => {
    const uri = request.params.uri;
    if (uri === 'test://static-text') {
      return { contents: [{ uri, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] };
    }
    if (uri === 'test://static-binary') {
      return { contents: [{ uri, mimeType: 'image/png', blob: PNG_BASE64 }] };
    }
    if (uri === 'test://watched-resource') {
      return { contents: [{ uri, mimeType: 'text/plain', text: 'Watched resource content.' }] };
    }
    const match = /^test:\/\/template\/([^/]+)\/data$/.exec(uri);
    if (match) {
      const id = decodeURIComponent(match[1]);
      const body = { id, templateTest: true, data: `Data for ID: ${id}` };
      return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(body) }] };
    }
    throw new t.McpError(-32002, `Resource not found: ${uri}`, { uri });
  });
  server.setRequestHandler(t.SubscribeRequestSchema, async (request) => {
    subscriptions.add(request.params.uri);
    return {};
  });
  server.setRequestHandler(t.UnsubscribeRequestSchema, async (request) => {
    subscriptions.delete(request.params.uri);
    return {};
  });

  // -------------------------------------------------------------------------------------------
  // Prompts and completion.

  const PROMPTS = [
    { name: 'test_simple_prompt', description: 'A prompt without arguments.' },
    {
      name: 'test_prompt_with_arguments',
      description: 'A prompt with two required arguments.',
      arguments: [
        { name: 'arg1', description: 'First argument', required: true },
        { name: 'arg2', description: 'Second argument', required: true },
      ],
    },
    {
      name: 'test_prompt_with_embedded_resource',
      description: 'A prompt that embeds a resource.',
      arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }],
    },
    { name: 'test_prompt_with_image', description: 'A prompt with an image.' },
  ];

  server.setRequestHandler(t.ListPromptsRequestSchema, async () => ({ prompts: PROMPTS }));
  server.setRequestHandler(t.GetPromptRequestSchema, async (request) => {
    const { name } = request.params;
    const args = request.params.arguments ?? {};
    const requireArgs = (...names) => {
      const missing = names.filter((n) => typeof args[n] !== 'string');
      if (missing.length > 0) {
        throw new t.McpError(t.ErrorCode.InvalidParams, `missing required argument(s): ${missing.join(', ')}`);
      }
    };
    switch (name) {
      case 'test_simple_prompt':
        return { messages: [{ role: 'user', content: text('This is a simple prompt for testing.') }] };
      case 'test_prompt_with_arguments':
        requireArgs('arg1', 'arg2');
        return {
          messages: [
            { role: 'user', content: text(`Prompt with arguments: arg1='${args.arg1}', arg2='${args.arg2}'`) },
          ],
        };
      case 'test_prompt_with_embedded_resource':
        requireArgs('resourceUri');
        return {
          messages: [
            {
              role: 'user',
              content: {
                type: 'resource',
                resource: {
                  uri: args.resourceUri,
                  mimeType: 'text/plain',
                  text: 'Embedded resource content for testing.',
                },
              },
            },
            { role: 'user', content: text('Please process the embedded resource above.') },
          ],
        };
      case 'test_prompt_with_image':
        return {
          messages: [
            { role: 'user', content: { type: 'image', data: PNG_BASE64, mimeType: 'image/png' } },
            { role: 'user', content: text('Please analyze the image above.') },
          ],
        };
      default:
        throw new t.McpError(t.ErrorCode.InvalidParams, `Unknown prompt: ${name}`);
    }
  });

  const COMPLETIONS = {
    arg1: ['test', 'testing', 'tested', 'other'],
    arg2: ['world', 'web', 'wide'],
    id: ['123', '124', '456'],
  };
  server.setRequestHandler(t.CompleteRequestSchema, async (request) => {
    const { ref, argument } = request.params;
    const known =
      (ref.type === 'ref/prompt' && ref.name === 'test_prompt_with_arguments') ||
      (ref.type === 'ref/resource' && ref.uri === TEMPLATE.uriTemplate);
    const values = known
      ? (COMPLETIONS[argument.name] ?? []).filter((v) => v.startsWith(argument.value ?? ''))
      : [];
    return { completion: { values, total: values.length, hasMore: false } };
  });

  return server;
}

// ---------------------------------------------------------------------------------------------
// Transports.

/** In-memory event store: resumability for the Streamable HTTP transport (replay after a GET). */
class MemoryEventStore {
  constructor() {
    this.events = new Map(); // eventId -> { streamId, message }
    this.counter = 0;
  }
  async storeEvent(streamId, message) {
    const eventId = `${streamId}_${String(++this.counter).padStart(8, '0')}`;
    this.events.set(eventId, { streamId, message });
    if (this.events.size > 1000) this.events.delete(this.events.keys().next().value);
    return eventId;
  }
  async getStreamIdForEventId(eventId) {
    return this.events.get(eventId)?.streamId;
  }
  async replayEventsAfter(lastEventId, { send }) {
    const entry = this.events.get(lastEventId);
    if (!entry) return '';
    let found = false;
    for (const [eventId, { streamId, message }] of this.events) {
      if (eventId === lastEventId) {
        found = true;
        continue;
      }
      // Priming events are stored as {} and carry nothing to replay.
      if (found && streamId === entry.streamId && Object.keys(message).length > 0) await send(eventId, message);
    }
    return entry.streamId;
  }
}

async function runStdio() {
  const server = createServer({ closeStreamSupported: false });
  await server.connect(new StdioServerTransport());
  log('serving on stdio');
}

async function runHttp(port) {
  const sessions = new Map(); // session id -> transport
  let boundPort = port;

  const allowedHost = (host) =>
    typeof host === 'string' && [`127.0.0.1:${boundPort}`, `localhost:${boundPort}`, `[::1]:${boundPort}`].includes(host);
  const allowedOrigin = (origin) =>
    origin === undefined ||
    [`http://127.0.0.1:${boundPort}`, `http://localhost:${boundPort}`, `http://[::1]:${boundPort}`].includes(origin);

  const reply = (res, status, message) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
  };

  const readJson = (req) =>
    new Promise((resolve, reject) => {
      const chunks = [];
      let size = 0;
      req.on('data', (chunk) => {
        size += chunk.length;
        if (size > 4 << 20) {
          reject(new Error('body too large'));
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (err) {
          reject(err);
        }
      });
      req.on('error', reject);
    });

  const httpServer = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost');
      if (url.pathname !== '/mcp') return reply(res, 404, 'Not found');
      // DNS rebinding protection: only loopback Host/Origin values for our own port.
      if (!allowedHost(req.headers.host)) return reply(res, 403, `Forbidden Host: ${req.headers.host}`);
      if (!allowedOrigin(req.headers.origin)) return reply(res, 403, `Forbidden Origin: ${req.headers.origin}`);

      const sessionId = req.headers['mcp-session-id'];
      if (req.method === 'POST') {
        let body;
        try {
          body = await readJson(req);
        } catch (err) {
          res.writeHead(400, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32700, message: `Parse error: ${err.message}` }, id: null }));
          return;
        }
        if (sessionId !== undefined) {
          const transport = sessions.get(sessionId);
          if (!transport) return reply(res, 404, 'Session not found');
          return await transport.handleRequest(req, res, body);
        }
        const isInit = Array.isArray(body) ? body.some(t.isInitializeRequest) : t.isInitializeRequest(body);
        if (!isInit) return reply(res, 400, 'Bad Request: no session id and not an initialize request');
        const transport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          eventStore: new MemoryEventStore(),
          retryInterval: 500,
          onsessioninitialized: (id) => {
            sessions.set(id, transport);
          },
          onsessionclosed: (id) => {
            sessions.delete(id);
          },
        });
        transport.onclose = () => {
          if (transport.sessionId) sessions.delete(transport.sessionId);
        };
        const server = createServer({ closeStreamSupported: true });
        await server.connect(transport);
        return await transport.handleRequest(req, res, body);
      }
      if (req.method === 'GET' || req.method === 'DELETE') {
        const transport = sessionId === undefined ? undefined : sessions.get(sessionId);
        if (!transport) return reply(res, sessionId === undefined ? 400 : 404, 'Missing or unknown session');
        return await transport.handleRequest(req, res);
      }
      res.writeHead(405, { Allow: 'GET, POST, DELETE' });
      res.end();
    } catch (err) {
      log(`request failed: ${err?.stack ?? err}`);
      if (!res.headersSent) reply(res, 500, 'Internal server error');
      else res.end();
    }
  });

  await new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, '127.0.0.1', resolve);
  });
  boundPort = httpServer.address().port;
  log(`listening on http://127.0.0.1:${boundPort}/mcp`);

  const shutdown = () => {
    for (const transport of sessions.values()) transport.close().catch(() => {});
    httpServer.close();
    httpServer.closeAllConnections?.();
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'stdio') {
  await runStdio();
} else if (mode === 'http') {
  const portIndex = rest.indexOf('--port');
  const port = portIndex >= 0 ? Number(rest[portIndex + 1]) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    log(`invalid --port ${rest[portIndex + 1]}`);
    process.exit(2);
  }
  await runHttp(port);
} else {
  process.stderr.write('usage: fixture-upstream.mjs stdio | http [--port N]\n');
  process.exit(2);
}
