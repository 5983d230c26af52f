/**
 * Script of the live debug page (`/`, served as `/debug.js`): watch one or more apps through the
 * widget library and show every frame as it arrives. `/?app=<name>` (the
 * parameter may repeat) opens with those apps watched.
 *
 * @module
 */

import { connect } from "./widget.js";

/** Frames kept on the page; older ones are dropped so it stays fast. */
const MAX_FRAMES = 200;

const $ = (id) => document.getElementById(id);
const stateView = $("state");
const framesView = $("frames");
const appsView = $("apps");
const summary = $("summary");
const empty = $("empty");
const bar = $("bar");

/** name → { stop, count, chip } */
const watched = new Map();
let total = 0;

/** Whether the connection was lost since it last opened. */
let lost = false;

const relay = connect(undefined, { onState: showState });
$("url").textContent = relay.url;

function showState(event) {
  stateView.dataset.state = event.state;
  stateView.textContent = describeState(event);
  // Mark gaps in the feed: values published meanwhile were not seen.
  if (event.state === "closed" && watched.size === 0) return;
  if (event.state === "closed" && event.code !== 1000 && !lost) {
    lost = true;
    notice(`Connection lost (${event.code}${reasonOf(event)})`, true);
  } else if (event.state === "open" && lost) {
    lost = false;
    notice("Connected again; watched apps subscribed again");
  } else if (event.state === "stopped" && event.code !== 1000) {
    notice(`Stopped for good (${event.code}${reasonOf(event)})`, true);
  }
}

function reasonOf(event) {
  return event.reason ? ` ${event.reason}` : "";
}

function describeState(event) {
  switch (event.state) {
    case "connecting":
      return event.attempt === 0 ? "Connecting…" : "Reconnecting…";
    case "open":
      return "Connected";
    case "idle":
      return "Idle: watch an app to connect";
    case "closed":
      return `Disconnected (${event.code})`;
    case "reconnecting":
      return `Retrying in ${seconds(event.delay)} (attempt ${event.attempt})`;
    case "stopped":
      return `Stopped (${event.code}${reasonOf(event)})`;
  }
}

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

function watch(name, token) {
  if (watched.has(name)) return;
  if (relay.state === "stopped") {
    notice("The connection has stopped for good: reload the page", true);
    return;
  }

  const chip = appChip(name);
  const entry = { count: 0, chip, stop: () => {} };
  watched.set(name, entry);
  syncLocation();
  entry.stop = relay.subscribe(
    name,
    (data, info) => showFrame(name, entry, data, info),
    {
      token: token || undefined,
      onError: (error) => {
        chip.classList.add("failed");
        chip.title = error.message;
        notice(`${name}: ${error.code}: ${error.message}`, true);
      },
    },
  );
}

function unwatch(name) {
  const entry = watched.get(name);
  if (!entry) return;
  entry.stop();
  entry.chip.remove();
  watched.delete(name);
  syncLocation();
}

function appChip(name) {
  const chip = element("li", "", "");
  chip.dataset.app = name;
  chip.append(element("span", "app-name", name));
  chip.append(element("span", "count", "0 frames"));
  const remove = element("button", "quiet", "×");
  remove.type = "button";
  remove.title = `Stop watching ${name}`;
  remove.addEventListener("click", () => unwatch(name));
  chip.append(remove);
  appsView.append(chip);
  return chip;
}

function showFrame(name, entry, data, info) {
  entry.count++;
  total++;
  const count = entry.chip.querySelector(".count");
  count.textContent = `${entry.count} frame${entry.count === 1 ? "" : "s"}`;

  const item = element("li", "frame", "");
  item.dataset.app = name;
  item.dataset.retained = String(info.retained);
  const meta = element("div", "meta", "");
  meta.append(element("span", "app-name", name));
  meta.append(element("span", "seq", `#${entry.count}`));
  if (info.retained) meta.append(element("span", "retained", "retained"));
  const time = element("time", "", clock(new Date()));
  time.dateTime = new Date().toISOString();
  meta.append(time);
  item.append(meta, element("pre", "data", JSON.stringify(data, null, 2)));
  prepend(item);
  summary.textContent = `${total} frame${total === 1 ? "" : "s"} received`;
}

function notice(text, isError = false) {
  const item = element("li", isError ? "notice error" : "notice", text);
  prepend(item);
}

function prepend(item) {
  empty.hidden = true;
  bar.hidden = false;
  framesView.prepend(item);
  while (framesView.children.length > MAX_FRAMES) {
    framesView.lastElementChild.remove();
  }
}

function clock(date) {
  const pad = (n, width = 2) => String(n).padStart(width, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:` +
    `${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

/** Keep the address shareable: it names the apps being watched. */
function syncLocation() {
  const params = new URLSearchParams();
  for (const name of watched.keys()) params.append("app", name);
  const query = params.toString();
  history.replaceState(null, "", query ? `/?${query}` : "/");
}

$("watch").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("app").value.trim();
  if (!name) return;
  watch(name, $("token").value.trim());
  $("app").value = "";
});

$("clear").addEventListener("click", () => {
  framesView.replaceChildren();
  total = 0;
  summary.textContent = "No frames yet";
  empty.hidden = false;
  bar.hidden = true;
});

for (const name of new URLSearchParams(location.search).getAll("app")) {
  if (name) watch(name, "");
}
