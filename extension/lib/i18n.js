/**
 * Translation of extension pages through chrome.i18n.
 *
 * Elements name their message with data-i18n (text content) or
 * data-i18n-placeholder; messages live in _locales/<lang>/messages.json.
 */

export function t(name, substitutions) {
  const text = chrome.i18n.getMessage(name, substitutions);
  // An empty string means a missing message; showing its name makes the gap
  // visible instead of leaving a blank label.
  return text || name;
}

export function localizePage(root = document) {
  document.documentElement.lang = chrome.i18n.getUILanguage();
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of root.querySelectorAll("[data-i18n-placeholder]")) {
    element.placeholder = t(element.dataset.i18nPlaceholder);
  }
}

/** Formats a time as "12:04:31" in the browser's language. */
export function formatTime(milliseconds) {
  return new Date(milliseconds).toLocaleTimeString(chrome.i18n.getUILanguage());
}

/** Formats how long ago a time was, such as "hace 12 segundos". */
export function formatAgo(milliseconds, now = Date.now()) {
  const format = new Intl.RelativeTimeFormat(chrome.i18n.getUILanguage(), {
    numeric: "auto",
  });
  const seconds = Math.round((milliseconds - now) / 1000);
  if (Math.abs(seconds) < 60) {
    return format.format(seconds, "second");
  }
  const minutes = Math.round(seconds / 60);
  if (Math.abs(minutes) < 60) {
    return format.format(minutes, "minute");
  }
  return format.format(Math.round(minutes / 60), "hour");
}

export function formatNumber(value) {
  return new Intl.NumberFormat(chrome.i18n.getUILanguage()).format(value);
}
