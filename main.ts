/**
 * Entry point. Works both ways Deno starts a server:
 *
 * - `deno run main.ts` (tasks `dev`, `start`; Deno Deploy): listens itself on
 *   `PORT`;
 * - `deno serve --parallel main.ts` (task `serve`): the runtime serves the
 *   default export on every isolate, and `BroadcastChannel` joins them.
 *
 * @module
 */

import { ConfigError, loadConfig } from "./src/config.ts";
import { Logger } from "./src/observe/log.ts";
import { createRelay } from "./src/server/relay.ts";

const config = (() => {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    new Logger("error").error(error.message, { variable: error.variable });
    Deno.exit(1);
  }
})();

const log = new Logger(config.logLevel);
const relay = createRelay({ config, log });

// Under `deno serve` the runtime drains on SIGINT/SIGTERM itself: it closes
// sockets with 1001 ("going away", a reconnect code) and exits 0 once every
// isolate is done, so exiting here would cut the other isolates short.
let stop = () => relay.shutdown();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => stop());
}

export default { fetch: relay.fetch } satisfies Deno.ServeDefaultExport;

// No top-level await: `deno serve` waits for evaluation to finish.
if (import.meta.main) servedByRuntime().then((served) => served || listen());

function listen(): void {
  const server = Deno.serve({
    port: config.port,
    onListen: ({ hostname, port }) => log.info("listening", { hostname, port }),
  }, relay.fetch);
  stop = async () => {
    await relay.shutdown();
    await server.shutdown();
    Deno.exit(0);
  };
}

/**
 * Whether `deno serve` is serving the default export. Nothing in the
 * environment tells `deno run` and `deno serve` apart, but `deno serve`
 * calls `Deno.serve` as soon as the module has been evaluated, before any
 * timer fires; so watch for that call during one timer tick.
 */
function servedByRuntime(): Promise<boolean> {
  const serve = Deno.serve;
  return new Promise((resolve) => {
    const restore = (served: boolean) => {
      Deno.serve = serve;
      resolve(served);
    };
    Deno.serve = ((...args: Parameters<typeof serve>) => {
      restore(true);
      return serve(...args);
    }) as typeof serve;
    setTimeout(() => restore(false), 0);
  });
}
