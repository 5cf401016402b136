#!/usr/bin/env node
// Independent, offline verifier of the awards service's Open Badges 3.0 credentials.
//
//   node tests/vc/verify.mjs < input.json
//
// input.json:
//   {
//     "credential": { ... },                 the credential to check
//     "documents": { "<url>": { ... } },     controller documents and status list credentials,
//                                            keyed by the URL they are published at
//     "now": "2026-12-01T00:00:00Z"          optional: the verification instant (default: the clock)
//   }
//
// Prints one JSON line:
//   {"schema_valid": bool, "schema_errors": [..], "verified": bool, "revoked": bool, "error": str|null}
// - schema_valid: the credential validates against the OB 3.0 AchievementCredential JSON schema
//   (draft 2019-09, Ajv2019 with formats).
// - verified: the Data Integrity proof (eddsa-rdfc-2022) verifies with a key its controller
//   document lists under assertionMethod, the credential is valid at `now`, and its status list
//   credential (same issuer, itself verified at `now`) does not set its revocation bit.
// - revoked: the status list sets the credential's revocation bit (then verified is false).
// Exit code 0 whatever the outcome; 2 on a usage error (no or malformed input).
//
// Documents are only those given in the input plus the JSON-LD contexts of ./contexts
// (contexts/index.json); any other URL is refused. A URL with a fragment (a verification method
// id) is resolved in the document at its base URL, as a web dereference of the fragment would.
import fs from 'node:fs';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus as bitstringCheckStatus} from '@digitalbazaar/vc-bitstring-status-list';
import Ajv2019 from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';

const here = new URL('./', import.meta.url);
const readJson = path => JSON.parse(fs.readFileSync(new URL(path, here), 'utf8'));

function usage(message) {
  process.stderr.write(`verify.mjs: ${message}\n` +
    'usage: node verify.mjs < input.json\n' +
    '  input: {"credential": {...}, "documents": {"<url>": {...}}, "now": "<xsd:dateTime>"}\n');
  process.exit(2);
}

// ------------------------------------------------------------------ input
if(process.argv.length > 2) {
  usage('no arguments: the input is read from stdin');
}
let input;
try {
  input = JSON.parse(fs.readFileSync(0, 'utf8'));
} catch(e) {
  usage(`stdin is not JSON (${e.message})`);
}
const isObject = x => x !== null && typeof x === 'object' && !Array.isArray(x);
if(!isObject(input) || !isObject(input.credential)) {
  usage('"credential" must be a JSON object');
}
const documents = input.documents ?? {};
if(!isObject(documents)) {
  usage('"documents" must be an object keyed by URL');
}
const now = input.now === undefined ? new Date() : new Date(input.now);
if(typeof (input.now ?? '') !== 'string' || Number.isNaN(now.getTime())) {
  usage('"now" must be a date-time string');
}

// ------------------------------------------------------------------ offline document loader
const contexts = new Map(Object.entries(readJson('contexts/index.json'))
  .map(([url, file]) => [url, readJson(`contexts/${file}`)]));

function resolve(url) {
  if(contexts.has(url)) {
    return contexts.get(url);
  }
  if(Object.hasOwn(documents, url)) {
    return documents[url];
  }
  // A fragment (verification method) of a published document.
  const hash = url.indexOf('#');
  if(hash > 0 && Object.hasOwn(documents, url.slice(0, hash))) {
    const base = documents[url.slice(0, hash)];
    const candidates = ['verificationMethod', 'assertionMethod']
      .flatMap(term => [].concat(base?.[term] ?? []))
      .filter(isObject);
    const node = candidates.find(n => n.id === url);
    if(node) {
      return {'@context': base['@context'], ...node};
    }
  }
  throw new Error(`offline documentLoader: refusing to load "${url}"`);
}

async function documentLoader(url) {
  return {contextUrl: null, documentUrl: url, document: structuredClone(resolve(url))};
}

// ------------------------------------------------------------------ schema
const ajv = new Ajv2019({strict: false, allErrors: true});
addFormats(ajv);
const validateSchema = ajv.compile(readJson('schema/ob_v3p0_achievementcredential_schema.json'));

// ------------------------------------------------------------------ verification
const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});

function messages(result) {
  const found = [];
  const add = e => {
    if(e?.message && !found.includes(e.message)) {
      found.push(e.message);
    }
  };
  for(const e of result?.error?.errors ?? []) {
    add(e);
  }
  for(const r of result?.results ?? []) {
    add(r.error);
  }
  add(result?.error);
  add(result?.statusResult?.error);
  return found.join('; ') || 'not verified';
}

// The status list credential is verified here at `now` (the library would verify it at the
// wall clock), then the library checks the matching issuers and reads the bit.
async function checkStatus({credential}) {
  try {
    for(const entry of [].concat(credential.credentialStatus ?? [])) {
      if(typeof entry?.statusListCredential !== 'string') {
        continue; // the library rejects the entry below
      }
      const {document: list} = await documentLoader(entry.statusListCredential);
      const r = await vc.verifyCredential({credential: list, suite, documentLoader, now});
      if(!r.verified) {
        throw new Error(`status list credential ${entry.statusListCredential} ` +
          `not verified: ${messages(r)}`);
      }
    }
    const r = await bitstringCheckStatus({
      credential, documentLoader, suite,
      verifyBitstringStatusListCredential: false, verifyMatchingIssuers: true
    });
    if(r.verified && r.results.some(x => x.status === true)) {
      return {...r, verified: false, revoked: true,
        error: new Error('revoked: the status list sets the credential\'s revocation bit')};
    }
    return {...r, revoked: false};
  } catch(error) {
    return {verified: false, revoked: false, error};
  }
}

const output = {schema_valid: false, schema_errors: [], verified: false, revoked: false, error: null};
output.schema_valid = validateSchema(input.credential);
output.schema_errors = (validateSchema.errors ?? []).map(e =>
  `${e.instancePath || '/'} ${e.message}${e.params ? ' ' + JSON.stringify(e.params) : ''}`);
try {
  const r = await vc.verifyCredential({
    credential: structuredClone(input.credential), suite, documentLoader, checkStatus, now
  });
  output.verified = r.verified === true;
  output.revoked = r.statusResult?.revoked === true;
  output.error = output.verified ? null : messages(r);
} catch(e) {
  output.error = e.message ?? String(e);
}
process.stdout.write(JSON.stringify(output) + '\n');
process.exitCode = 0;
