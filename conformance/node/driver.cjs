// Decides TOTP attempts with a real npm validator for conformance/generate.py: one JSON
// request per line on stdin, one JSON answer per line on stdout. The clock is the request's
// `t_ms`; nothing reads the machine's clock.
//
//   node conformance/node/driver.cjs otplib|otplib-asymmetric|speakeasy
//
// Requests: {"op":"secrets","secrets":{"c01":"BASE32",...}}  {"op":"enrol","cred":"c01"}
//           {"op":"verify","cred":"c01","t_ms":1767600000000,"code":"123456"}
//           {"op":"centre","cred":"c01","t_ms":...}   {"op":"versions"}
// Answers:  {"ok":true|false,"real":"what the library returned"}
"use strict";
const readline = require("readline");
const otplib = require("otplib");
const speakeasy = require("speakeasy");

const impl = process.argv[2];
// The application around the library: otplib keeps the last success's timeStep per
// credential and passes it as afterTimeStep, as its README recommends; speakeasy keeps nothing.
const SETTINGS = {
  otplib: { epochTolerance: 30 },
  "otplib-asymmetric": { epochTolerance: [40, 10] },
  speakeasy: { window: 1 },
};
if (!(impl in SETTINGS)) {
  process.stderr.write(`unknown implementation ${impl}\n`);
  process.exit(2);
}
const settings = SETTINGS[impl];
let secrets = {};
const after = new Map();

function verify(cred, tMs, code) {
  const secret = secrets[cred];
  if (impl === "speakeasy") {
    const d = speakeasy.totp.verifyDelta({
      secret, encoding: "base32", token: code, time: tMs / 1000, step: 30, window: settings.window,
    });
    return d ? { ok: true, real: `delta ${d.delta}` } : { ok: false, real: "undefined" };
  }
  // otplib's default epoch is Math.floor(Date.now() / 1000): the same, under this clock.
  const opts = {
    secret, token: code, epoch: Math.floor(tMs / 1000), epochTolerance: settings.epochTolerance,
  };
  if (after.has(cred)) opts.afterTimeStep = after.get(cred);
  let r;
  try {
    r = otplib.verifySync(opts);
  } catch (e) {
    // An application answers a thrown error as a rejection.
    return { ok: false, real: `threw ${e.name}` };
  }
  if (!r.valid) return { ok: false, real: "valid false" };
  after.set(cred, r.timeStep);
  return { ok: true, real: `timeStep ${r.timeStep} delta ${r.delta}` };
}

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const q = JSON.parse(line);
  let a;
  switch (q.op) {
    case "secrets": secrets = q.secrets; a = { ok: true, real: "" }; break;
    case "enrol": after.delete(q.cred); a = { ok: true, real: "afterTimeStep forgotten" }; break;
    case "verify": a = verify(q.cred, q.t_ms, q.code); break;
    case "versions": {
      const fs = require("fs"), path = require("path");
      const v = (p) => JSON.parse(fs.readFileSync(path.join(__dirname, "node_modules", p, "package.json"))).version;
      a = { ok: true, real: "", versions: { otplib: v("otplib"), "@otplib/totp": v("@otplib/totp"), "@otplib/core": v("@otplib/core"), speakeasy: v("speakeasy"), node: process.version } };
      break;
    }
    default: a = { ok: false, real: `unknown op ${q.op}` };
  }
  process.stdout.write(JSON.stringify(a) + "\n");
});
