/**
 * Errors the popup and the options page show, built from server responses.
 *
 * A recorded error is `{ code, status, message, errors, at }`: `code` picks
 * the translated summary, `message` is the server's own text and `errors`
 * maps each invalid field to its messages. Both come from the server in the
 * language of the extension's texts, because every request sends
 * Accept-Language.
 *
 * A description is one translated summary plus, for a 400 only, the fields
 * the server named. For every other status the server's message repeats the
 * summary in other words, so it is kept in the record but not shown.
 */

import { t } from "./i18n.js";

// Summaries for the popup, which describe what happens to the readings.
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

// The options page only loads rooms and queues nothing, so an outage there
// gets a summary about the address instead of one about the queue.
const SETUP_SUMMARIES = Object.freeze({
  unreachable: "setupErrorUnreachable",
  serverError: "setupErrorServerStatus",
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

/** Describes an error of sending readings as `{ summary, details }`. */
export function describeError(error) {
  const name = SUMMARIES[error.code] || "errorRejected";
  const summary = t(name, [String(error.status ?? "")]);
  return { summary, details: detailsOf(error) };
}

/** Describes an error of the options page, which talks to `serverUrl`. */
export function describeSetupError(error, serverUrl) {
  const name = SETUP_SUMMARIES[error.code];
  if (!name) {
    return describeError(error);
  }
  const summary = t(name, [serverUrl, String(error.status ?? "")]);
  return { summary, details: [] };
}

function detailsOf(error) {
  if (error.code !== "invalid") {
    return [];
  }

  const fields = error.errors;
  const isFieldMap = fields && typeof fields === "object" && !Array.isArray(fields);
  if (!isFieldMap || Object.keys(fields).length === 0) {
    // A 400 without field errors, such as a body that is not JSON, has only
    // the server's message to say what was wrong.
    return error.message ? [error.message] : [];
  }

  const details = [];
  for (const [field, messages] of Object.entries(fields)) {
    const text = (Array.isArray(messages) ? messages : [messages]).map(String);
    // Errors about the reading as a whole carry DRF's key "non_field_errors",
    // which names no field a person could fix.
    details.push(
      field === "non_field_errors" ? text.join(" ") : `${field}: ${text.join(" ")}`,
    );
  }
  return details;
}
