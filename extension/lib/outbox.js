/**
 * Delivery of readings to the server, with a persistent queue for outages.
 *
 * A reading goes straight to the server while the queue is empty. When the
 * server cannot be reached (no response, timeout, 408, 429 or 5xx) the reading
 * joins a queue in chrome.storage.local, which survives a browser restart, and
 * an alarm retries with exponential backoff. The queue is sent in order as
 * JSON array batches, and new readings wait behind it so the server receives
 * a room's readings oldest first. Responses 400, 401 and 403 are never retried:
 * the same request would fail again, so the readings are dropped and the
 * reason is recorded for the popup.
 *
 * Storage keys written here:
 *   "queue"   array of samples in the shape the server accepts;
 *   "status"  what the popup shows (see emptyStatus).
 *
 * Every read-modify-write of those keys runs through `exclusive`, because
 * messages from several tabs and the retry alarm arrive concurrently and two
 * interleaved writes would lose a reading.
 */

import { postTelemetry } from "./api.js";
import { errorFromOutcome } from "./errors.js";
import { isConfigured, loadSettings } from "./settings.js";

export const RETRY_ALARM = "retry-queue";

// Cap of the queue: about 7 hours of one platform whose numbers change at
// every 5 s read, or 41 hours of 30 s heartbeats. When full, the oldest
// reading is dropped, because a recent balance is worth more to a
// monitor than an old one, and the dropped ones are counted.
export const MAX_QUEUE_LENGTH = 5000;

// The server accepts at most 500 readings per request.
export const MAX_BATCH_SIZE = 500;

// Packed MV3 extensions cannot fire an alarm sooner than 30 s.
const RETRY_BASE_SECONDS = 30;
const RETRY_MAX_SECONDS = 300;
const RETRY_JITTER = 0.2;

export function emptyStatus() {
  return {
    lastSentAt: null,
    lastError: null,
    queueLength: 0,
    droppedCount: 0,
    rejectedCount: 0,
    retryAttempt: 0,
    nextRetryAt: null,
    platforms: {},
  };
}

let tail = Promise.resolve();

function exclusive(task) {
  const run = tail.then(task);
  tail = run.catch(() => {});
  return run;
}

/** Stores a reading from a content script and sends it, or queues it. */
export function submitReading(reading) {
  return exclusive(async () => {
    const settings = await loadSettings();
    await updateStatus((status) => {
      status.platforms[reading.platform] = {
        ...reading,
        readAt: Date.now(),
        missing: [],
      };
    });

    if (!isConfigured(settings)) {
      await recordError({ code: "notConfigured" });
      return;
    }

    const sample = { room_id: settings.roomId, ...reading };
    const queue = await readQueue();
    if (queue.length > 0) {
      await enqueue([sample]);
      const status = await readStatus();
      if (!status.nextRetryAt || status.nextRetryAt <= Date.now()) {
        await flushLocked(settings);
      }
      return;
    }

    const outcome = await postTelemetry(settings, sample);
    await applySingleOutcome(outcome, sample);
  });
}

/** Records that a page showed some numbers but not all of them. */
export function recordIncompleteReading(platform, missing) {
  return exclusive(() =>
    updateStatus((status) => {
      const previous = status.platforms[platform] || {};
      status.platforms[platform] = { ...previous, missing, readAt: Date.now() };
    }),
  );
}

/**
 * Sends the queue now. With `resetBackoff` the next failure waits the base
 * delay again, which is right after the user changed the settings.
 */
export function flushQueue({ resetBackoff = false } = {}) {
  return exclusive(async () => {
    if (resetBackoff) {
      await updateStatus((status) => {
        status.retryAttempt = 0;
        status.nextRetryAt = null;
      });
    }
    await flushLocked(await loadSettings());
  });
}

export async function readStatus() {
  const { status } = await chrome.storage.local.get("status");
  return { ...emptyStatus(), ...status };
}

async function flushLocked(settings) {
  if (!isConfigured(settings)) {
    return;
  }

  for (;;) {
    const queue = await readQueue();
    if (queue.length === 0) {
      await chrome.alarms.clear(RETRY_ALARM);
      await updateStatus((status) => {
        status.retryAttempt = 0;
        status.nextRetryAt = null;
      });
      return;
    }

    const batch = queue.slice(0, MAX_BATCH_SIZE);
    const outcome = await postTelemetry(settings, batch);
    const sendMore = await applyBatchOutcome(outcome, batch.length);
    if (!sendMore) {
      return;
    }
  }
}

async function applySingleOutcome(outcome, sample) {
  if (outcome.kind === "ok") {
    await recordSent();
    return;
  }
  if (outcome.kind === "retry") {
    await enqueue([sample]);
    await scheduleRetry(outcome);
    return;
  }
  await recordRejected(outcome, 1);
}

/** Applies a batch response to the head of the queue; true to send the next batch. */
async function applyBatchOutcome(outcome, batchLength) {
  const queue = await readQueue();

  if (outcome.kind === "ok") {
    await writeQueue(queue.slice(batchLength));
    await recordSent();
    return true;
  }
  if (outcome.kind === "retry") {
    await scheduleRetry(outcome);
    return false;
  }

  // The server rejects a whole batch when one reading is invalid, and lists
  // the errors in the order of the batch. Dropping only the readings with
  // errors lets the valid ones through on the next request.
  const perReading = outcome.kind === "invalid" && Array.isArray(outcome.errors);
  if (perReading && outcome.errors.length === batchLength) {
    const head = queue.slice(0, batchLength);
    const valid = head.filter((_, index) => isEmpty(outcome.errors[index]));
    const invalidErrors = outcome.errors.filter((errors) => !isEmpty(errors));
    await writeQueue([...valid, ...queue.slice(batchLength)]);
    await recordRejected(
      { ...outcome, errors: invalidErrors[0] ?? null },
      batchLength - valid.length,
    );
    return valid.length < batchLength;
  }

  await writeQueue(queue.slice(batchLength));
  await recordRejected(outcome, batchLength);
  return outcome.kind === "invalid";
}

async function scheduleRetry(outcome) {
  const status = await readStatus();
  const attempt = status.retryAttempt + 1;
  const delaySeconds = retryDelaySeconds(attempt);
  await chrome.alarms.create(RETRY_ALARM, { delayInMinutes: delaySeconds / 60 });
  await updateStatus((next) => {
    next.retryAttempt = attempt;
    next.nextRetryAt = Date.now() + delaySeconds * 1000;
    next.lastError = errorFromOutcome(outcome);
  });
}

export function retryDelaySeconds(attempt) {
  const exponential = RETRY_BASE_SECONDS * 2 ** Math.max(0, attempt - 1);
  const capped = Math.min(RETRY_MAX_SECONDS, exponential);
  // Jitter keeps the computers of one studio from retrying in step after the
  // server comes back.
  const jitter = 1 + RETRY_JITTER * (2 * Math.random() - 1);
  return Math.max(RETRY_BASE_SECONDS, Math.round(capped * jitter));
}

async function recordSent() {
  await updateStatus((status) => {
    status.lastSentAt = Date.now();
    status.lastError = null;
    status.retryAttempt = 0;
    status.nextRetryAt = null;
  });
}

async function recordRejected(outcome, count) {
  await updateStatus((status) => {
    status.rejectedCount += count;
    status.lastError = errorFromOutcome(outcome);
  });
}

async function recordError(error) {
  await updateStatus((status) => {
    status.lastError = { ...error, at: Date.now() };
  });
}

async function readQueue() {
  const { queue } = await chrome.storage.local.get("queue");
  return Array.isArray(queue) ? queue : [];
}

async function enqueue(samples) {
  const joined = [...(await readQueue()), ...samples];
  const overflow = Math.max(0, joined.length - MAX_QUEUE_LENGTH);
  await writeQueue(joined.slice(overflow), overflow);
}

// The queue and its length in the status are written in one call, so the
// popup never shows a length that disagrees with the queue.
async function writeQueue(queue, droppedCount = 0) {
  const status = await readStatus();
  status.queueLength = queue.length;
  status.droppedCount += droppedCount;
  await chrome.storage.local.set({ queue, status });
}

async function updateStatus(change) {
  const status = await readStatus();
  change(status);
  await chrome.storage.local.set({ status });
}

function isEmpty(errors) {
  return !errors || Object.keys(errors).length === 0;
}
