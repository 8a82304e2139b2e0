// otlp_receiver.mjs -- an OTLP/HTTP JSON trace receiver that checks every request against
// the OpenTelemetry project's own protobuf definitions (the generated root bundled in npm
// @opentelemetry/otlp-transformer, installed by scripts/setup.sh into build/npm), and writes
// every span it accepted, one JSON object per line, for the C++ test to check.
//
//   node otlp_receiver.mjs --port 4318 [--out spans.jsonl] [--port-file F] [--modules DIR]
//
// A request is accepted only if protobufjs fromObject -> verify -> encode -> decode ->
// toObject gives back every field the request set, with the same value: a misspelt field
// (dropped by fromObject), a wrong type (a number where OTLP JSON wants a string) or a bad
// id fails it with 400 and an {"error": ...} line in the output.
import { createRequire } from 'node:module';
import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const here = dirname(fileURLToPath(import.meta.url));
const modules = args.modules ?? process.env.OTLP_NODE_MODULES ?? resolve(here, '../../../build/npm/node_modules');
const require = createRequire(resolve(modules, 'noop.js'));
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
const out = args.out;
const record = (obj) => { if (out) appendFileSync(out, JSON.stringify(obj) + '\n'); else console.log(JSON.stringify(obj)); };

// OTLP JSON: ids are hex (not base64 as in the generic protobuf JSON mapping).
const idFields = { traceId: 32, spanId: 16, parentSpanId: 16 };
function hexIdsToBytes(span) {
  for (const [f, len] of Object.entries(idFields)) {
    if (!(f in span)) continue;
    if (typeof span[f] !== 'string' || !new RegExp(`^[0-9a-f]{${len}}$`).test(span[f]))
      throw new Error(`${f} must be ${len} lowercase hex digits, got ${JSON.stringify(span[f])}`);
    span[f] = Buffer.from(span[f], 'hex');
  }
}

const isDefault = (v) => v === 0 || v === '' || v === '0' || v === false || (Array.isArray(v) && v.length === 0);

// Every field of `sent` must come back in `got` with the same value (or be a proto3 default,
// which is not encoded). Ids come back as base64 bytes.
function covers(sent, got, path) {
  if (Array.isArray(sent)) {
    if (!Array.isArray(got) || got.length !== sent.length) throw new Error(`${path}: array length differs`);
    sent.forEach((v, i) => covers(v, got[i], `${path}[${i}]`));
    return;
  }
  if (sent !== null && typeof sent === 'object') {
    for (const [k, v] of Object.entries(sent)) {
      if (got === undefined || !(k in got)) {
        if (isDefault(v) || (v && typeof v === 'object' && Object.keys(v).length === 0)) continue;
        throw new Error(`${path}.${k}: not a field of ExportTraceServiceRequest (dropped by the decoder)`);
      }
      if (k in idFields) {
        if (Buffer.from(got[k], 'base64').toString('hex') !== v) throw new Error(`${path}.${k}: id changed`);
        continue;
      }
      covers(v, got[k], `${path}.${k}`);
    }
    return;
  }
  if (sent !== got) throw new Error(`${path}: sent ${JSON.stringify(sent)} (${typeof sent}), decoded ${JSON.stringify(got)} (${typeof got})`);
}

function check(body) {
  const sent = JSON.parse(body);
  const forProto = JSON.parse(body);
  for (const rs of forProto.resourceSpans ?? [])
    for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) hexIdsToBytes(s);
  const msg = Request.fromObject(forProto);
  const err = Request.verify(msg);
  if (err) throw new Error(`verify: ${err}`);
  const back = Request.toObject(Request.decode(Request.encode(msg).finish()), { longs: String, enums: Number, bytes: String });
  covers(sent, back, 'request');
  return sent;
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.method !== 'POST' || req.url !== '/v1/traces' || !(req.headers['content-type'] ?? '').startsWith('application/json')) {
      record({ error: `unexpected ${req.method} ${req.url} ${req.headers['content-type']}` });
      res.writeHead(404).end();
      return;
    }
    try {
      const r = check(Buffer.concat(chunks).toString('utf8'));
      for (const rs of r.resourceSpans)
        for (const ss of rs.scopeSpans)
          for (const s of ss.spans) {
            const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
            record({ service, scope: ss.scope?.name, ...s });
          }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    } catch (e) {
      record({ error: String(e.message ?? e) });
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ message: String(e) }));
    }
  });
});
server.listen(Number(args.port ?? 4318), '127.0.0.1', () => {
  const { port } = server.address();
  if (args['port-file']) writeFileSync(args['port-file'], String(port));
  console.error(`otlp_receiver: listening on http://127.0.0.1:${port}/v1/traces`);
});
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => server.close(() => process.exit(0)));
