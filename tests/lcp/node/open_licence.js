// Opens a licence the hub issued with Readium's r2-lcp-js, as a reading app does, and decrypts every
// resource of the protected EPUB that META-INF/encryption.xml declares.
//   node open_licence.js <licence.lcpl> <protected.epub> <passphrase>
// Prints JSON: the licence id and provider as r2-lcp-js parsed them, whether the passphrase opened the
// licence (key_check, then content key), and each resource in clear (base64), by path.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
require("reflect-metadata");
const { JSON: TAJSON } = require("ta-json-x");
const { LCP } = require("r2-lcp-js/dist/es8-es2017/src/parser/epub/lcp");
const { transformStream } = require("r2-lcp-js/dist/es8-es2017/src/transform/transformer-lcp");
const { Encrypted } = require("r2-lcp-js/dist/es8-es2017/src/models/metadata-encrypted");
const { zipLoadPromise } = require("r2-utils-js/dist/es8-es2017/src/_utils/zip/zipFactory");
const { streamToBufferPromise } = require("r2-utils-js/dist/es8-es2017/src/_utils/stream/BufferUtils");

async function main() {
  const [licencePath, epubPath, passphrase] = process.argv.slice(2);
  const text = fs.readFileSync(licencePath, "utf8");
  const lcp = TAJSON.deserialize(JSON.parse(text), LCP);
  lcp.JsonSource = text;
  lcp.init();
  const out = { id: lcp.ID, provider: lcp.Provider, profile: lcp.Encryption.Profile,
                end: lcp.Rights && lcp.Rights.End ? lcp.Rights.End.toISOString() : null,
                opened: false, resources: {} };
  // The user key a reading app derives from the passphrase (basic profile: SHA-256, hex).
  const userKey = crypto.createHash("sha256").update(passphrase, "utf8").digest("hex");
  try {
    await lcp.tryUserKeys([userKey]);
    out.opened = lcp.isReady();
  } catch (e) {
    out.opened = false;
  }
  if (!out.opened) {
    process.stdout.write(JSON.stringify(out));
    return;
  }
  out.contentKey = lcp.ContentKey.toString("hex");
  const zip = await zipLoadPromise(epubPath);
  const encXml = (await streamToBufferPromise((await zip.entryStreamPromise("META-INF/encryption.xml")).stream))
    .toString("utf8");
  // The EncryptedData entries: what r2-shared-js reads into each link's `encrypted` properties.
  const blocks = encXml.split("<enc:EncryptedData").slice(1);
  for (const block of blocks) {
    const uri = decodeURIComponent(/CipherReference URI="([^"]+)"/.exec(block)[1]);
    const method = /Compression Method="(\d+)"/.exec(block)[1];
    const length = parseInt(/OriginalLength="(\d+)"/.exec(block)[1], 10);
    const enc = new Encrypted();
    enc.Algorithm = /EncryptionMethod Algorithm="([^"]+)"/.exec(block)[1];
    enc.Scheme = "http://readium.org/2014/01/lcp";
    enc.Profile = lcp.Encryption.Profile;
    enc.Compression = method === "8" ? "deflate" : "none";
    enc.OriginalLength = length;
    const entry = await zip.entryStreamPromise(uri);
    const clear = await transformStream(lcp, uri, enc, entry, false, 0, 0);
    out.resources[uri] = (await streamToBufferPromise(clear.stream)).toString("base64");
  }
  zip.freeDestroy();
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
  process.exit(2);
});
