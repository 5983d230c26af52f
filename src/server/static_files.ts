/**
 * The files the relay serves to browsers: the widget library, its types and
 * the debug page. Each is read once, when this module loads, from beside
 * the source, so a request never touches the disk and a missing file stops
 * the relay at start rather than failing a page later.
 *
 * @module
 */

/** A file served as is. */
export interface StaticFile {
  /** The route, for example `/widget.js`. */
  path: string;
  contentType: string;
  body: string;
  /** Whether pages of any origin may load it (the widget library). */
  shared: boolean;
  /** A validator of `body`, so revalidations cost a 304, not the file. */
  etag: string;
}

const HTML = "text/html; charset=utf-8";
const SCRIPT = "text/javascript; charset=utf-8";
const TYPES = "application/typescript; charset=utf-8";

function load(
  path: string,
  file: string,
  contentType: string,
  shared = false,
): StaticFile {
  const body = Deno.readTextFileSync(new URL(file, import.meta.url));
  return { path, contentType, body, shared, etag: etagOf(body) };
}

/**
 * A strong validator from a 32-bit FNV-1a hash and the length. Computed
 * synchronously at load (Web Crypto digests are async); a collision would
 * need two versions of one file of equal length and equal hash.
 */
function etagOf(body: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < body.length; i++) {
    hash = Math.imul(hash ^ body.charCodeAt(i), 0x01000193);
  }
  return `"${(hash >>> 0).toString(16)}-${body.length.toString(16)}"`;
}

/**
 * Every static route. `no-cache` lets browsers keep a copy but revalidate
 * it, so a page never runs a library older than the relay it talks to.
 */
export const STATIC_FILES: readonly StaticFile[] = [
  load("/", "../public/index.html", HTML),
  load("/debug.js", "../client/debug_page.js", SCRIPT),
  load("/widget.js", "../client/widget.js", SCRIPT, true),
  load("/widget_rules.js", "../client/widget_rules.js", SCRIPT, true),
  load("/widget.d.ts", "../client/widget.d.ts", TYPES, true),
];

/**
 * The response for one static file: 304 when the request already holds
 * this version. The library is shared with every origin: a page elsewhere
 * loads `/widget.js` as a module script, which browsers fetch with CORS.
 */
export function staticResponse(file: StaticFile, request: Request): Response {
  const headers = new Headers({
    "content-type": file.contentType,
    "cache-control": "no-cache",
    "etag": file.etag,
    "x-content-type-options": "nosniff",
  });
  if (file.shared) headers.set("access-control-allow-origin", "*");
  const held = request.headers.get("if-none-match") ?? "";
  if (held.split(",").some((tag) => tag.trim() === file.etag)) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(file.body, { headers });
}
