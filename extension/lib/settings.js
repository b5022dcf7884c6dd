/**
 * Settings of the extension, kept in chrome.storage.local under these keys.
 *
 * The options page writes serverUrl, deviceKey, roomId and roomName. The two
 * intervals have no field on the options page: they exist so tests can read
 * faster than a real shift needs.
 */

export const SETTINGS_DEFAULTS = Object.freeze({
  serverUrl: "",
  deviceKey: "",
  roomId: "",
  roomName: "",
  readIntervalSeconds: 5,
  heartbeatSeconds: 15,
});

// A change to any of these makes the service worker retry its queue at once,
// because the reason for the last failure may be gone.
export const CONNECTION_KEYS = Object.freeze(["serverUrl", "deviceKey", "roomId"]);

const MIN_READ_INTERVAL_SECONDS = 1;
const MIN_HEARTBEAT_SECONDS = 1;

export async function loadSettings() {
  const stored = await chrome.storage.local.get(Object.keys(SETTINGS_DEFAULTS));
  const settings = { ...SETTINGS_DEFAULTS, ...stored };
  settings.readIntervalSeconds = atLeast(
    settings.readIntervalSeconds,
    MIN_READ_INTERVAL_SECONDS,
    SETTINGS_DEFAULTS.readIntervalSeconds,
  );
  settings.heartbeatSeconds = atLeast(
    settings.heartbeatSeconds,
    MIN_HEARTBEAT_SECONDS,
    SETTINGS_DEFAULTS.heartbeatSeconds,
  );
  return settings;
}

export function isConfigured(settings) {
  return Boolean(settings.serverUrl && settings.deviceKey && settings.roomId);
}

/**
 * Parses what the user typed as the server URL.
 *
 * Returns `{ url }` with no trailing slash, query or fragment, or `{ error }`
 * with the message name that explains the problem. A path is kept, so a
 * server published under a prefix (https://studio.example/godmode) works.
 */
export function normalizeServerUrl(text) {
  const trimmed = (text || "").trim();
  if (!trimmed) {
    return { error: "errorServerUrlMissing" };
  }

  let parsed;
  try {
    parsed = new URL(trimmed);
  } catch {
    return { error: "errorServerUrlInvalid" };
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return { error: "errorServerUrlScheme" };
  }
  if (parsed.username || parsed.password) {
    return { error: "errorServerUrlCredentials" };
  }

  const path = parsed.pathname.replace(/\/+$/, "");
  return { url: `${parsed.origin}${path}` };
}

/** Match pattern for chrome.permissions: ports are not part of a pattern. */
export function originPattern(serverUrl) {
  const parsed = new URL(serverUrl);
  return `${parsed.protocol}//${parsed.hostname}/*`;
}

function atLeast(value, minimum, fallback) {
  const number = Number(value);
  if (!Number.isFinite(number)) {
    return fallback;
  }
  return Math.max(minimum, number);
}
