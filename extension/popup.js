/**
 * Popup: what this room computer is sending and whether it is getting through.
 *
 * It only reads chrome.storage.local, which the service worker keeps up to
 * date, and redraws when that storage changes and once a second for the
 * "seconds ago" texts.
 */

import { describeError } from "./lib/errors.js";
import { formatAgo, formatNumber, formatTime, localizePage, t } from "./lib/i18n.js";
import { emptyStatus } from "./lib/outbox.js";
import { loadSettings } from "./lib/settings.js";

const PLATFORM_NAMES = Object.freeze({
  chaturbate: "Chaturbate",
  stripchat: "Stripchat",
  camsoda: "CamSoda",
});

// The health badge turns from "sending" to "idle" when the server accepted
// no reading for this long, which is four default 15 s heartbeats.
const RECENT_SEND_MS = 60 * 1000;

const HEALTH_LABELS = Object.freeze({
  sending: "healthSending",
  retrying: "healthRetrying",
  error: "healthError",
  idle: "healthIdle",
});

let settings = null;
let status = emptyStatus();

localizePage();
document.getElementById("open-options").addEventListener("click", () => {
  chrome.runtime.openOptionsPage();
});
document.getElementById("retry-now").addEventListener("click", retryNow);
chrome.storage.onChanged.addListener((changes, area) => {
  if (area === "local") {
    refresh();
  }
});
setInterval(render, 1000);
refresh();

async function refresh() {
  const stored = await chrome.storage.local.get("status");
  settings = await loadSettings();
  status = { ...emptyStatus(), ...stored.status };
  render();
  document.body.dataset.ready = "true";
}

function render() {
  if (!settings) {
    return;
  }
  renderHealth();
  renderConnection();
  renderQueue();
  renderError();
  renderReadings();
}

/** Shows in one word whether this computer is getting readings through. */
function renderHealth() {
  const state = healthState();
  const badge = document.getElementById("health");
  if (badge.dataset.state !== state || !badge.textContent) {
    badge.dataset.state = state;
    badge.textContent = t(HEALTH_LABELS[state]);
  }
}

function healthState() {
  if (status.queueLength > 0) {
    return "retrying";
  }
  if (status.lastError) {
    return "error";
  }
  if (status.lastSentAt && Date.now() - status.lastSentAt < RECENT_SEND_MS) {
    return "sending";
  }
  return "idle";
}

function renderConnection() {
  const room = document.getElementById("room");
  if (settings.roomId) {
    room.textContent = settings.roomName
      ? `${settings.roomName} (${settings.roomId})`
      : settings.roomId;
  } else {
    room.textContent = t("notConfigured");
  }
  document.getElementById("server").textContent = settings.serverUrl || "—";

  const lastSent = document.getElementById("last-sent");
  if (status.lastSentAt) {
    lastSent.textContent = formatAgo(status.lastSentAt);
    lastSent.title = formatTime(status.lastSentAt);
  } else {
    lastSent.textContent = t("never");
    lastSent.removeAttribute("title");
  }
}

function renderQueue() {
  document.getElementById("queue-length").textContent = String(status.queueLength);
  const retryAt = document.getElementById("retry-at");
  retryAt.textContent =
    status.queueLength > 0 && status.nextRetryAt
      ? t("nextRetry", [formatTime(status.nextRetryAt)])
      : "";
  document.getElementById("retry-now").disabled = status.queueLength === 0;

  const lostCount = status.droppedCount + status.rejectedCount;
  const lost = document.getElementById("lost");
  lost.hidden = lostCount === 0;
  document.getElementById("lost-label").hidden = lostCount === 0;
  lost.textContent = t("lostValue", [
    formatNumber(status.droppedCount),
    formatNumber(status.rejectedCount),
  ]);
}

function renderError() {
  const summary = document.getElementById("last-error-summary");
  const details = document.getElementById("last-error-details");
  const container = document.getElementById("last-error");
  if (!status.lastError) {
    summary.textContent = t("noError");
    details.replaceChildren();
    container.dataset.state = "ok";
    return;
  }

  const description = describeError(status.lastError);
  summary.textContent = `${description.summary} (${formatTime(status.lastError.at)})`;
  details.replaceChildren(
    ...description.details.map((line) => {
      const item = document.createElement("li");
      item.textContent = line;
      return item;
    }),
  );
  container.dataset.state = "error";
}

function renderReadings() {
  const entries = Object.entries(status.platforms || {});
  document.getElementById("no-readings").hidden = entries.length > 0;

  const rows = entries.map(([platform, reading]) => {
    const row = document.createElement("tr");
    row.dataset.platform = platform;
    const cells = [PLATFORM_NAMES[platform] || platform];
    if (reading.missing?.length) {
      const names = reading.missing.map((metric) => t(`${metric}Column`)).join(", ");
      cells.push(t("selectorsMissing", [names]));
    } else {
      cells.push(
        formatNumber(reading.tokens_count),
        formatNumber(reading.tips_count),
        formatNumber(reading.viewers_count),
      );
    }
    cells.push(reading.readAt ? formatAgo(reading.readAt) : "—");

    for (const text of cells) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    if (reading.missing?.length) {
      row.children[1].colSpan = 3;
      row.classList.add("incomplete");
    }
    return row;
  });
  document.querySelector("#readings tbody").replaceChildren(...rows);
}

async function retryNow() {
  const button = document.getElementById("retry-now");
  button.disabled = true;
  try {
    await chrome.runtime.sendMessage({ type: "flush-queue" });
  } finally {
    await refresh();
  }
}
