/**
 * `POST /apps/:name/data`: publish one payload over HTTP, for senders that
 * do not hold a socket open (cron jobs, webhooks, shell scripts).
 *
 * The JSON body is the payload. It goes through `hub.publish` exactly like
 * a provider's `data` frame: same size limit, same fan-out. Errors carry the
 * codes of the WebSocket side in `{"error": code, "message": text}`.
 *
 * @module
 */

import type { AuthPolicy } from "../auth/policy.ts";
import { ErrorCode } from "../protocol/codes.ts";
import { APP_NAME, type FrameError } from "../protocol/messages.ts";
import type { Hub } from "../relay/hub.ts";
import type { Logger } from "../observe/log.ts";
import type { RelayMetrics } from "../observe/relay_metrics.ts";
import type { AppRates } from "./rate_limit.ts";

/** What the route needs from the relay. */
export interface PublishContext {
  hub: Hub;
  auth: AuthPolicy;
  log: Logger;
  limits: { maxFrameBytes: number };
  /** The per-app rate limits, shared with provider sockets. */
  appRates: AppRates;
  metrics: RelayMetrics;
}

/**
 * Answer one publish request: 202 once the payload is handed to the hub,
 * 400 for a bad name or body, 401 for a missing or unusable token, 403 for
 * a genuine token that does not grant this, 404 for an unregistered app in
 * strict mode, 413 for a body over the frame size limit, 429 (with
 * `Retry-After`) when the app is over its rate (`CUPD_APP_RATE`,
 * `CUPD_APP_BYTE_RATE`), the same budget its provider sockets draw from.
 */
export async function handlePublish(
  request: Request,
  name: string,
  ctx: PublishContext,
): Promise<Response> {
  if (!APP_NAME.test(name)) {
    return refuse(400, {
      code: ErrorCode.invalidName,
      message: `App name must match ${APP_NAME.source}`,
    });
  }

  // Authorize before reading the body: strangers cost no upload.
  const header = request.headers.get("authorization") ?? undefined;
  const verdict = await ctx.auth.authorizePublish(name, header);
  if (!verdict.ok) {
    ctx.log.debug("http publish refused", { app: name, why: verdict.error });
    ctx.metrics.authFailures.get("http").value++;
    return refuse(statusOf(verdict.error.code), verdict.error);
  }

  const body = await readBody(request, ctx.limits.maxFrameBytes);
  if (body === undefined) {
    return refuse(413, {
      code: ErrorCode.payloadTooLarge,
      message: `Body exceeds ${ctx.limits.maxFrameBytes} bytes`,
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    return refuse(400, {
      code: ErrorCode.invalidJson,
      message: "Body must be one JSON value, UTF-8 encoded",
    });
  }

  if (!ctx.appRates.admit(name, body.length)) {
    ctx.metrics.drops.get("rate_limited").value++;
    return refuse(429, {
      code: ErrorCode.rateLimited,
      message: `App "${name}" is over its rate limit; retry later`,
    });
  }

  ctx.metrics.httpPublished.value++;
  ctx.hub.publish(name, data);
  return Response.json({ status: "accepted" }, { status: 202 });
}

function statusOf(code: ErrorCode): number {
  if (code === ErrorCode.forbidden || code === ErrorCode.tokenScope) {
    return 403;
  }
  if (code === ErrorCode.unknownApp) return 404;
  return 401; // every other refusal is about the token itself
}

function refuse(status: number, error: FrameError): Response {
  const headers = new Headers();
  if (status === 401) headers.set("www-authenticate", 'Bearer realm="cupd"');
  if (status === 429) headers.set("retry-after", "1");
  return Response.json(
    { error: error.code, message: error.message },
    { status, headers },
  );
}

/**
 * The body's bytes, or `undefined` past `max` bytes. Stops reading at the
 * limit, whether or not a Content-Length was sent.
 */
async function readBody(
  request: Request,
  max: number,
): Promise<Uint8Array | undefined> {
  const declared = Number(request.headers.get("content-length"));
  if (declared > max) return undefined;
  if (!request.body) return new Uint8Array();

  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.length;
    if (size > max) return undefined;
    chunks.push(chunk);
  }

  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
