/**
 * HTTP routes of the relay, as a Hono app.
 *
 * `/ws` upgrades with `Deno.upgradeWebSocket` directly: the socket glue in
 * `server/socket.ts` owns the socket, so Hono only routes.
 *
 * @module
 */

import { Hono } from "hono";
import { CONTENT_TYPE } from "./observe/metrics.ts";
import type { Admission } from "./server/admission.ts";
import { handlePublish } from "./server/http_publish.ts";
import { refuseSocket, turnAway } from "./server/refuse.ts";
import { attachSocket, type SocketContext } from "./server/socket.ts";
import { STATIC_FILES, staticResponse } from "./server/static_files.ts";

/** What the routes need. */
export interface AppContext extends SocketContext {
  /** Seconds of silence before the server pings a socket; 0 disables. */
  idleTimeoutSeconds: number;
  /** Connection limits per isolate and per client address. */
  admission: Admission;
  /** Whether the relay is shutting down and takes nothing new. */
  stopping: () => boolean;
}

/** What `Deno.serve` passes beside the request, seen by Hono as `env`. */
type Bindings = { Bindings: Partial<Deno.ServeHandlerInfo> | undefined };

/** Build the Hono app serving one isolate. */
export function createApp(ctx: AppContext): Hono<Bindings> {
  const app = new Hono<Bindings>();

  app.get("/ws", (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return c.json(
        { error: "upgrade_required", message: "Connect with a WebSocket" },
        426,
      );
    }
    return acceptSocket(c.req.raw, c.env?.remoteAddr, ctx);
  });

  app.get("/metrics", () =>
    new Response(ctx.metrics.registry.render(), {
      headers: { "content-type": CONTENT_TYPE },
    }));

  app.post("/apps/:name/data", (c) => {
    if (!ctx.stopping()) {
      return handlePublish(c.req.raw, c.req.param("name"), ctx);
    }
    c.header("retry-after", "1");
    return c.json(
      { error: "shutting_down", message: "The relay is stopping" },
      503,
    );
  });

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

  app.onError((error, c) => internalError(ctx, c.req.path, error));

  return app;
}

/**
 * Serve `GET /ws` with a WebSocket upgrade ahead of `app`, which serves
 * everything else (the route it keeps answers 426 to a plain request, as
 * well as HEAD): a connection skips the router and its context. Answers
 * as the route would, a failure included.
 */
export function withSocketRoute(
  app: Hono<Bindings>,
  ctx: AppContext,
): (
  request: Request,
  info?: Deno.ServeHandlerInfo,
) => Response | Promise<Response> {
  return (request, info) => {
    if (!isSocketRequest(request)) return app.fetch(request, info);
    try {
      return acceptSocket(request, info?.remoteAddr, ctx);
    } catch (error) {
      return internalError(ctx, "/ws", error);
    }
  };
}

/** A GET of `/ws` (query aside) that asks for a WebSocket. */
function isSocketRequest(request: Request): boolean {
  if (request.method !== "GET") return false;
  const url = request.url;
  const path = url.indexOf("/", url.indexOf("://") + 3);
  if (path < 0 || !url.startsWith("/ws", path)) return false;
  const end = path + 3;
  if (end !== url.length && url[end] !== "?") return false;
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** Upgrade, then attach, turn away or refuse the socket. */
function acceptSocket(
  request: Request,
  remoteAddr: Deno.Addr | undefined,
  ctx: AppContext,
): Response {
  // Read before the upgrade, which closes the request it came with.
  const address = addressOf(remoteAddr);
  const upgraded = upgrade(request, ctx.idleTimeoutSeconds);
  if (upgraded instanceof Response) return upgraded;
  const { socket, response } = upgraded;
  if (ctx.stopping()) {
    turnAway(socket, ctx.metrics);
    return response;
  }

  const admitted = ctx.admission.admit(address);
  if (typeof admitted === "string") {
    ctx.log.debug("connection refused", { address, limit: admitted });
    refuseSocket(socket, admitted, ctx.metrics);
  } else {
    attachSocket(socket, ctx, admitted.release);
  }
  return response;
}

/** The answer to a request that failed inside the relay. */
function internalError(ctx: AppContext, path: string, error: unknown) {
  ctx.metrics.faults.get("http").value++;
  ctx.log.error("request failed", { path, error });
  return Response.json(
    { error: "internal_error", message: "Internal error" },
    { status: 500 },
  );
}

/** The client's address for per-address limits (the IP, without port). */
function addressOf(addr: Deno.Addr | undefined): string {
  if (!addr) return "unknown";
  if (addr.transport === "tcp" || addr.transport === "udp") {
    return addr.hostname;
  }
  return addr.transport;
}

/**
 * Upgrade to a WebSocket, or answer 400 when the request's WebSocket
 * headers are unusable: a client's mistake, not the relay's.
 */
function upgrade(
  request: Request,
  idleTimeout: number,
): { socket: WebSocket; response: Response } | Response {
  try {
    return Deno.upgradeWebSocket(request, { idleTimeout });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return Response.json({ error: "bad_upgrade", message }, { status: 400 });
  }
}
