/**
 * HTTP routes of the relay, as a Hono app.
 *
 * `/ws` upgrades with `Deno.upgradeWebSocket` directly: the socket glue in
 * `server/socket.ts` owns the socket, so Hono only routes.
 *
 * @module
 */

import { Hono } from "hono";
import { handlePublish } from "./server/http_publish.ts";
import { attachSocket, type SocketContext } from "./server/socket.ts";
import { STATIC_FILES, staticResponse } from "./server/static_files.ts";

/** What the routes need. */
export interface AppContext extends SocketContext {
  /** Seconds of silence before the server pings a socket; 0 disables. */
  idleTimeoutSeconds: number;
}

/** Build the Hono app serving one isolate. */
export function createApp(ctx: AppContext): Hono {
  const app = new Hono();

  app.get("/ws", (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return c.json(
        { error: "upgrade_required", message: "Connect with a WebSocket" },
        426,
      );
    }
    const { socket, response } = Deno.upgradeWebSocket(c.req.raw, {
      idleTimeout: ctx.idleTimeoutSeconds,
    });
    attachSocket(socket, ctx);
    return response;
  });

  app.post(
    "/apps/:name/data",
    (c) => handlePublish(c.req.raw, c.req.param("name"), ctx),
  );

  app.get("/healthz", (c) =>
    c.json({
      status: "ok",
      isolate: ctx.isolate,
      connections: ctx.connections.size,
      ...ctx.hub.stats(),
    }));

  // The widget library, its types and the debug page built on it.
  for (const file of STATIC_FILES) {
    app.get(file.path, (c) => staticResponse(file, c.req.raw));
  }

  app.notFound((c) =>
    c.json({ error: "not_found", message: `No route for ${c.req.path}` }, 404)
  );

  app.onError((error, c) => {
    ctx.log.error("request failed", { path: c.req.path, error });
    return c.json({ error: "internal_error", message: "Internal error" }, 500);
  });

  return app;
}
