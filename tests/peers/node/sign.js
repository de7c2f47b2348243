#!/usr/bin/env node
// Signs a file with the sigstore-js libraries and writes the Sigstore bundle.
//
//   node sign.js --mode sign|attest --in FILE --out BUNDLE
//       (--fulcio-url URL --rekor-url URL [--tsa-server-url URL]
//        | --signing-config FILE --rekor-version 1|2)
//
// The identity token is read from the SIGSTORE_ID_TOKEN environment variable.
// "sign" makes a message-signature bundle of the file's bytes; "attest" makes a
// DSSE bundle whose payload is the file (an in-toto statement).
// With --fulcio-url the `sigstore` package's sign()/attest() run (Rekor v1:
// hashedrekord and dsse entries). With --signing-config the services come from
// a SigningConfig v0.2 document, keeping only the logs of --rekor-version.
'use strict';

const fs = require('node:fs');
const { parseArgs } = require('node:util');
const sigstore = require('sigstore');
const { bundleBuilderFromSigningConfig } = require('@sigstore/sign');
const { bundleToJSON } = require('@sigstore/bundle');
const { SigningConfig } = require('@sigstore/protobuf-specs');

const PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const TIMEOUT_MS = 30000;

function options() {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string' },
      in: { type: 'string' },
      out: { type: 'string' },
      'fulcio-url': { type: 'string' },
      'rekor-url': { type: 'string' },
      'tsa-server-url': { type: 'string' },
      'signing-config': { type: 'string' },
      'rekor-version': { type: 'string' },
    },
  });
  for (const name of ['mode', 'in', 'out']) {
    if (!values[name]) throw new Error(`missing --${name}`);
  }
  if (!['sign', 'attest'].includes(values.mode)) {
    throw new Error(`--mode must be sign or attest, got ${values.mode}`);
  }
  if (!values['fulcio-url'] === !values['signing-config']) {
    throw new Error('give exactly one of --fulcio-url and --signing-config');
  }
  return values;
}

function identityToken() {
  const token = process.env.SIGSTORE_ID_TOKEN;
  if (!token) throw new Error('SIGSTORE_ID_TOKEN is not set');
  return token;
}

async function signWithURLs(values, data) {
  const settings = {
    fulcioURL: values['fulcio-url'],
    rekorURL: values['rekor-url'],
    tsaServerURL: values['tsa-server-url'],
    identityToken: identityToken(),
    timeout: TIMEOUT_MS,
  };
  return values.mode === 'sign'
    ? sigstore.sign(data, settings)
    : sigstore.attest(data, PAYLOAD_TYPE, settings);
}

function signingConfig(path, rekorVersion) {
  const document = JSON.parse(fs.readFileSync(path, 'utf8'));
  const version = Number(rekorVersion);
  document.rekorTlogUrls = (document.rekorTlogUrls || []).filter(
    (service) => service.majorApiVersion === version
  );
  if (document.rekorTlogUrls.length === 0) {
    throw new Error(`${path} lists no Rekor v${rekorVersion} log`);
  }
  return SigningConfig.fromJSON(document);
}

async function signWithConfig(values, data) {
  const token = identityToken();
  const builder = bundleBuilderFromSigningConfig({
    signingConfig: signingConfig(values['signing-config'], values['rekor-version']),
    identityProvider: { getToken: () => Promise.resolve(token) },
    bundleType: values.mode === 'sign' ? 'messageSignature' : 'dsseEnvelope',
    fetchOptions: { timeout: TIMEOUT_MS, retry: { retries: 0 } },
  });
  const artifact = values.mode === 'sign' ? { data } : { data, type: PAYLOAD_TYPE };
  return bundleToJSON(await builder.create(artifact));
}

async function main() {
  const values = options();
  const data = fs.readFileSync(values.in);
  const bundle = values['signing-config']
    ? await signWithConfig(values, data)
    : await signWithURLs(values, data);
  fs.writeFileSync(values.out, JSON.stringify(bundle));
}

main().catch((error) => {
  process.stderr.write(`sign.js: ${error.stack || error}\n`);
  if (error.cause) process.stderr.write(`caused by: ${error.cause.stack || error.cause}\n`);
  process.exitCode = 1;
});
