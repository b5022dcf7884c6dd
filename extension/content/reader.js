/*
 * Shared reader of broadcaster pages, loaded before each platform's script.
 *
 * It contains the selector table of every platform and the code that reads the
 * broadcaster's cumulative token balance, the tips count and the viewers
 * count from the page. A platform script only calls
 * `sweetModelsReader.start("<platform>")`.
 *
 * Readings are taken every readIntervalSeconds (5 s by default) and shortly
 * after the page changes. A reading is sent to the
 * service worker only when all three numbers were found, and only when a
 * number changed or heartbeatSeconds (15 s) passed since the last send, so a
 * quiet but live room still reports in.
 */

globalThis.sweetModelsReader ??= (() => {
  "use strict";

  /*
   * Selectors per platform and number, tried in order: the first element
   * found whose text contains a number wins. The real broadcaster pages are
   * not public, so these are guesses, test ids first and then class names.
   * Check them on a live broadcast. docs/extension.md lists them, and the
   * table is plain data so a later version can receive it from the server.
   */
  const SELECTORS = Object.freeze({
    chaturbate: {
      tokens: ['[data-testid="token-balance"]', "span.tokencount", ".token-balance"],
      tips: ['[data-testid="tips-count"]', ".tip-count", ".tips-received"],
      viewers: ['[data-testid="viewer-count"]', ".viewer-count", "#room_viewers_count"],
    },
    stripchat: {
      tokens: [
        '[data-testid="model-token-balance"]',
        ".model-tokens-balance",
        ".tokens-balance",
      ],
      tips: ['[data-testid="model-tips-count"]', ".tips-count"],
      viewers: ['[data-testid="viewers-count"]', ".viewers-count", ".model-viewers"],
    },
    camsoda: {
      tokens: ['[data-testid="token-balance"]', ".token-balance", ".tokens-amount"],
      tips: ['[data-testid="tips-count"]', ".tips-count"],
      viewers: ['[data-testid="viewer-count"]', ".viewer-count", ".viewers"],
    },
  });

  const METRICS = Object.freeze({
    tokens: "tokens_count",
    tips: "tips_count",
    viewers: "viewers_count",
  });

  const DEFAULT_CONFIG = Object.freeze({
    readIntervalSeconds: 5,
    heartbeatSeconds: 15,
  });

  // Chat messages change the page many times a second, so a change is read
  // once the page has been quiet this long. The interval covers busy pages.
  const MUTATION_DEBOUNCE_MS = 400;

  const SEPARATOR = /[.,'\s]/;
  const NUMBER = /\d[\d.,'\s]*/;
  const SUFFIX = /^\s*([kKmM])(?![a-zA-Z])/;
  const MULTIPLIERS = { k: 1_000, m: 1_000_000 };

  /**
   * Parses a count as a page shows it: "1,234", "1.234", "1 234 tokens",
   * "Viewers: 56", "1.2K". Returns a whole number, or null when the text contains
   * no number or an ambiguous one such as "12.5" or "1,23".
   */
  function parseCount(text) {
    if (typeof text !== "string") {
      return null;
    }
    const match = NUMBER.exec(text);
    if (!match) {
      return null;
    }

    const raw = match[0].replace(/[.,'\s]+$/, "");
    const groups = raw.split(SEPARATOR);
    const separators = new Set(raw.match(/[.,'\s]/g) || []);
    const suffix = SUFFIX.exec(text.slice(match.index + raw.length));

    let value;
    if (suffix) {
      // "1.2K" and "1,5K" use the separator as a decimal point.
      if (groups.length > 2 || groups.some((group) => group === "")) {
        return null;
      }
      const multiplier = MULTIPLIERS[suffix[1].toLowerCase()];
      value = Math.round(Number(groups.join(".")) * multiplier);
    } else if (groups.length === 1) {
      value = Number(raw);
    } else {
      // Tokens, tips and viewers are whole numbers, so a separator can only
      // group thousands: one kind of separator and groups of three digits.
      const [first, ...rest] = groups;
      const grouped =
        separators.size === 1 &&
        first.length >= 1 &&
        first.length <= 3 &&
        rest.every((group) => group.length === 3);
      if (!grouped) {
        return null;
      }
      value = Number(groups.join(""));
    }
    return Number.isSafeInteger(value) ? value : null;
  }

  function readMetric(root, selectors) {
    for (const selector of selectors) {
      let element;
      try {
        element = root.querySelector(selector);
      } catch {
        continue;
      }
      const value = element ? parseCount(element.textContent) : null;
      if (value !== null) {
        return value;
      }
    }
    return null;
  }

  /** Reads all numbers of a platform: `{ counts }` or `{ missing: [...] }`. */
  function readPage(platform, root = document) {
    const table = SELECTORS[platform];
    if (!table) {
      return { missing: Object.keys(METRICS) };
    }

    const counts = {};
    const missing = [];
    for (const [metric, field] of Object.entries(METRICS)) {
      const value = readMetric(root, table[metric]);
      if (value === null) {
        missing.push(metric);
      } else {
        counts[field] = value;
      }
    }
    return missing.length ? { missing } : { counts };
  }

  let started = false;

  async function start(platform) {
    if (started) {
      return;
    }
    started = true;

    const config = await requestConfig();
    const state = { lastSent: null, lastMissing: "", waitTimer: null, stopped: false };
    const readAndReport = () => report(platform, config, state);

    const interval = setInterval(readAndReport, config.readIntervalSeconds * 1000);
    let debounceTimer = null;
    const observer = new MutationObserver(() => {
      clearTimeout(debounceTimer);
      debounceTimer = setTimeout(readAndReport, MUTATION_DEBOUNCE_MS);
    });
    observer.observe(document.documentElement, {
      subtree: true,
      childList: true,
      characterData: true,
    });

    state.stop = () => {
      state.stopped = true;
      clearInterval(interval);
      clearTimeout(debounceTimer);
      clearTimeout(state.waitTimer);
      observer.disconnect();
    };
    readAndReport();
  }

  function report(platform, config, state) {
    if (state.stopped) {
      return;
    }
    // After the extension is reloaded or updated this copy of the script is
    // orphaned: its messages can no longer reach the service worker.
    if (!chrome.runtime?.id) {
      state.stop();
      return;
    }

    const result = readPage(platform);
    if (result.missing) {
      const missing = result.missing.join(",");
      if (missing !== state.lastMissing) {
        state.lastMissing = missing;
        send(state, { type: "reading-incomplete", platform, missing: result.missing });
      }
      return;
    }
    state.lastMissing = "";

    const now = Date.now();
    const key = JSON.stringify(result.counts);
    const last = state.lastSent;
    const changed = !last || last.key !== key;
    const heartbeatDue = last && now - last.sentAt >= config.heartbeatSeconds * 1000;
    if (!changed && !heartbeatDue) {
      return;
    }

    // The server stores one sample per room, platform and second, and treats
    // a second sample in the same second as a duplicate. A change read in the
    // second of the previous send waits for the next second instead.
    const timestamp = Math.floor(now / 1000);
    if (last && timestamp <= last.timestamp) {
      if (!state.waitTimer) {
        state.waitTimer = setTimeout(() => {
          state.waitTimer = null;
          report(platform, config, state);
        }, 1000 - (now % 1000) + 20);
      }
      return;
    }

    state.lastSent = { key, timestamp, sentAt: now };
    const reading = { platform, ...result.counts, timestamp };
    send(state, { type: "reading", reading }, () => {
      // Sent again at the next read, not only at the next heartbeat.
      state.lastSent = null;
    });
  }

  function send(state, message, onFailure = () => {}) {
    chrome.runtime
      .sendMessage(message)
      .then((answer) => {
        if (!answer?.ok) {
          onFailure();
        }
      })
      .catch(() => {
        onFailure();
        if (!chrome.runtime?.id) {
          state.stop();
        }
      });
  }

  async function requestConfig() {
    try {
      const answer = await chrome.runtime.sendMessage({ type: "reader-config" });
      const readIntervalSeconds = Number(answer?.readIntervalSeconds);
      const heartbeatSeconds = Number(answer?.heartbeatSeconds);
      return {
        readIntervalSeconds: readIntervalSeconds || DEFAULT_CONFIG.readIntervalSeconds,
        heartbeatSeconds: heartbeatSeconds || DEFAULT_CONFIG.heartbeatSeconds,
      };
    } catch {
      return { ...DEFAULT_CONFIG };
    }
  }

  return Object.freeze({ SELECTORS, parseCount, readPage, start });
})();
