/**
 * Calls to the God Mode server with the device key.
 *
 * Every call returns an outcome object instead of throwing, so the caller can
 * decide between storing, retrying and reporting:
 *   { kind, status, message, errors, body }
 * where kind is one of
 *   "ok"           2xx: the server stored the reading (201) or had it (200);
 *   "retry"        no response, a timeout, 408, 429 or 5xx: try again later;
 *   "invalid"      400: the body names each invalid field in `errors`;
 *   "unauthorized" 401: unknown or revoked device key;
 *   "forbidden"    403: the device may not use that room;
 *   "rejected"     any other status, such as 404 for a wrong server URL.
 *
 * Every request sends Accept-Language with the language of the extension's
 * texts, so the server's field errors read in the same language.
 */

import { uiLanguage } from "./i18n.js";

// A studio network that hangs a request must not hold the queue forever.
export const REQUEST_TIMEOUT_MS = 15000;

export const TELEMETRY_PATH = "/api/tracking/telemetry";
export const ROOMS_PATH = "/api/tracking/rooms/";

export function postTelemetry(settings, body) {
  return request(settings, TELEMETRY_PATH, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

export function fetchRooms(settings) {
  return request(settings, ROOMS_PATH, { method: "GET" });
}

async function request(settings, path, init) {
  let response;
  try {
    response = await fetch(`${settings.serverUrl}${path}`, {
      ...init,
      headers: {
        ...init.headers,
        Accept: "application/json",
        "Accept-Language": uiLanguage(),
        Authorization: `Device ${settings.deviceKey}`,
      },
      cache: "no-store",
      credentials: "omit",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    const timedOut = error?.name === "TimeoutError";
    return {
      kind: "retry",
      status: 0,
      message: timedOut ? "timeout" : String(error?.message || error),
      errors: null,
      body: null,
    };
  }

  const body = await readJson(response);
  return {
    kind: classify(response.status),
    status: response.status,
    message: describe(body, response),
    errors: body && typeof body === "object" ? (body.errors ?? null) : null,
    body,
  };
}

function classify(status) {
  if (status >= 200 && status < 300) {
    return "ok";
  }
  if (status === 408 || status === 429 || status >= 500) {
    return "retry";
  }
  if (status === 400) {
    return "invalid";
  }
  if (status === 401) {
    return "unauthorized";
  }
  if (status === 403) {
    return "forbidden";
  }
  return "rejected";
}

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

// The ingest API puts its text in "message"; DRF's other views use "detail".
function describe(body, response) {
  if (body && typeof body === "object" && !Array.isArray(body)) {
    if (typeof body.message === "string") {
      return body.message;
    }
    if (typeof body.detail === "string") {
      return body.detail;
    }
  }
  return `HTTP ${response.status} ${response.statusText}`.trim();
}
