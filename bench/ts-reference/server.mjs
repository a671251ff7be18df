// The reference for `scripts/bench.sh mcp`: the official TypeScript SDK serving one tool, get-session, over Streamable
// HTTP (stateful: one transport and server per MCP session, as the SDK's examples do). It answers every call with the
// document in the file REFERENCE_RESULT names, which the benchmark takes from Kennel's own get-session answer, so both
// send the same bytes. No auth, no database. Prints "listening on PORT" once ready.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

const result = JSON.parse(readFileSync(process.env.REFERENCE_RESULT, 'utf8'));
const port = Number(process.env.PORT ?? 0);
const transports = new Map();

function newServer() {
  const server = new McpServer({ name: 'ts-reference', version: '1.0.0' });
  server.registerTool('get-session', {
    title: 'Get a session',
    description: 'Returns one session as it stands now.',
    inputSchema: { id: z.string() },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  }, async ({ id }) => ({ ...result, structuredContent: { ...result.structuredContent, id } }));
  return server;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined));
    req.on('error', reject);
  });
}

const http = createServer(async (req, res) => {
  try {
    if (!req.url.startsWith('/mcp')) { res.writeHead(404).end(); return; }
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    const id = req.headers['mcp-session-id'];
    let transport = id ? transports.get(id) : undefined;
    if (!transport && req.method === 'POST' && !id && isInitializeRequest(body)) {
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => transports.set(sid, transport),
      });
      transport.onclose = () => { if (transport.sessionId) transports.delete(transport.sessionId); };
      await newServer().connect(transport);
    }
    if (!transport) {
      res.writeHead(id ? 404 : 400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'No valid session' }, id: null }));
      return;
    }
    await transport.handleRequest(req, res, body);
  } catch (e) {
    if (!res.headersSent) res.writeHead(500).end(String(e));
  }
});
http.listen(port, '127.0.0.1', () => console.log(`listening on ${http.address().port}`));
