// Runs each case's model.onnx in onnxruntime (CPU) on the case's inputs and
// compares every output with dagrad's: |ort - dagrad| <= 1e-5 * max(1, |dagrad|).
//   node tests/onnx/run_onnxruntime.mjs CASE_DIR...
// Prints each output's largest difference; exits 1 if any is over.
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';

const tolerance = 1e-5;

function readFloats(file) {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

let failed = false;
for (const dir of process.argv.slice(2)) {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const session = await ort.InferenceSession.create(path.join(dir, manifest.model));
  const feeds = {};
  for (const input of manifest.inputs) {
    feeds[input.name] = new ort.Tensor('float32', readFloats(path.join(dir, input.file)), input.shape);
  }
  const results = await session.run(feeds);
  for (const output of manifest.outputs) {
    const want = readFloats(path.join(dir, output.file));
    const got = results[output.name];
    const label = `${path.basename(dir)}/${output.name}`;
    if (!got) {
      console.log(`${label}: missing from onnxruntime's outputs`);
      failed = true;
      continue;
    }
    const shape = Array.from(got.dims);
    if (JSON.stringify(shape) !== JSON.stringify(output.shape) || got.data.length !== want.length) {
      console.log(`${label}: shape ${JSON.stringify(shape)}, dagrad's ${JSON.stringify(output.shape)}`);
      failed = true;
      continue;
    }
    let worst = 0, over = 0;
    for (let i = 0; i < want.length; ++i) {
      const d = Math.abs(got.data[i] - want[i]);
      worst = Math.max(worst, d);
      if (!(d <= tolerance * Math.max(1, Math.abs(want[i])))) ++over;
    }
    console.log(`${label}: ${want.length} values, largest difference ${worst.toExponential(2)}` +
                (over ? `, ${over} over ${tolerance}` : ''));
    if (over) failed = true;
  }
}
process.exit(failed ? 1 : 0);
