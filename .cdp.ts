import WebSocket from 'ws';
async function main() {
  const list = (await (await fetch('http://localhost:9229/json/list')).json()) as Array<{ webSocketDebuggerUrl: string }>;
  const ws = new WebSocket(list[0]!.webSocketDebuggerUrl);
  await new Promise((r) => ws.on('open', r));
  let id = 0;
  const call = (method: string, params: object) => new Promise<any>((resolve) => {
    const my = ++id; ws.on('message', (m) => { const d = JSON.parse(String(m)); if (d.id === my) resolve(d.result); });
    ws.send(JSON.stringify({ id: my, method, params }));
  });
  const expr = process.argv[2]!;
  const r = await call('Runtime.evaluate', { expression: expr, returnByValue: true, awaitPromise: true, includeCommandLineAPI: true });
  console.log(JSON.stringify(r.result?.value ?? r, null, 1));
  ws.close();
}
main();
