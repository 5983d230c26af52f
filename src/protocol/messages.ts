/**
 * Client frames, their zod schemas, and the server frames the relay sends.
 *
 * Parsing happens once, at the boundary: a text frame becomes either a typed
 * {@linkcode ClientFrame} or a {@linkcode FrameError} with the code the
 * client will see. Nothing here throws.
 *
 * @module
 */

import { z } from "zod";
import { ErrorCode } from "./codes.ts";

/** App names: what providers publish under and widgets subscribe to. */
export const APP_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

const uid = z.string().max(64);

const auth = z.object({
  type: z.literal("auth"),
  uid,
  name: z.string(),
  /** Proof of key ownership; checked by the auth policy, not here. */
  signature: z.string().optional(),
});

const data = z.object({
  type: z.literal("data"),
  uid: uid.optional(),
  data: z.unknown(),
});

const subscribe = z.object({
  type: z.literal("subscribe"),
  uid: uid.optional(),
  name: z.string(),
  /** JWT for a private app; checked by the auth policy, not here. */
  token: z.string().optional(),
});

const unsubscribe = z.object({
  type: z.literal("unsubscribe"),
  uid: uid.optional(),
  name: z.string(),
});

const ping = z.object({ type: z.literal("ping") });

const schemas = { auth, data, subscribe, unsubscribe, ping } as const;

/** Types of frame a client may send. */
export type ClientFrameType = keyof typeof schemas;

/** Every client frame type, in the order the README lists them. */
export const CLIENT_FRAME_TYPES = Object.keys(schemas) as ClientFrameType[];

/** A validated frame from a client. Unknown fields are dropped. */
export type ClientFrame =
  | z.infer<typeof auth>
  | z.infer<typeof data>
  | z.infer<typeof subscribe>
  | z.infer<typeof unsubscribe>
  | z.infer<typeof ping>;

/** Why a frame could not become a {@linkcode ClientFrame}. */
export interface FrameError {
  code: ErrorCode;
  message: string;
}

/** Result of {@linkcode parseClientFrame}. */
export type ParseResult =
  | { ok: true; frame: ClientFrame }
  | { ok: false; error: FrameError };

/** Frames the relay sends. */
export type ServerFrame =
  | { type: "welcome"; uid: string; isolate: string }
  | { type: "authenticated"; name: string }
  | { type: "subscribed"; name: string }
  | { type: "unsubscribed"; name: string }
  | { type: "pong" }
  | { type: "audience"; widgets: number }
  | { type: "error"; code: ErrorCode; message: string };

/**
 * Parse one text frame. `data` payloads are taken as they are: zod does not
 * walk into them, so a large payload costs one `JSON.parse` and no more.
 */
export function parseClientFrame(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail(ErrorCode.invalidJson, "Cannot parse frame: not valid JSON");
  }

  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(ErrorCode.invalidMessage, "Frame must be a JSON object");
  }

  const type = (value as { type?: unknown }).type;
  if (typeof type !== "string") {
    return fail(ErrorCode.invalidMessage, 'Frame must have a string "type"');
  }
  if (!Object.hasOwn(schemas, type)) {
    return fail(ErrorCode.unknownType, `Unknown frame type "${clip(type)}"`);
  }

  const result = schemas[type as ClientFrameType].safeParse(value);
  if (!result.success) {
    return fail(ErrorCode.invalidMessage, describe(type, result.error));
  }
  if (result.data.type === "data" && !Object.hasOwn(value, "data")) {
    return fail(ErrorCode.invalidMessage, 'Frame "data" must have "data"');
  }
  return { ok: true, frame: result.data };
}

/** Serialize a server frame. */
export function encode(frame: ServerFrame): string {
  return JSON.stringify(frame);
}

/**
 * Serialize the frame widgets receive for one payload. Done once per payload:
 * the same string goes to every widget on every isolate.
 */
export function encodeData(name: string, data: unknown): string {
  return `{"type":"data","name":${JSON.stringify(name)},"data":${
    JSON.stringify(data)
  }}`;
}

function fail(code: ErrorCode, message: string): ParseResult {
  return { ok: false, error: { code, message } };
}

function describe(type: string, error: z.ZodError): string {
  const issue = error.issues[0];
  const field = issue.path.join(".") || "frame";
  return `Invalid "${type}" frame: field "${field}" ${issue.message}`;
}

function clip(text: string): string {
  return text.length > 32 ? `${text.slice(0, 32)}…` : text;
}
