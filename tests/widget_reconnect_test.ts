/**
 * The widget library against scripted stand-in relays: give-up and
 * reconnect codes, backoff, re-subscription, keepalive, retained frames,
 * idling, token functions and a clean close.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  connect,
  type Relay,
  type RelayError,
  type StateEvent,
} from "../src/client/widget.js";
import { eventually } from "./helpers.ts";
import { closeOn, FAST, openRelay as open } from "./widget_helpers.ts";
import { welcome, withStandIn } from "./widget_stand_in.ts";

Deno.test("a do-not-reconnect close (4501) stops for good", async () => {
  await withStandIn({
    onOpen: (s) => {
      welcome(s);
      s.socket.close(4501, "uid_mismatch");
    },
  }, async (server) => {
    const { relay, events } = open(server.url);
    relay.subscribe("app", () => {});
    await eventually(() => relay.state === "stopped");
    deepStrictEqual(events.at(-1), {
      state: "stopped",
      code: 4501,
      reason: "uid_mismatch",
    });

    // Any retry would come within 100 ms (FAST); wait ten times that.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    strictEqual(server.connections, 1);
    ok(!events.some((e) => e.state === "reconnecting"));
    await eventually(() => server.open === 0);
  });
});

Deno.test("reconnect codes retry with capped jittered delays, up to maxAttempts", async () => {
  await withStandIn({
    // No welcome: the relay never accepted us, so attempts add up.
    onOpen: (s) => s.socket.close(4000, "shutting_down"),
  }, async (server) => {
    const { relay, events } = open(server.url, {
      minDelayMs: 40,
      maxDelayMs: 100,
      maxAttempts: 4,
    });
    relay.subscribe("app", () => {});
    await eventually(() => relay.state === "stopped");

    const retries = events.filter((e) => e.state === "reconnecting");
    deepStrictEqual(retries.map((e) => e.attempt), [1, 2, 3, 4]);
    const bounds = [[20, 40], [40, 80], [50, 100], [50, 100]];
    retries.forEach((event, i) => {
      const [low, high] = bounds[i];
      ok(event.delay >= low && event.delay <= high, JSON.stringify(event));
    });
    deepStrictEqual(events.at(-1), {
      state: "stopped",
      code: 4000,
      reason: "shutting_down",
    });
    strictEqual(server.connections, 5);
    await eventually(() => server.open === 0);
  });
});

Deno.test("every subscription is sent again, with its token, after a reconnect", async () => {
  await withStandIn({
    onOpen: welcome,
    onFrame: (s, frame) => {
      if (frame.type !== "subscribe") return;
      s.send({ type: "subscribed", name: frame.name });
      if (s.index === 1 && s.frames.length === 2) {
        s.socket.close(4000, "shutting_down");
      }
    },
  }, async (server) => {
    const { relay } = open(server.url);
    relay.subscribe("a", () => {});
    relay.subscribe("b", () => {}, { token: "jwt-b" });
    await eventually(() => server.sockets[1]?.frames.length === 2);

    const sent = server.sockets.map((s) => s.frames);
    deepStrictEqual(sent[0], sent[1]);
    deepStrictEqual(sent[1], [
      { type: "subscribe", name: "a" },
      { type: "subscribe", name: "b", token: "jwt-b" },
    ]);
    await closeOn(relay, () => server.open);
  });
});

Deno.test("a silent connection is declared dead and replaced", async () => {
  await withStandIn({ onOpen: welcome }, async (server) => {
    const { relay, events } = open(server.url, {
      pingIntervalMs: 50,
      pongTimeoutMs: 100,
    });
    relay.subscribe("app", () => {});
    await eventually(() => server.connections === 2);

    const pings = server.sockets[0].frames.filter((f) => f.type === "ping");
    ok(pings.length >= 1);
    ok(events.some((e) => e.state === "closed" && e.reason === "ping_timeout"));
    await closeOn(relay, () => server.open);
  });
});

Deno.test("answered pings keep the connection", async () => {
  await withStandIn({
    onOpen: welcome,
    onFrame: (s, frame) => frame.type === "ping" && s.send({ type: "pong" }),
  }, async (server) => {
    const { relay, states } = open(server.url, {
      pingIntervalMs: 30,
      pongTimeoutMs: 60,
    });
    await eventually(() => server.sockets[0]?.frames.length >= 10);
    strictEqual(server.connections, 1);
    deepStrictEqual(states(), ["connecting", "open"]);
    await closeOn(relay, () => server.open);
  });
});

Deno.test("retained values are data too, marked retained", async () => {
  await withStandIn({
    onOpen: welcome,
    onFrame: (s, frame) => {
      if (frame.type !== "subscribe") return;
      s.send({ type: "subscribed", name: frame.name });
      s.send({ type: "data", name: frame.name, data: 1, retained: true });
      s.send({ type: "data", name: frame.name, data: 2 });
    },
  }, async (server) => {
    const { relay } = open(server.url);
    const first: [unknown, boolean][] = [];
    relay.subscribe("app", (data, info) => first.push([data, info.retained]));
    await eventually(() => first.length === 2);
    deepStrictEqual(first, [[1, true], [2, false]]);

    // A second callback for the same app gets the last value at once.
    const late: [unknown, boolean][] = [];
    relay.subscribe("app", (data, info) => late.push([data, info.retained]));
    await eventually(() => late.length === 1);
    deepStrictEqual(late, [[2, true]]);
    await closeOn(relay, () => server.open);
  });
});

Deno.test("close() while retrying stops every timer and never reconnects", async () => {
  await withStandIn({
    onOpen: (s) => s.socket.close(4000, "shutting_down"),
  }, async (server) => {
    const { relay, events } = open(server.url, {
      minDelayMs: 200,
      maxDelayMs: 200,
    });
    relay.subscribe("app", () => {});
    await eventually(() => relay.state === "reconnecting");
    relay.close();
    deepStrictEqual(events.at(-1), {
      state: "stopped",
      code: 1000,
      reason: "client_closed",
    });

    await new Promise((resolve) => setTimeout(resolve, 500));
    strictEqual(server.connections, 1);
    await eventually(() => server.open === 0);
  });
});

Deno.test("with no subscription left the connection idles until the next subscribe", async () => {
  await withStandIn({
    onOpen: (s) => {
      welcome(s);
      // As the relay's handshake timeout does to a socket that never
      // subscribes.
      if (s.index === 1) s.socket.close(4001, "handshake_timeout");
    },
    onFrame: (s, frame) =>
      frame.type === "subscribe" &&
      s.send({ type: "subscribed", name: frame.name }),
  }, async (server) => {
    const { relay, states } = open(server.url);
    await eventually(() => relay.state === "idle");
    deepStrictEqual(states(), ["connecting", "open", "closed", "idle"]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    strictEqual(server.connections, 1);

    relay.subscribe("app", () => {});
    await eventually(() => server.sockets[1]?.frames.length === 1);
    deepStrictEqual(server.sockets[1].frames, [
      { type: "subscribe", name: "app" },
    ]);
    strictEqual(relay.state, "open");
    await closeOn(relay, () => server.open);
  });
});

Deno.test("close() from inside a state listener ends everything at once", async () => {
  await withStandIn({
    onOpen: (s) => s.socket.close(4000, "shutting_down"),
  }, async (server) => {
    const events: StateEvent[] = [];
    const relay: Relay = connect(server.url, {
      ...FAST,
      onState: (event) => {
        events.push(event);
        if (event.state === "closed") relay.close();
      },
    });
    relay.subscribe("app", () => {});
    await eventually(() => relay.state === "stopped");
    deepStrictEqual(events.map((e) => e.state), [
      "connecting",
      "open",
      "closed",
      "stopped",
    ]);

    await new Promise((resolve) => setTimeout(resolve, 300));
    strictEqual(server.connections, 1);
    await eventually(() => server.open === 0);
  });
});

Deno.test("a token function is asked again for every new socket", async () => {
  await withStandIn({
    onOpen: welcome,
    onFrame: (s, frame) => {
      if (frame.type !== "subscribe") return;
      s.send({ type: "subscribed", name: frame.name });
      if (s.index === 1) s.socket.close(4000, "shutting_down");
    },
  }, async (server) => {
    const { relay } = open(server.url);
    let issued = 0;
    relay.subscribe("private", () => {}, {
      token: () => Promise.resolve(`token-${++issued}`),
    });
    await eventually(() => server.sockets[1]?.frames.length === 1);

    deepStrictEqual(server.sockets.map((s) => s.frames), [
      [{ type: "subscribe", name: "private", token: "token-1" }],
      [{ type: "subscribe", name: "private", token: "token-2" }],
    ]);
    await closeOn(relay, () => server.open);
  });
});

Deno.test("a failing token function drops only its subscription", async () => {
  await withStandIn({
    onOpen: welcome,
    onFrame: (s, frame) =>
      frame.type === "subscribe" &&
      s.send({ type: "subscribed", name: frame.name }),
  }, async (server) => {
    const { relay } = open(server.url);
    const errors: RelayError[] = [];
    relay.subscribe("private", () => {}, {
      token: () => Promise.reject(new Error("session expired")),
      onError: (error) => errors.push(error),
    });
    relay.subscribe("public", () => {});
    await eventually(() => errors.length === 1);

    strictEqual(errors[0].code, "token_unavailable");
    strictEqual(errors[0].name, "private");
    ok(errors[0].message.includes("session expired"));
    await eventually(() => server.sockets[0].frames.length === 1);
    deepStrictEqual(server.sockets[0].frames, [
      { type: "subscribe", name: "public" },
    ]);
    await closeOn(relay, () => server.open);
  });
});
