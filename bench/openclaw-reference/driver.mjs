// Drives an OpenClaw gateway over its own WebSocket client (the one its CLI uses), for Kennel's agent benchmark.
//   node driver.mjs create N CONCURRENCY PREFIX  creates N sessions (sessions.create), prints {created, errors, seconds}
//   node driver.mjs list SAMPLES                  times sessions.list {limit: 50} on one connection, prints {sessions, ms: [...]}
// OPENCLAW_URL (ws://127.0.0.1:PORT) and OPENCLAW_TOKEN name the gateway. Copied beside node_modules by scripts/bench.sh.
import { GatewayClient } from "openclaw/plugin-sdk/gateway-runtime";

const [command, a, b, c] = process.argv.slice(2);
let ready;
const hello = new Promise((resolve) => (ready = resolve));
const client = new GatewayClient({
  url: process.env.OPENCLAW_URL,
  token: process.env.OPENCLAW_TOKEN,
  scopes: ["operator.read", "operator.write", "operator.admin"],
  requestTimeoutMs: 120000,
  onHelloOk: () => ready(),
  onConnectError: (error) => console.error(`connect: ${error.message}`),
});
client.start();
await hello;

if (command === "create") {
  const total = Number(a), concurrency = Number(b), prefix = c;
  const started = performance.now();
  let next = 0, errors = 0;
  const work = async () => {
    while (next < total) {
      const i = next++;
      try {
        await client.request("sessions.create", { key: `${prefix}-${i}`, label: `bench ${prefix} ${i}` });
      } catch (error) {
        if (errors++ < 3) console.error(error.message);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, work));
  console.log(JSON.stringify({ created: total - errors, errors, seconds: (performance.now() - started) / 1000 }));
} else if (command === "list") {
  const ms = [];
  let sessions = 0;
  for (let i = 0; i < Number(a); i++) {
    const started = performance.now();
    const page = await client.request("sessions.list", { limit: 50 });
    ms.push(performance.now() - started);
    sessions = page.totalCount ?? page.count;
  }
  console.log(JSON.stringify({ sessions, ms }));
} else {
  console.error(`unknown command: ${command}`);
  process.exit(2);
}
client.stop();
process.exit(0);
