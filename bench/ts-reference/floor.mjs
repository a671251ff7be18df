// The node:http floor for `scripts/bench.sh mcp`: answers every POST with Kennel's own tools/call answer, captured once
// (FLOOR_RESPONSE names a JSON file {headers, body}), with no MCP SDK and no JSON parsing. Its round trip is what any
// node:http server costs this machine before doing any work. Prints "listening on PORT" once ready.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const canned = JSON.parse(readFileSync(process.env.FLOOR_RESPONSE, 'utf8'));
const body = Buffer.from(canned.body, 'utf8');
const http = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    // No Content-Length: node:http sends it chunked, as Kestrel sends Kennel's.
    res.writeHead(200, canned.headers);
    res.end(body);
  });
});
http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log(`listening on ${http.address().port}`));
