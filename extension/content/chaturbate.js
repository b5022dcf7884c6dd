// Reads the chaturbate broadcaster page; the selectors are in content/reader.js.
globalThis.sweetModelsReader.start("chaturbate");
