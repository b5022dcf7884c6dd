/**
 * Options page: server URL, device key and room of this computer.
 *
 * chrome.permissions.request only works while the click that asked for it is
 * being handled, so both buttons validate synchronously and request access to
 * the server's host before their first await.
 */

import { fetchRooms } from "./lib/api.js";
import { describeError, describeSetupError, errorFromOutcome } from "./lib/errors.js";
import { localizePage, t } from "./lib/i18n.js";
import { loadSettings, normalizeServerUrl, originPattern } from "./lib/settings.js";

const form = document.getElementById("settings-form");
const serverUrlInput = document.getElementById("server-url");
const deviceKeyInput = document.getElementById("device-key");
const roomSelect = document.getElementById("room");
const loadRoomsButton = document.getElementById("load-rooms");
const message = document.getElementById("message");

localizePage();
fillForm().catch((error) => showError({ summary: String(error), details: [] }));
loadRoomsButton.addEventListener("click", onLoadRooms);
form.addEventListener("submit", onSave);

async function fillForm() {
  const settings = await loadSettings();
  serverUrlInput.value = settings.serverUrl;
  deviceKeyInput.value = settings.deviceKey;
  if (settings.roomId) {
    // Until the rooms are loaded again, the saved room is the only choice.
    const option = roomOption({ room_id: settings.roomId, name: settings.roomName });
    option.selected = true;
    roomSelect.append(option);
  }
  document.body.dataset.ready = "true";
}

function onLoadRooms() {
  const connection = readConnection();
  if (!connection) {
    return;
  }

  setBusy(true);
  showMessage("busy", { summary: t("loadingRooms"), details: [] });
  requestHostAccess(connection.serverUrl)
    .then(async (granted) => {
      if (!granted) {
        showError(describeError({ code: "permissionDenied" }));
        return;
      }
      const outcome = await fetchRooms(connection);
      if (outcome.kind !== "ok" || !Array.isArray(outcome.body)) {
        const error = errorFromOutcome(outcome);
        showError(describeSetupError(error, connection.serverUrl));
        return;
      }
      fillRooms(outcome.body);
    })
    .catch((error) => showError({ summary: String(error), details: [] }))
    .finally(() => setBusy(false));
}

function onSave(event) {
  event.preventDefault();
  const connection = readConnection();
  if (!connection) {
    return;
  }
  const option = roomSelect.selectedOptions[0];
  if (!roomSelect.value || !option) {
    showError({ summary: t("errorRoomMissing"), details: [] });
    roomSelect.focus();
    return;
  }

  setBusy(true);
  requestHostAccess(connection.serverUrl)
    .then(async (granted) => {
      if (!granted) {
        showError(describeError({ code: "permissionDenied" }));
        return;
      }
      await chrome.storage.local.set({
        serverUrl: connection.serverUrl,
        deviceKey: connection.deviceKey,
        roomId: roomSelect.value,
        roomName: option.dataset.name || "",
      });
      serverUrlInput.value = connection.serverUrl;
      showSuccess(t("savedMessage", [option.textContent]));
    })
    .catch((error) => showError({ summary: String(error), details: [] }))
    .finally(() => setBusy(false));
}

/** Validates the URL and key fields; returns them, or null after showing why. */
function readConnection() {
  const parsed = normalizeServerUrl(serverUrlInput.value);
  if (parsed.error) {
    showError({ summary: t(parsed.error), details: [] });
    serverUrlInput.focus();
    return null;
  }
  const deviceKey = deviceKeyInput.value.trim();
  if (!deviceKey) {
    showError({ summary: t("errorDeviceKeyMissing"), details: [] });
    deviceKeyInput.focus();
    return null;
  }
  if (/\s/.test(deviceKey)) {
    showError({ summary: t("errorDeviceKeyInvalid"), details: [] });
    deviceKeyInput.focus();
    return null;
  }
  return { serverUrl: parsed.url, deviceKey };
}

// Must be called synchronously from a click handler. Loopback servers are in
// the manifest's host_permissions, so for them this resolves without a prompt.
function requestHostAccess(serverUrl) {
  return chrome.permissions.request({ origins: [originPattern(serverUrl)] });
}

function fillRooms(rooms) {
  const previous = roomSelect.value;
  const placeholder = roomSelect.options[0];
  roomSelect.replaceChildren(placeholder);
  for (const room of rooms) {
    const option = roomOption(room);
    option.selected = room.room_id === previous;
    roomSelect.append(option);
  }

  if (rooms.length === 0) {
    showError({ summary: t("errorNoRooms"), details: [] });
    return;
  }
  showSuccess(t("roomsLoaded", [String(rooms.length)]));
  roomSelect.dataset.loaded = "true";
}

function roomOption(room) {
  const option = document.createElement("option");
  option.value = room.room_id;
  option.dataset.name = room.name || "";
  const parts = [room.name ? `${room.name} (${room.room_id})` : room.room_id];
  if (room.squad) {
    parts.push(room.squad);
  }
  option.textContent = parts.join(" · ");
  if (room.is_active === false) {
    option.disabled = true;
    option.textContent += ` · ${t("roomInactive")}`;
  }
  return option;
}

function setBusy(busy) {
  for (const control of form.elements) {
    control.disabled = busy;
  }
  form.setAttribute("aria-busy", String(busy));
}

function showSuccess(text) {
  showMessage("success", { summary: text, details: [] });
}

function showError(description) {
  showMessage("error", description);
}

function showMessage(state, { summary, details }) {
  message.hidden = false;
  message.dataset.state = state;
  document.getElementById("message-summary").textContent = summary;
  const list = document.getElementById("message-details");
  list.replaceChildren(
    ...details.map((line) => {
      const item = document.createElement("li");
      item.textContent = line;
      return item;
    }),
  );
}
