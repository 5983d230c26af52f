/**
 * The floor cupd is measured against: the smallest relay that speaks the
 * same protocol on Deno's own WebSocket server, with no framework, no
 * validation beyond reading `type`, no limits and no logs.
 *
 * It answers `welcome`, `auth`, `subscribe` and `data` exactly as cupd does
 * on the happy path, and serializes each payload once into the same frame
 * widgets get from cupd, so the load generator cannot tell them apart.
 *
 * Run: `PORT=8001 deno run --allow-net --allow-env bench/baseline_relay.ts`
 *
 * @module
 */

const port = Number(Deno.env.get("PORT") ?? "8001");
const apps = new Map<string, Set<WebSocket>>();

function handle(request: Request): Response {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("upgrade required", { status: 426 });
  }
  const { socket, response } = Deno.upgradeWebSocket(request);
  const uid = crypto.randomUUID().replaceAll("-", "").toUpperCase();
  let provides: string | undefined;
  const watches: string[] = [];

  socket.onopen = () =>
    socket.send(`{"type":"welcome","uid":"${uid}","isolate":"baseline"}`);

  socket.onmessage = (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    switch (frame?.type) {
      case "auth":
        provides = String(frame.name);
        socket.send(JSON.stringify({ type: "authenticated", name: provides }));
        break;
      case "subscribe": {
        const name = String(frame.name);
        let sockets = apps.get(name);
        if (!sockets) apps.set(name, sockets = new Set());
        sockets.add(socket);
        watches.push(name);
        socket.send(JSON.stringify({ type: "subscribed", name }));
        break;
      }
      case "data":
        if (provides !== undefined) publish(provides, frame.data);
        break;
      case "ping":
        socket.send('{"type":"pong"}');
        break;
    }
  };

  socket.onclose = () => {
    for (const name of watches) {
      const sockets = apps.get(name);
      sockets?.delete(socket);
      if (sockets?.size === 0) apps.delete(name);
    }
  };
  socket.onerror = () => {};
  return response;
}

function publish(name: string, data: unknown): void {
  const sockets = apps.get(name);
  if (!sockets) return;
  const frame = `{"type":"data","name":${JSON.stringify(name)},"data":${
    JSON.stringify(data)
  }}`;
  for (const socket of sockets) {
    if (socket.readyState === WebSocket.OPEN) socket.send(frame);
  }
}

const server = Deno.serve({ port, onListen: () => {} }, handle);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(
    signal,
    () => server.shutdown().then(() => Deno.exit(0)),
  );
}
