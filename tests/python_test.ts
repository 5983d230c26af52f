/** A provider from another ecosystem: Python's websocket-client. */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { startRelay, TestClient } from "./helpers.ts";

const SCRIPT = new URL("./python/provider.py", import.meta.url).pathname;

/** A Python with websocket-client: Debian's first, then the one on PATH. */
async function findPython(): Promise<string | undefined> {
  for (const python of ["/usr/bin/python3", "python3"]) {
    try {
      const { success } = await new Deno.Command(python, {
        args: ["-c", "import websocket"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (success) return python;
    } catch {
      // Not installed under this name; try the next.
    }
  }
}

const python = await findPython();
if (!python) {
  // deno-lint-ignore no-console
  console.warn(
    "skipping Python provider test: python3 with websocket-client is " +
      "missing (Debian: apt-get install python3-websocket)",
  );
}

Deno.test({
  name: "a Python websocket-client provider reaches a Deno widget",
  ignore: !python,
  async fn() {
    const relay = startRelay();
    const widget = await TestClient.widget(relay.url, "python_app");

    const { code, stdout, stderr } = await new Deno.Command(python!, {
      args: [SCRIPT, relay.url, "python_app", "25"],
    }).output();
    strictEqual(code, 0, new TextDecoder().decode(stderr));
    strictEqual(new TextDecoder().decode(stdout).trim(), "sent 25");

    for (let seq = 0; seq < 25; seq++) {
      deepStrictEqual(await widget.next(), {
        type: "data",
        name: "python_app",
        data: { seq, text: "héllo", values: [1.5, null, true] },
      });
    }
    await widget.close();
    await relay.close();
  },
});
