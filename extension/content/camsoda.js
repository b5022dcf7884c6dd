// Reads the camsoda broadcaster page; the selectors are in content/reader.js.
globalThis.sweetModelsReader.start("camsoda");
