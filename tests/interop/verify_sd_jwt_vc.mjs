// Test-only: verify an SD-JWT VC with the TypeScript reference library (@sd-jwt/sd-jwt-vc),
// as an outside verifier would. Never shipped; run by tests/unit/test_wallet_interop.py.
//
// Reads one JSON object on stdin:
//   {"sd_jwt": "...",            the credential or presentation
//    "issuer_jwk": {...},        the issuer's public key (P-256 JWK)
//    "now": 1796083200,          seconds since the epoch (the library's currentDate)
//    "nonce": "...",             optional: verify the KB-JWT with this nonce (holder key: cnf.jwk)
//    "status_list_token": "..."} optional: what the status list URI serves (no network here)
// Writes one JSON object on stdout: {"ok": true, "payload": ..., "kb": ...} or
// {"ok": false, "error": "..."}. Exits 0 either way; a crash of the script itself exits 1.
import { createHash, createPublicKey, verify } from "node:crypto";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const hasher = (data, alg) => {
  if (alg !== "sha-256") throw new Error(`unsupported hash ${alg}`);
  return new Uint8Array(createHash("sha256").update(data).digest());
};

// ES256 with the signature as JWS carries it (r || s, "ieee-p1363"), base64url.
const es256 = (jwk) => {
  const key = createPublicKey({ key: jwk, format: "jwk" });
  return async (data, signature) =>
    verify("sha256", Buffer.from(data), { key, dsaEncoding: "ieee-p1363" },
      Buffer.from(signature, "base64url"));
};

const issuerVerifier = es256(input.issuer_jwk);
const sdjwt = new SDJwtVcInstance({
  hasher,
  hashAlg: "sha-256",
  verifier: issuerVerifier,
  statusVerifier: issuerVerifier,
  // The KB-JWT is checked with the key the credential binds (cnf.jwk), from the processed payload.
  kbVerifier: async (data, signature, payload) => es256(payload.cnf.jwk)(data, signature),
  statusListFetcher: async () => {
    if (!input.status_list_token) throw new Error("no status list token given");
    return input.status_list_token;
  },
});

try {
  const result = await sdjwt.verify(input.sd_jwt, {
    currentDate: input.now,
    ...(input.nonce ? { keyBindingNonce: input.nonce } : {}),
    ...(input.status_list_token ? {} : { disableStatusVerification: true }),
  });
  console.log(JSON.stringify({ ok: true, payload: result.payload, kb: result.kb?.payload ?? null }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.message ?? error) }));
}
