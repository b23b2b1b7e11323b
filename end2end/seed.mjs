#!/usr/bin/env node
// Pushes a tiny test image into a running Silo through the library API, the way
// `apptainer push` does (entity, collection, container, image record, upload, tags), so the
// browser test has something to show without needing Apptainer.
//
//   SILO_URL=http://127.0.0.1:18090 SILO_TOKEN=$(silo token create alice) \
//     node end2end/seed.mjs alice/e2e/hello
//
// Options (environment): SILO_E2E_TAGS (default "latest,1.0"), SILO_E2E_ARCHES (default
// "amd64"; one image per arch), SILO_E2E_PRIVATE=1 (create the collection private),
// SILO_E2E_SIF=<file> (push this SIF image for every arch instead of a few bytes of text,
// which Silo refuses unless it runs with accept_non_sif).
// Safe to run again: existing records are reused and the content is deterministic.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const base = (process.env.SILO_URL || '').replace(/\/+$/, '');
const token = process.env.SILO_TOKEN || '';
const path = process.argv[2] || process.env.SILO_E2E_CONTAINER || '';
const tags = (process.env.SILO_E2E_TAGS || 'latest,1.0').split(',').filter(Boolean);
const arches = (process.env.SILO_E2E_ARCHES || 'amd64').split(',').filter(Boolean);
const makePrivate = process.env.SILO_E2E_PRIVATE === '1';

const parts = path.split('/');
if (!base || !token || parts.length !== 3) {
  console.error('usage: SILO_URL=… SILO_TOKEN=… node end2end/seed.mjs <entity>/<collection>/<container>');
  process.exit(2);
}
const [entity, collection, container] = parts;

async function call(method, url, body, { allow = [] } = {}) {
  const res = await fetch(url.startsWith('http') ? url : base + url, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) {
    if (allow.includes(res.status)) return null;
    throw new Error(`${method} ${url}: HTTP ${res.status} ${text}`);
  }
  return text ? JSON.parse(text).data : null;
}

async function findOrCreate(getUrl, postUrl, body) {
  const found = await call('GET', getUrl, undefined, { allow: [404] });
  if (found) return found;
  return call('POST', postUrl, body);
}

const ent = await findOrCreate(`/v1/entities/${entity}`, '/v1/entities', { name: entity });
const coll = await findOrCreate(`/v1/collections/${entity}/${collection}`, '/v1/collections', {
  name: collection,
  entity: ent.id,
  description: 'Images pushed by the end-to-end tests',
  private: makePrivate,
});
const cont = await findOrCreate(
  `/v1/containers/${entity}/${collection}/${container}`,
  '/v1/containers',
  { name: container, collection: coll.id, description: 'A tiny test image' },
);

for (const arch of arches) {
  const bytes = process.env.SILO_E2E_SIF
    ? readFileSync(process.env.SILO_E2E_SIF)
    : Buffer.from(`Silo end-to-end test image ${path} for ${arch}\n`);
  const sha = createHash('sha256').update(bytes).digest('hex');
  const image = await call('POST', '/v1/images', {
    hash: `sha256.${sha}`,
    container: cont.id,
    description: `test image (${arch})`,
  });
  if (!image.uploaded) {
    const { uploadURL } = await call('POST', `/v2/imagefile/${image.id}`, {
      filesize: bytes.length,
      sha256sum: sha,
    });
    const put = await fetch(uploadURL, { method: 'PUT', body: bytes });
    if (!put.ok) throw new Error(`PUT ${uploadURL}: HTTP ${put.status} ${await put.text()}`);
    await call('PUT', `/v2/imagefile/${image.id}/_complete`, {});
  }
  for (const tag of tags) {
    await call('POST', `/v1/tags/${cont.id}`, { Tag: tag, ImageID: image.id, Arch: arch });
  }
  console.log(`pushed ${path}:${tags.join(',')} (${arch}, sha256 ${sha.slice(0, 12)})`);
}
