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

/**
 * Returns the BCP 47 tag of the language the extension's texts are shown in,
 * such as "es-419" or "en-US".
 *
 * chrome.i18n.getUILanguage() is not always that language. In Debian's
 * Chromium 156 without its Spanish language pack, started with the locale
 * es-CO (as Playwright does), extension pages get "es-CO" from it while the
 * interface and the catalog chrome.i18n picks are English. So each catalog
 * names its own language in "catalogLanguage", and the browser's locale only
 * adds the region when its language agrees.
 */
export function uiLanguage() {
  const catalog = t("catalogLanguage");
  const browser = chrome.i18n.getMessage("@@ui_locale").replace(/_/g, "-");
  return browser.split("-")[0] === catalog ? browser : catalog;
}

export function localizePage(root = document) {
  document.documentElement.lang = uiLanguage();
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of root.querySelectorAll("[data-i18n-placeholder]")) {
    element.placeholder = t(element.dataset.i18nPlaceholder);
  }
}

/** Formats a time of day, such as "12:04:31", in the language of the texts. */
export function formatTime(milliseconds) {
  return new Date(milliseconds).toLocaleTimeString(uiLanguage());
}

/** Formats how long ago a time was, such as "hace 12 segundos". */
export function formatAgo(milliseconds, now = Date.now()) {
  const format = new Intl.RelativeTimeFormat(uiLanguage(), { numeric: "auto" });
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
  return new Intl.NumberFormat(uiLanguage()).format(value);
}
