// God Mode live view.
//
// The server renders every room card with its latest values; this module keeps
// them current. It reads its settings and translated labels from the JSON
// block "godmode-config", gets a short-lived JWT from the token endpoint with
// the session cookie, and opens the dashboard WebSocket with the subprotocols
// ["bearer", <token>], so the token never appears in a URL. Each (re)connect
// starts with a SNAPSHOT; TELEMETRY_UPDATE events then change single rows.
//
// Cells are found by id once and only touched when their value changes, always
// through textContent. For browser tests, <body> carries data-socket ("open"
// once a snapshot is applied), data-events (applied SNAPSHOT and
// TELEMETRY_UPDATE events), data-connections and data-token-refreshes.

const config = JSON.parse(document.getElementById("godmode-config").textContent);
const labels = config.labels;

const COUNT_FIELDS = ["tokens", "tips", "viewers"];
const FLASH_MS = 600;
const TICK_MS = 1000;
const BACKOFF_FIRST_SECONDS = 1;
const BACKOFF_MAX_SECONDS = 30;
// After this many failed attempts in a row the badge shows "offline" rather
// than "reconnecting", but the page keeps trying.
const OFFLINE_AFTER_FAILURES = 4;
// The token is renewed this share of its lifetime before it expires, at most
// a minute early, so a slow token request still finishes in time.
const RENEW_LEAD_SHARE = 0.25;
const RENEW_LEAD_MAX_SECONDS = 60;
const RENEW_RETRY_SECONDS = 5;
const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_FORBIDDEN = 4403;

const body = document.body;
const badge = document.getElementById("connection");
const connectionNotice = document.getElementById("connection-notice");
const connectionNoticeText = document.getElementById("connection-notice-text");
const retryButton = document.getElementById("retry-now");
const roomsNotice = document.getElementById("rooms-notice");
const clock = document.getElementById("clock");
const stateCounts = {
  live: document.getElementById("count-live"),
  stale: document.getElementById("count-stale"),
  empty: document.getElementById("count-empty"),
};

const clockFormat = new Intl.DateTimeFormat(config.language, { timeStyle: "medium" });
const readAtFormat = new Intl.DateTimeFormat(config.language, {
  dateStyle: "medium",
  timeStyle: "medium",
});

// Seconds to add to the browser's clock to get the server's. Each snapshot
// corrects it, so ages stay right on a computer whose clock is off.
let clockOffset = config.serverTime - Date.now() / 1000;

function serverNow() {
  return Date.now() / 1000 + clockOffset;
}

function fill(template, name, value) {
  return template.replace(`%(${name})s`, String(value));
}

function formatCount(value) {
  const digits = String(Math.trunc(Math.abs(value)));
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, config.thousandSeparator);
  return value < 0 ? `-${grouped}` : grouped;
}

// The same units and cut-offs as format_age in dashboard/page.py.
function formatAge(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  if (whole < 60) return fill(labels.age.seconds, "count", whole);
  if (whole < 3600) return fill(labels.age.minutes, "count", Math.floor(whole / 60));
  if (whole < 86400) return fill(labels.age.hours, "count", Math.floor(whole / 3600));
  return fill(labels.age.days, "count", Math.floor(whole / 86400));
}

// ---- The board: rows and rooms as rendered by the server -------------------

const rows = new Map();
const rooms = new Map();

function rowKey(roomId, platform) {
  return `${roomId}|${platform}`;
}

function readNumber(text) {
  return text === "" || text === undefined ? null : Number(text);
}

for (const card of document.querySelectorAll(".room-card")) {
  const roomId = card.dataset.room;
  rooms.set(roomId, {
    card,
    status: document.getElementById(`status-${roomId}`),
    state: card.dataset.state,
    rows: [],
  });
}

for (const element of document.querySelectorAll(".platform-row")) {
  const { room: roomId, platform } = element.dataset;
  const cells = {};
  for (const field of COUNT_FIELDS) {
    const cell = document.getElementById(`cell-${roomId}-${platform}-${field}`);
    cells[field] = { element: cell, value: readNumber(cell.dataset.value), timer: null };
  }
  const ageCell = document.getElementById(`cell-${roomId}-${platform}-age`);
  const row = {
    element,
    cells,
    ageCell,
    ageText: ageCell.textContent,
    state: element.dataset.state,
    timestamp: readNumber(element.dataset.timestamp),
  };
  rows.set(rowKey(roomId, platform), row);
  rooms.get(roomId).rows.push(row);
}

function flash(cell, className) {
  const { classList } = cell.element;
  clearTimeout(cell.timer);
  if (classList.contains("flash-up") || classList.contains("flash-down")) {
    classList.remove("flash-up", "flash-down");
    // Reading the layout restarts the CSS animation when a value changes
    // again while it still flashes.
    void cell.element.offsetWidth;
  }
  classList.add(className);
  cell.timer = setTimeout(() => classList.remove(className), FLASH_MS);
}

function setCount(cell, value) {
  if (typeof value !== "number" || value === cell.value) return;
  const previous = cell.value;
  cell.value = value;
  cell.element.dataset.value = String(value);
  cell.element.textContent = formatCount(value);
  if (previous !== null) flash(cell, value > previous ? "flash-up" : "flash-down");
}

function rowState(row, now) {
  if (row.timestamp === null) return "empty";
  return now - row.timestamp > config.staleAfterSeconds ? "stale" : "live";
}

function refreshRow(row, now) {
  const state = rowState(row, now);
  if (state !== row.state) {
    row.state = state;
    row.element.dataset.state = state;
    row.element.classList.toggle("is-stale", state === "stale");
  }
  const ageText = row.timestamp === null ? labels.age.never : formatAge(now - row.timestamp);
  if (ageText !== row.ageText) {
    row.ageText = ageText;
    row.ageCell.textContent = ageText;
  }
}

// The same rule as room_state in dashboard/page.py.
function refreshRoom(room) {
  const states = room.rows.map((row) => row.state);
  let state = "empty";
  if (states.includes("live")) state = "live";
  else if (states.includes("stale")) state = "stale";
  if (state === room.state) return;
  room.state = state;
  room.card.dataset.state = state;
  room.status.dataset.state = state;
  room.status.textContent = labels.states[state];
}

function refreshCounts() {
  const totals = { live: 0, stale: 0, empty: 0 };
  for (const room of rooms.values()) totals[room.state] += 1;
  for (const [state, element] of Object.entries(stateCounts)) {
    const text = String(totals[state]);
    if (element.textContent !== text) element.textContent = text;
  }
}

// Returns whether the reading was shown. An unknown room or platform means
// the page was rendered before it existed.
function applyReading(roomId, data) {
  const row = rows.get(rowKey(roomId, data.platform));
  if (row === undefined) {
    roomsNotice.hidden = false;
    return false;
  }
  // The server sends only the newest reading, but a snapshot and an event
  // can cross on a reconnect. An older reading never replaces a newer one.
  if (row.timestamp !== null && data.timestamp < row.timestamp) return false;

  for (const field of COUNT_FIELDS) setCount(row.cells[field], data[field]);
  if (data.timestamp !== row.timestamp) {
    row.timestamp = data.timestamp;
    row.element.dataset.timestamp = String(data.timestamp);
    row.ageCell.title = readAtFormat.format(new Date(data.timestamp * 1000));
  }
  refreshRow(row, serverNow());
  refreshRoom(rooms.get(roomId));
  return true;
}

function applySnapshot(event) {
  clockOffset = event.timestamp - Date.now() / 1000;
  const snapshotRooms = new Set(event.rooms.map((room) => room.room_id));
  const sameRooms =
    snapshotRooms.size === rooms.size && [...rooms.keys()].every((id) => snapshotRooms.has(id));
  if (!sameRooms) roomsNotice.hidden = false;
  for (const reading of event.data) applyReading(reading.room_id, reading);
  tick();
}

function countEvent(name) {
  body.dataset[name] = String(Number(body.dataset[name] || 0) + 1);
}

// ---- Notices, badge and the 1-second tick ----------------------------------

function showConnectionNotice(text, { canRetry }) {
  connectionNotice.hidden = false;
  if (connectionNoticeText.textContent !== text) connectionNoticeText.textContent = text;
  retryButton.hidden = !canRetry;
}

retryButton.addEventListener("click", () => connectNow());
document.getElementById("reload-page").addEventListener("click", () => {
  window.location.reload();
});

function setBadge(state) {
  if (badge.dataset.state === state) return;
  badge.dataset.state = state;
  badge.textContent = labels.connection[state];
  body.classList.toggle("is-offline", state === "offline");
}

function tick() {
  const now = serverNow();
  for (const row of rows.values()) refreshRow(row, now);
  for (const room of rooms.values()) refreshRoom(room);
  refreshCounts();
  clock.textContent = clockFormat.format(new Date());
  if (connection.retryAt !== null) {
    const seconds = Math.max(0, Math.ceil((connection.retryAt - Date.now()) / 1000));
    showConnectionNotice(fill(labels.retryIn, "seconds", seconds), { canRetry: true });
  }
}

// ---- Connection: token, socket, renewal and reconnects ---------------------

const connection = {
  socket: null,
  // Whether the current socket has delivered its snapshot.
  snapshotApplied: false,
  // Failed attempts since the last applied snapshot; sets the backoff delay.
  failures: 0,
  retryTimer: null,
  retryAt: null,
  renewTimer: null,
  stopped: false,
};

class SessionEnded extends Error {}

function csrfToken() {
  const cookie = document.cookie
    .split("; ")
    .find((item) => item.startsWith("csrftoken="));
  if (cookie) return decodeURIComponent(cookie.slice("csrftoken=".length));
  return document.querySelector("input[name=csrfmiddlewaretoken]")?.value || "";
}

// Returns {access, expires_at, expires_in}. A 401 or 403 means the session
// is over (logged out, expired, or the CSRF cookie is gone), so the page goes
// to the login form instead of retrying.
async function fetchToken() {
  const response = await fetch(config.tokenUrl, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
  });
  if (response.status === 401 || response.status === 403) {
    stop();
    window.location.assign(config.loginUrl);
    throw new SessionEnded();
  }
  if (!response.ok) throw new Error(`token request failed with HTTP ${response.status}`);
  return response.json();
}

async function connect() {
  clearRetry();
  if (connection.stopped) return;
  setBadge(Number(body.dataset.connections) > 0 ? "reconnecting" : "connecting");
  body.dataset.socket = "connecting";

  let token;
  try {
    token = await fetchToken();
  } catch (error) {
    if (!(error instanceof SessionEnded)) {
      console.warn("God Mode: could not get a socket token", error);
      scheduleReconnect();
    }
    return;
  }
  if (connection.stopped) return;

  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${window.location.host}${config.socketPath}`;
  const socket = new WebSocket(url, ["bearer", token.access]);
  connection.socket = socket;
  connection.snapshotApplied = false;
  socket.addEventListener("message", (event) => onMessage(socket, event));
  socket.addEventListener("close", (event) => onClose(socket, event));
  scheduleRenewal(socket, token);
}

function connectNow() {
  connection.failures = 0;
  connect();
}

function onMessage(socket, event) {
  if (socket !== connection.socket) return;
  let message;
  try {
    message = JSON.parse(event.data);
  } catch {
    console.warn("God Mode: ignored a socket message that is not JSON");
    return;
  }

  switch (message.event_type) {
    case "SNAPSHOT":
      applySnapshot(message);
      connection.snapshotApplied = true;
      connection.failures = 0;
      connectionNotice.hidden = true;
      setBadge("connected");
      countEvent("connections");
      countEvent("events");
      body.dataset.socket = "open";
      break;
    case "TELEMETRY_UPDATE":
      if (applyReading(message.room_id, message.data)) countEvent("events");
      break;
    case "TOKEN_REFRESHED":
      countEvent("tokenRefreshes");
      break;
    case "ERROR":
      console.warn("God Mode: the server rejected a socket message", message.code);
      break;
    default:
      break;
  }
}

function onClose(socket, event) {
  if (socket !== connection.socket) return;
  connection.socket = null;
  clearTimeout(connection.renewTimer);
  body.dataset.socket = "closed";
  if (connection.stopped) return;

  if (event.code === CLOSE_FORBIDDEN) {
    stop();
    setBadge("offline");
    showConnectionNotice(labels.forbidden, { canRetry: false });
    return;
  }
  // An expired token on a socket that worked only needs a new token. The
  // same code before any snapshot backs off like any other failure, so a
  // server that keeps rejecting tokens is not hammered.
  if (event.code === CLOSE_UNAUTHENTICATED && connection.snapshotApplied) {
    connect();
    return;
  }
  scheduleReconnect();
}

// Waits about 1 s, 2 s, 4 s ... up to 30 s between attempts. The random half
// of each delay keeps many pages from reconnecting at the same moment after a
// server restart.
function scheduleReconnect() {
  const base = Math.min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** connection.failures);
  const delay = base / 2 + (Math.random() * base) / 2;
  connection.failures += 1;
  body.dataset.socket = "waiting";
  connection.retryAt = Date.now() + delay * 1000;
  connection.retryTimer = setTimeout(connect, delay * 1000);
  const offline = connection.failures >= OFFLINE_AFTER_FAILURES || !navigator.onLine;
  setBadge(offline ? "offline" : "reconnecting");
  tick();
}

function clearRetry() {
  clearTimeout(connection.retryTimer);
  connection.retryTimer = null;
  connection.retryAt = null;
}

// Sends a new token over the open socket before the current one expires, so
// the server keeps the socket open without a reconnect. A JWT's expiry is in
// whole seconds, so up to a second of expires_in may be gone on arrival.
function scheduleRenewal(socket, token) {
  const remaining = Math.min(token.expires_in, token.expires_at - serverNow());
  const lead = Math.min(RENEW_LEAD_MAX_SECONDS, remaining * RENEW_LEAD_SHARE);
  const delay = Math.max(1, remaining - lead);
  clearTimeout(connection.renewTimer);
  connection.renewTimer = setTimeout(() => renewToken(socket), delay * 1000);
}

async function renewToken(socket) {
  if (socket !== connection.socket) return;
  let token;
  try {
    token = await fetchToken();
  } catch (error) {
    if (error instanceof SessionEnded) return;
    // If every retry fails the server closes the socket with 4401 when the
    // token expires, and the page reconnects with backoff from there.
    console.warn("God Mode: could not renew the socket token", error);
    connection.renewTimer = setTimeout(() => renewToken(socket), RENEW_RETRY_SECONDS * 1000);
    return;
  }
  if (socket !== connection.socket || socket.readyState !== WebSocket.OPEN) return;
  socket.send(JSON.stringify({ action: "refresh_token", token: token.access }));
  scheduleRenewal(socket, token);
}

function stop() {
  connection.stopped = true;
  clearRetry();
  clearTimeout(connection.renewTimer);
  body.dataset.socket = "stopped";
}

window.addEventListener("online", () => {
  if (connection.retryTimer !== null) connectNow();
});
window.addEventListener("offline", () => {
  if (connection.socket === null) setBadge("offline");
});
window.addEventListener("pagehide", () => {
  const { socket } = connection;
  stop();
  if (socket !== null) socket.close(1000);
});
// A page restored from the back-forward cache had its socket closed on the way
// out, so it connects again.
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  connection.stopped = false;
  connectNow();
});

tick();
setInterval(tick, TICK_MS);
connect();
