/**
 * A levelled, structured logger: one JSON object per line.
 *
 * Modules receive a {@linkcode Logger} rather than calling `console`, so
 * tests can capture or silence it and fields (connection id, role, app) are
 * attached once with {@linkcode Logger.child}. Nothing is serialized for a
 * level that is off; callers on hot paths check {@linkcode Logger.enabled}
 * before building fields.
 *
 * @module
 */

/** Log levels, most verbose first. */
export const LEVELS = [
  "trace",
  "debug",
  "info",
  "warn",
  "error",
  "silent",
] as const;

/** One of {@linkcode LEVELS}. */
export type Level = typeof LEVELS[number];

/** Extra fields of a log line. */
export type Fields = Record<string, unknown>;

/** Where finished lines go. Defaults to stderr for warn/error. */
export type Writer = (line: string, level: Level) => void;

/** A structured logger bound to a set of fields. */
export class Logger {
  readonly #threshold: number;
  readonly #fields: Fields;
  readonly #write: Writer;

  constructor(level: Level, write: Writer = writeConsole, fields: Fields = {}) {
    this.#threshold = LEVELS.indexOf(level);
    this.#write = write;
    this.#fields = fields;
  }

  /** A logger that adds `fields` to every line. */
  child(fields: Fields): Logger {
    const level = LEVELS[this.#threshold];
    return new Logger(level, this.#write, { ...this.#fields, ...fields });
  }

  /** Whether lines of `level` are written. */
  enabled(level: Level): boolean {
    return LEVELS.indexOf(level) >= this.#threshold && level !== "silent";
  }

  trace(msg: string, fields?: Fields): void {
    this.#log("trace", msg, fields);
  }

  debug(msg: string, fields?: Fields): void {
    this.#log("debug", msg, fields);
  }

  info(msg: string, fields?: Fields): void {
    this.#log("info", msg, fields);
  }

  warn(msg: string, fields?: Fields): void {
    this.#log("warn", msg, fields);
  }

  error(msg: string, fields?: Fields): void {
    this.#log("error", msg, fields);
  }

  #log(level: Level, msg: string, fields?: Fields): void {
    if (!this.enabled(level)) return;
    const line = {
      time: new Date().toISOString(),
      level,
      msg,
      ...this.#fields,
      ...fields,
    };
    this.#write(JSON.stringify(line, replaceErrors), level);
  }
}

/** A logger that writes nothing. */
export const silent: Logger = new Logger("silent");

function writeConsole(line: string, level: Level): void {
  // deno-lint-ignore no-console
  if (level === "warn" || level === "error") console.error(line);
  // deno-lint-ignore no-console
  else console.log(line);
}

/** Errors have no enumerable fields; log their name, message and stack. */
function replaceErrors(_key: string, value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  return { name: value.name, message: value.message, stack: value.stack };
}
