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
// isolate is done, so exiting here would cut the other isolates short. Its
// signal does not always reach this listener in every isolate of
// `--parallel`, so the end of the runtime's server shuts the relay down too.
let stop = () => relay.shutdown();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => stop());
}

export default { fetch: relay.fetch } satisfies Deno.ServeDefaultExport;

// No top-level await: `deno serve` waits for evaluation to finish.
if (import.meta.main) {
  servedByRuntime().then((server) => {
    if (server) server.finished.then(() => relay.shutdown());
    else listen();
  });
}

function listen(): void {
  const server = Deno.serve({
    port: config.port,
    onListen: ({ hostname, port }) => log.info("listening", { hostname, port }),
  }, relay.fetch);
  stop = async () => {
    // A second signal means "now": stop waiting for the drain.
    stop = () => Deno.exit(1);
    await relay.shutdown();
    await server.shutdown();
    Deno.exit(0);
  };
}

/**
 * The server `deno serve` runs for the default export, or `undefined` under
 * `deno run`. Nothing in the environment tells the two apart, but
 * `deno serve` calls `Deno.serve` as soon as the module has been evaluated,
 * before any timer fires; so watch for that call during one timer tick.
 */
function servedByRuntime(): Promise<Deno.HttpServer | undefined> {
  const serve = Deno.serve;
  return new Promise((resolve) => {
    const restore = (server?: Deno.HttpServer) => {
      Deno.serve = serve;
      resolve(server);
    };
    Deno.serve = ((...args: Parameters<typeof serve>) => {
      const server = serve(...args);
      restore(server);
      return server;
    }) as typeof serve;
    setTimeout(() => restore(), 0);
  });
}
