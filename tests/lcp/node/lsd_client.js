// Readium's r2-lcp-js as a reading app's LSD client: reads a licence's status document and makes one
// interaction with it (what Thorium does on opening, renewing and returning a book).
//   node lsd_client.js <register|renew|return> <status document URL> <device id> <device name> [end ISO]
// Prints JSON: {"status": the document r2-lcp-js got back, as it parsed it} or {"error": what it refused}.
"use strict";
require("reflect-metadata");
const { LSD } = require("r2-lcp-js/dist/es8-es2017/src/parser/epub/lsd");
const { TaJsonDeserialize, TaJsonSerialize } = require("r2-lcp-js/dist/es8-es2017/src/serializable");
const { lsdRegister_ } = require("r2-lcp-js/dist/es8-es2017/src/lsd/register");
const { lsdRenew_ } = require("r2-lcp-js/dist/es8-es2017/src/lsd/renew");
const { lsdReturn_ } = require("r2-lcp-js/dist/es8-es2017/src/lsd/return");

async function main() {
  const [action, statusUrl, id, name, end] = process.argv.slice(2);
  const response = await fetch(statusUrl, { signal: AbortSignal.timeout(20000) });
  const lsd = TaJsonDeserialize(await response.json(), LSD);
  const device = {
    getDeviceID: async () => id,
    getDeviceNAME: async () => name,
    checkDeviceID: async () => undefined,
    recordDeviceID: async () => undefined,
  };
  let got;
  try {
    if (action === "register") got = await lsdRegister_(lsd, device);
    else if (action === "renew") got = await lsdRenew_(end ? new Date(end) : undefined, lsd, device);
    else if (action === "return") got = await lsdReturn_(lsd, device);
    else throw new Error("unknown action " + action);
  } catch (e) {
    process.stdout.write(JSON.stringify({ error: e instanceof Error ? e.message : e }));
    return;
  }
  process.stdout.write(JSON.stringify({ status: got instanceof LSD ? TaJsonSerialize(got) : got }));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
  process.exit(2);
});
