/**
 * Service worker: receives readings from the content scripts and delivers
 * them to the God Mode server through the outbox.
 *
 * Messages it accepts (chrome.runtime.sendMessage):
 *   { type: "reader-config" }     from a content script; returns
 *                                 { readIntervalSeconds, heartbeatSeconds }
 *   { type: "reading", reading }  from a content script
 *   { type: "reading-incomplete", platform, missing }  from a content script
 *   { type: "flush-queue" }       from the popup's retry button
 */

import {
  RETRY_ALARM,
  flushQueue,
  recordIncompleteReading,
  submitReading,
} from "./lib/outbox.js";
import { CONNECTION_KEYS, loadSettings } from "./lib/settings.js";

const PLATFORM_PATTERN = /^[a-z0-9_-]{1,32}$/;
const METRICS = ["tokens", "tips", "viewers"];

// The device key is kept in chrome.storage.local, so content scripts, which
// run inside the cam sites' pages, are denied access to that area. Chromium
// versions without access levels for the local area reject the call. Content
// scripts never read storage anyway: they get their settings by message.
Promise.resolve()
  .then(() => chrome.storage.local.setAccessLevel({ accessLevel: "TRUSTED_CONTEXTS" }))
  .catch((error) => {
    console.warn("could not restrict storage to extension pages:", error.message);
  });

const HANDLERS = {
  async "reader-config"() {
    const settings = await loadSettings();
    return {
      readIntervalSeconds: settings.readIntervalSeconds,
      heartbeatSeconds: settings.heartbeatSeconds,
    };
  },

  async reading(message, sender) {
    if (!sender.tab) {
      return { ok: false, error: "readings come from content scripts only" };
    }
    const reading = parseReading(message.reading);
    if (!reading) {
      console.warn("ignored a malformed reading:", message.reading);
      return { ok: false, error: "malformed reading" };
    }
    await submitReading(reading);
    return { ok: true };
  },

  async "reading-incomplete"(message, sender) {
    const missing = Array.isArray(message.missing)
      ? message.missing.filter((name) => METRICS.includes(name))
      : [];
    if (!sender.tab || !PLATFORM_PATTERN.test(String(message.platform))) {
      return { ok: false, error: "malformed report" };
    }
    await recordIncompleteReading(message.platform, missing);
    return { ok: true };
  },

  async "flush-queue"() {
    await flushQueue({ resetBackoff: true });
    return { ok: true };
  },
};

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  const handler = HANDLERS[message?.type];
  if (!handler) {
    return false;
  }

  // Responding late keeps the message channel, and with it the service worker,
  // alive until the reading is stored or queued.
  handler(message, sender)
    .then((answer) => sendResponse(answer ?? { ok: true }))
    .catch((error) => {
      console.error(`${message.type} failed:`, error);
      sendResponse({ ok: false, error: String(error?.message || error) });
    });
  return true;
});

chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === RETRY_ALARM) {
    flushQueue().catch((error) => console.error("queue retry failed:", error));
  }
});

// Alarms may not survive a browser restart, so a queue left from the last
// session is retried as soon as the browser starts.
chrome.runtime.onStartup.addListener(() => {
  flushQueue({ resetBackoff: true }).catch((error) =>
    console.error("queue retry at startup failed:", error),
  );
});

chrome.storage.onChanged.addListener((changes, area) => {
  if (area !== "local") {
    return;
  }
  if (CONNECTION_KEYS.some((key) => key in changes)) {
    flushQueue({ resetBackoff: true }).catch((error) =>
      console.error("queue retry after a settings change failed:", error),
    );
  }
});

chrome.runtime.onInstalled.addListener(({ reason }) => {
  if (reason === "install") {
    chrome.runtime.openOptionsPage();
  }
});

function parseReading(candidate) {
  if (!candidate || typeof candidate !== "object") {
    return null;
  }
  const reading = {
    platform: candidate.platform,
    tokens_count: candidate.tokens_count,
    tips_count: candidate.tips_count,
    viewers_count: candidate.viewers_count,
    timestamp: candidate.timestamp,
  };
  if (!PLATFORM_PATTERN.test(String(reading.platform))) {
    return null;
  }
  const numbers = [
    reading.tokens_count,
    reading.tips_count,
    reading.viewers_count,
    reading.timestamp,
  ];
  if (!numbers.every((value) => Number.isSafeInteger(value) && value >= 0)) {
    return null;
  }
  return reading;
}
