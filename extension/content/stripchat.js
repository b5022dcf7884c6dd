// Reads the stripchat broadcaster page; the selectors are in content/reader.js.
globalThis.sweetModelsReader.start("stripchat");
