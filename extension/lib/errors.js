/**
 * Errors the popup and the options page show, built from server responses.
 *
 * A recorded error is `{ code, status, message, errors, at }`: `code` picks
 * the translated summary, `message` is the server's own text (already in the
 * browser's language) and `errors` maps each invalid field to its messages.
 */

import { t } from "./i18n.js";

const SUMMARIES = Object.freeze({
  notConfigured: "errorNotConfigured",
  unreachable: "errorUnreachable",
  serverError: "errorServerStatus",
  invalid: "errorInvalid",
  unauthorized: "errorUnauthorized",
  forbidden: "errorForbidden",
  rejected: "errorRejected",
  permissionDenied: "errorPermissionDenied",
});

const CODES_BY_KIND = Object.freeze({
  invalid: "invalid",
  unauthorized: "unauthorized",
  forbidden: "forbidden",
  rejected: "rejected",
});

export function errorFromOutcome(outcome) {
  let code = CODES_BY_KIND[outcome.kind] || "rejected";
  if (outcome.kind === "retry") {
    code = outcome.status === 0 ? "unreachable" : "serverError";
  }
  return {
    code,
    status: outcome.status,
    message: outcome.message,
    errors: outcome.errors,
    at: Date.now(),
  };
}

/** Returns `{ summary, details }`: one translated line and the server's lines. */
export function describeError(error) {
  const name = SUMMARIES[error.code] || "errorRejected";
  const summary = t(name, [String(error.status ?? "")]);
  const details = [];

  // The summary already says the server did not respond, and the browser's
  // own text, such as "Failed to fetch", adds nothing a monitor can act on.
  if (error.message && error.code !== "unreachable") {
    details.push(error.message);
  }
  const fields = error.errors;
  if (fields && typeof fields === "object" && !Array.isArray(fields)) {
    for (const [field, messages] of Object.entries(fields)) {
      const list = Array.isArray(messages) ? messages : [messages];
      details.push(`${field}: ${list.map(String).join(" ")}`);
    }
  }
  return { summary, details };
}
