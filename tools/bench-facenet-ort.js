// tools/bench-facenet-ort.js - the ONNX Runtime peer of tools/bench-facenet (bench only, never shipped): npm
// onnxruntime-node (its own native library, MLAS kernels) running an ONNX graph of FaceNet made by
// tools/facenet_onnx.py from the same .npy weights (float32, or int8 QDQ with our calibration).
// usage: node bench-facenet-ort.js MODEL.onnx FACES.f32 GOLDEN.jsonl LABEL [--faces N] [--runs R] [--threads 1,2]
// FACES.f32: the golden crops as float32 NCHW (x - 127.5) / 128, 5 x 3 x 160 x 160 (written by bench-facenet.sh).
// Prints "LABEL check: ..." (cosine of each golden crop to its float32 embedding) and per thread count
// "LABEL threads=T ms_per_face=X gflops=Y median_ms=M cpu_ms_per_face=C" (best and median of R x N faces,
// each face timed alone).  Needs NODE_PATH to the folder holding node_modules/onnxruntime-node.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

const GFLOP = 2.83;

async function main() {
  const a = process.argv.slice(2);
  if (a.length < 4) { console.error('usage: bench-facenet-ort.js MODEL.onnx FACES.f32 GOLDEN.jsonl LABEL [--faces N] [--runs R] [--threads 1,2]'); process.exit(2); }
  const [model, facesPath, goldenPath, label] = a;
  let faces = 10, runs = 5, threads = '1,2';
  for (let i = 4; i < a.length; i += 2) {
    if (a[i] === '--faces') faces = +a[i + 1];
    else if (a[i] === '--runs') runs = +a[i + 1];
    else if (a[i] === '--threads') threads = a[i + 1];
    else { console.error('unknown option ' + a[i]); process.exit(2); }
  }
  const buf = fs.readFileSync(facesPath);
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const per = 3 * 160 * 160, n = all.length / per;
  const golden = fs.readFileSync(goldenPath, 'utf8').split('\n').filter(l => l.trim()).map(l => JSON.parse(l).emb);
  const inputs = [];
  for (let i = 0; i < n; i++) inputs.push(new ort.Tensor('float32', all.slice(i * per, (i + 1) * per), [1, 3, 160, 160]));
  let worst = 1;
  for (const t of threads.split(',').map(Number)) {
    const s = await ort.InferenceSession.create(model, {
      intraOpNumThreads: t, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
    if (t === +threads.split(',')[0]) {
      const cos = [];
      for (let i = 0; i < n; i++) {
        const e = (await s.run({ x: inputs[i] })).emb.data;
        let d = 0, na = 0, nb = 0;
        for (let k = 0; k < 512; k++) { d += e[k] * golden[i][k]; na += e[k] * e[k]; nb += golden[i][k] * golden[i][k]; }
        cos.push(d / Math.sqrt(na * nb));
      }
      worst = Math.min(...cos);
      console.log(`${label} check: cosine to the golden float32 embeddings: worst ${worst.toFixed(6)} (onnxruntime-node ${require('onnxruntime-node/package.json').version})`);
    }
    await s.run({ x: inputs[0] }); // warm up
    const tw = [], tc = [];
    for (let r = 0; r < runs; r++)
      for (let f = 0; f < faces; f++) {
        const c0 = process.cpuUsage(), w0 = process.hrtime.bigint();
        await s.run({ x: inputs[f % n] });
        const w1 = process.hrtime.bigint(), c1 = process.cpuUsage(c0);
        tw.push(Number(w1 - w0) / 1e6);
        tc.push((c1.user + c1.system) / 1e3);
      }
    tw.sort((x, y) => x - y); tc.sort((x, y) => x - y);
    console.log(`${label} threads=${t} ms_per_face=${tw[0].toFixed(2)} gflops=${(GFLOP / (tw[0] / 1000)).toFixed(1)} ` +
                `median_ms=${tw[tw.length >> 1].toFixed(2)} cpu_ms_per_face=${tc[0].toFixed(2)}`);
  }
  process.exit(0);
}
main().catch(e => { console.error(e.message || e); process.exit(1); });
