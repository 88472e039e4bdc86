// End-to-end test of the playground page in headless Chromium.
//   node tests/browser/playground.mjs <playground binary> <screenshot dir>
// Starts the server on a free port with small seven-segment MNIST files it
// writes itself, drives the page as a student would (spiral, graph, backprop,
// MNIST, two tabs) and fails with a message and exit code 1 on any miss.
import puppeteer from 'puppeteer-core';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SPIRAL_SECONDS = Number(process.env.SPIRAL_SECONDS || 90);
const MNIST_SECONDS = Number(process.env.MNIST_SECONDS || 120);
const VIEWPORT = { width: 1400, height: 900 };

class TestFailure extends Error {}
const fail = (message) => {
  throw new TestFailure(message);
};
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
let passed = 0;
const ok = (what) => {
  passed++;
  console.log(`ok ${passed} - ${what} (${elapsed()})`);
};

// ---------- seven-segment MNIST ----------

// Segments a..g of each digit: a top, b top right, c bottom right, d bottom,
// e bottom left, f top left, g middle.
const SEGMENTS = ['abcdef', 'bc', 'abged', 'abgcd', 'fgbc', 'afgcd', 'afgedc', 'abc', 'abcdefg', 'abcdfg'];

function makeDigits(count, seed) {
  let s = seed >>> 0;
  const rand = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const images = Buffer.alloc(count * 784);
  const labels = Buffer.alloc(count);
  for (let n = 0; n < count; n++) {
    const digit = n % 10;
    labels[n] = digit;
    const left = 8 + Math.floor(rand() * 4);
    const width = 9 + Math.floor(rand() * 3);
    const top = 4 + Math.floor(rand() * 3);
    const height = 18 + Math.floor(rand() * 3);
    const thick = 2 + Math.floor(rand() * 2);
    const right = left + width;
    const mid = top + Math.floor(height / 2);
    const bottom = top + height;
    const img = new Float32Array(784);
    const hline = (y, x0, x1) => {
      for (let t = 0; t < thick; t++) for (let x = x0; x <= x1; x++) img[(y + t) * 28 + x] = 1;
    };
    const vline = (x, y0, y1) => {
      for (let t = 0; t < thick; t++) for (let y = y0; y <= y1; y++) img[y * 28 + x + t] = 1;
    };
    for (const seg of SEGMENTS[digit]) {
      if (seg === 'a') hline(top, left, right);
      if (seg === 'g') hline(mid, left, right);
      if (seg === 'd') hline(bottom - thick + 1, left, right);
      if (seg === 'f') vline(left, top, mid);
      if (seg === 'b') vline(right - thick + 1, top, mid);
      if (seg === 'e') vline(left, mid, bottom);
      if (seg === 'c') vline(right - thick + 1, mid, bottom);
    }
    for (let i = 0; i < 784; i++) {
      const v = img[i] * (0.75 + 0.25 * rand()) + (rand() < 0.02 ? 0.3 : 0);
      images[n * 784 + i] = Math.min(255, Math.round(v * 255));
    }
  }
  return { images, labels };
}

function idx(magic, dims, payload) {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, payload]);
}

function writeMnist(dir) {
  const train = makeDigits(600, 1);
  const test = makeDigits(100, 2);
  fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte'), idx(0x803, [600, 28, 28], train.images));
  fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), idx(0x801, [600], train.labels));
  fs.writeFileSync(path.join(dir, 't10k-images-idx3-ubyte'), idx(0x803, [100, 28, 28], test.images));
  fs.writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte'), idx(0x801, [100], test.labels));
}

// ---------- the server ----------

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function startServer(binary, port, dataDir) {
  const child = spawn(binary, ['--port', String(port), '--data', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  const keep = (prefix) => (chunk) => {
    for (const line of chunk.toString().split('\n')) if (line) log.push(prefix + line);
    if (log.length > 200) log.splice(0, log.length - 200);
  };
  child.stderr.on('data', keep('stderr: '));
  const ready = new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new TestFailure(`the server printed no "playground: serving" line in 30 s\n${log.join('\n')}`)), 30000);
    child.stdout.on('data', (chunk) => {
      keep('stdout: ')(chunk);
      out += chunk.toString();
      const m = /playground: serving (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].endsWith('/') ? m[1] : `${m[1]}/`);
      }
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new TestFailure(`cannot start ${binary}: ${e.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new TestFailure(`the server exited (code ${code}, signal ${signal}) before serving\n${log.join('\n')}`));
    });
  });
  return { child, ready, log };
}

function stopServer(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

// ---------- the page ----------

// Console errors and warnings and page errors, per page. HTTP statuses listed
// in `allowed` are expected (a 409 the test provokes on purpose).
function watch(page, name) {
  const w = { problems: [], allowed: new Set() };
  page.on('console', (msg) => {
    const type = msg.type();
    if (type !== 'error' && type !== 'warn' && type !== 'warning' && type !== 'assert') return;
    const text = msg.text();
    const status = /status of (\d{3})/.exec(text);
    if (status && w.allowed.has(Number(status[1]))) return;
    const loc = msg.location();
    w.problems.push(`${name}: console ${type}: ${text}${loc && loc.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
  });
  page.on('pageerror', (err) => w.problems.push(`${name}: page error: ${err.message}`));
  return w;
}

function checkClean(w, when) {
  if (w.problems.length) fail(`console errors or warnings ${when}:\n  ${w.problems.join('\n  ')}`);
}

async function body(page, key) {
  return page.evaluate((k) => document.body.dataset[k], key);
}

async function waitBody(page, what, predicate, arg, timeout = 15000) {
  try {
    await page.waitForFunction(predicate, { timeout, polling: 100 }, arg);
  } catch (e) {
    const data = await page.evaluate(() => ({ ...document.body.dataset, statusText: document.getElementById('status-text').textContent }));
    fail(`timed out (${timeout / 1000} s) waiting for ${what}; page state: ${JSON.stringify(data)}`);
  }
}

async function openPage(browser, url, name) {
  const page = await browser.newPage();
  await page.setViewport(VIEWPORT);
  const w = watch(page, name);
  await page.goto(url, { waitUntil: 'load' });
  await waitBody(page, `${name}: a session and its first state event`, () => document.body.dataset.session && document.body.dataset.epoch !== undefined && document.body.dataset.dataset);
  return { page, w };
}

async function click(page, selector, what) {
  const handle = await page.$(selector);
  if (!handle) fail(`no ${what || selector} on the page (${selector})`);
  await handle.click();
  await handle.dispose();
}

// Changes one config field through the page and waits for the answer: the
// new config, and the data event every config change sends.
async function configure(page, what, selector, key, expected) {
  const before = Number(await body(page, 'dataEvents'));
  await click(page, selector, what);
  await waitBody(page, `${what}: ${key} = ${expected} and a data event`,
    ([k, v, n]) => document.body.dataset[k] === v && Number(document.body.dataset.dataEvents) > n, [key, expected, before]);
}

async function choose(page, selector, value) {
  const current = await page.$eval(selector, (e) => e.value);
  if (current === value) return;
  const before = Number(await body(page, 'dataEvents'));
  await page.select(selector, value);
  await waitBody(page, `${selector} = ${value} and a data event`, (n) => Number(document.body.dataset.dataEvents) > n, before);
}

// ---------- the checks ----------

async function checkTwoTabs(browser, url, first) {
  const dataEvents = await body(first.page, 'dataEvents');
  const id1 = await body(first.page, 'session');
  const second = await openPage(browser, url, 'second tab');
  const id2 = await body(second.page, 'session');
  if (!/^[0-9a-f]{32}$/.test(id1) || !/^[0-9a-f]{32}$/.test(id2)) fail(`session ids are not 32 hex digits: ${id1}, ${id2}`);
  if (id1 === id2) fail(`two tabs got the same session id ${id1}`);
  const before = await body(first.page, 'dataset');
  const other = before === 'xor' ? 'gauss' : 'xor';
  await configure(second.page, `second tab's ${other} data set`, `.dataset[data-key="${other}"]`, 'dataset', other);
  await new Promise((r) => setTimeout(r, 1000));
  const after = await body(first.page, 'dataset');
  const eventsAfter = await body(first.page, 'dataEvents');
  if (after !== before) fail(`the second tab's config change moved the first tab's data set from ${before} to ${after}`);
  if (eventsAfter !== dataEvents) fail(`the first tab got a data event (${dataEvents} -> ${eventsAfter}) when only the second tab changed its config`);
  checkClean(second.w, 'in the second tab');
  await second.page.close({ runBeforeUnload: false });
  // pagehide sent close with sendBeacon: the server no longer knows that session
  let status = 0;
  for (let i = 0; i < 30 && status !== 404; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const res = await fetch(`${url}api/sessions/${id2}/config`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    status = res.status;
    await res.text();
  }
  if (status !== 404) fail(`closing the second tab did not close its session: POST config still answers ${status}`);
  ok(`two tabs have their own sessions (${id1.slice(0, 8)}…, ${id2.slice(0, 8)}…) and configs; closing a tab closes its session`);
}

async function trainSpiral(page, w, shotDir) {
  await configure(page, 'the spiral data set', '.dataset[data-key="spiral"]', 'dataset', 'spiral');
  let features = (await body(page, 'features')).split(',');
  for (const f of ['x1', 'x2', 'x1sq', 'x2sq', 'x1x2', 'sinx1', 'sinx2']) {
    if (features.includes(f)) continue;
    const next = ['x1', 'x2', 'x1sq', 'x2sq', 'x1x2', 'sinx1', 'sinx2'].filter((k) => k === f || features.includes(k));
    await configure(page, `feature ${f}`, `.neuron.feature[data-feature="${f}"]`, 'features', next.join(','));
    features = next;
  }
  // two hidden layers of 8 neurons
  let hidden = (await body(page, 'hidden')).split(',').filter(Boolean).map(Number);
  while (hidden.length < 2) {
    hidden = [...hidden, 2];
    await configure(page, 'another hidden layer', '#btn-add-layer', 'hidden', hidden.join(','));
  }
  while (hidden.length > 2) {
    hidden = hidden.slice(0, -1);
    await configure(page, 'one hidden layer less', '#btn-remove-layer', 'hidden', hidden.join(','));
  }
  for (let k = 0; k < 2; k++) {
    while (hidden[k] < 8) {
      hidden = hidden.map((n, i) => (i === k ? n + 1 : n));
      await configure(page, `a neuron in layer ${k + 1}`, `button[data-action="add-neuron"][data-layer="${k}"]`, 'hidden', hidden.join(','));
    }
  }
  await choose(page, '#cfg-learning_rate', '0.03');
  await choose(page, '#cfg-activation', 'tanh');
  checkClean(w, 'while setting up the spiral');
  ok('spiral with all seven features and two hidden layers of 8');

  await click(page, '#btn-play', 'play button');
  await waitBody(page, 'training to start', () => document.body.dataset.playing === 'true');
  const t0 = Date.now();
  try {
    // the loss the server sent and the one the page shows
    await page.waitForFunction(() => Number(document.body.dataset.testLoss) < 0.1 && Number(document.getElementById('test-loss').textContent) < 0.1,
      { timeout: SPIRAL_SECONDS * 1000, polling: 250 });
  } catch (e) {
    fail(`the spiral's test loss did not fall below 0.1 in ${SPIRAL_SECONDS} s: epoch ${await body(page, 'epoch')}, test loss ${await body(page, 'testLoss')}, training loss ${await body(page, 'trainLoss')}`);
  }
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  const shown = await page.$eval('#test-loss', (e) => e.textContent);
  const epoch = await body(page, 'epoch');
  await page.screenshot({ path: path.join(shotDir, 'playground.png'), fullPage: true });
  ok(`spiral learned: test loss ${shown} at epoch ${epoch} after ${seconds} s`);

  await click(page, '#btn-play', 'pause button');
  await waitBody(page, 'training to pause', () => document.body.dataset.playing === 'false');
  checkClean(w, 'while training the spiral');
}

async function walkBackprop(page, w, shotDir) {
  await click(page, '#tab-graph', 'Graph & backprop tab');
  await page.waitForSelector('#graph-view svg g.node', { timeout: 20000 }).catch(() => fail('the graph did not appear in the graph panel in 20 s'));
  const nodes = await page.$$eval('#graph-view svg g.node', (gs) => gs.map((g) => g.id));
  if (!nodes.every((id) => /^n\d+$/.test(id))) fail(`graph nodes without an n<ID> id: ${nodes.filter((id) => !/^n\d+$/.test(id)).slice(0, 5).join(', ')}`);
  ok(`the graph is inline SVG with ${nodes.length} nodes`);

  await click(page, '#btn-random-point', 'random point button');
  await waitBody(page, 'the backprop steps', () => document.body.dataset.backpropIndex === '0' && Number(document.body.dataset.backpropSteps) > 0, undefined, 20000);
  const count = Number(await body(page, 'backpropSteps'));
  const steps = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) {
      await click(page, '#bp-next', 'Next button');
      await waitBody(page, `backprop step ${i}`, (k) => document.body.dataset.backpropIndex === String(k), i);
    }
    const step = await page.evaluate(() => {
      const id = document.body.dataset.backpropNode;
      const g = document.querySelector(`#graph-view svg g#n${id}`);
      return {
        node: Number(id),
        pass: document.body.dataset.backpropPass,
        inSvg: !!g,
        highlighted: !!g && g.classList.contains('bp-current'),
        text: document.getElementById('bp-text').textContent,
      };
    });
    if (!step.inSvg) fail(`backprop step ${i} highlights node ${step.node}, which is not a g#n${step.node} in the inline svg`);
    if (!step.highlighted) fail(`backprop step ${i}: g#n${step.node} does not carry the highlight class`);
    if (!step.text) fail(`backprop step ${i} shows no text`);
    if (step.pass !== 'forward' && step.pass !== 'backward') fail(`backprop step ${i} has pass "${step.pass}"`);
    steps.push(step);
    if (i === Math.floor(count * 0.75)) await page.screenshot({ path: path.join(shotDir, 'graph.png') });
  }
  const forward = steps.filter((s) => s.pass === 'forward').map((s) => s.node);
  const backward = steps.filter((s) => s.pass === 'backward').map((s) => s.node);
  if (!forward.length || !backward.length) fail(`backprop has ${forward.length} forward and ${backward.length} backward steps; want both`);
  const firstBackward = steps.findIndex((s) => s.pass === 'backward');
  if (steps.slice(firstBackward).some((s) => s.pass === 'forward')) fail('a forward step comes after a backward step');
  for (let i = 1; i < forward.length; i++) {
    if (!(forward[i] > forward[i - 1])) fail(`forward steps are not in topological order: node ${forward[i]} after ${forward[i - 1]} (${forward.join(' ')})`);
  }
  for (let i = 1; i < backward.length; i++) {
    if (!(backward[i] > backward[i - 1])) fail(`backward steps are not in the order the backward pass creates them: node ${backward[i]} after ${backward[i - 1]} (${backward.join(' ')})`);
  }
  if (!(backward[0] > forward[forward.length - 1])) fail(`the first backward node ${backward[0]} was not created after the forward nodes (last ${forward[forward.length - 1]})`);
  // The highlighted gradients come in the forward graph's reverse
  // topological order: for every forward edge u -> v, v's gradient node is
  // highlighted before u's (the graph's edges from the server's nodes API).
  const order = await page.evaluate(async (forwardIds, backwardIds) => {
    const session = document.body.dataset.session;
    const node = async (id) => (await fetch(`/api/sessions/${session}/nodes/${id}`)).json();
    const gradAt = new Map();  // forward node id -> position of its gradient among the highlighted
    for (let i = 0; i < backwardIds.length; i++) {
      const n = await node(backwardIds[i]);
      const of = n.name.match(/^grad\((.*)\)$/);
      if (of) gradAt.set(of[1], i);
    }
    let edges = 0;
    const wrong = [];
    for (const id of forwardIds) {
      const v = await node(id);
      for (const u of v.inputs) {
        const uName = (await node(u)).name;
        if (gradAt.has(v.name) && gradAt.has(uName)) {
          edges++;
          if (!(gradAt.get(v.name) < gradAt.get(uName))) wrong.push(`${uName} -> ${v.name}`);
        }
      }
    }
    return { edges, wrong };
  }, forward, backward);
  if (order.wrong.length) fail(`gradients highlighted out of reverse topological order for edges ${order.wrong.join(', ')}`);
  if (order.edges < 8) fail(`only ${order.edges} forward edges had both gradients highlighted`);
  await click(page, '#bp-prev', 'Previous button');
  await waitBody(page, 'Previous to go back one step', (k) => document.body.dataset.backpropIndex === String(k), count - 2);
  ok(`backprop walked: ${forward.length} forward steps then ${backward.length} backward steps, ids in creation order, gradients in reverse topological order over ${order.edges} edges`);

  // a node's whole value and gradient
  const target = forward[Math.floor(forward.length / 2)];
  await page.evaluate((id) => {
    const g = document.querySelector(`#graph-view svg g#n${id}`);
    g.scrollIntoView({ block: 'center', inline: 'center' });
  }, target);
  const handle = await page.$(`#graph-view svg g#n${target}`);
  await handle.click();
  await waitBody(page, `node ${target}'s details`, (id) => document.body.dataset.nodeId === String(id) && document.querySelectorAll('#node-info table.values td').length > 0, target);
  const cells = await page.$$eval('#node-info table.values.value td', (tds) => tds.map((td) => td.textContent));
  if (!cells.length || !cells.every((t) => t === '' || Number.isFinite(Number(t)))) fail(`node ${target}'s value table has no numbers: ${cells.slice(0, 5).join(', ')}`);
  ok(`clicking node ${target} shows its value table (${cells.length} cells)`);

  await click(page, '#btn-live-graph', 'back to the live graph');
  await page.waitForFunction(() => !document.getElementById('graph-view').classList.contains('bp-mode') && document.querySelector('#graph-view svg g.node'), { timeout: 20000 })
    .catch(() => fail('the live graph did not come back'));
  checkClean(w, 'in the graph panel');
}

async function drawStroke(page, points) {
  const box = await (await page.$('#draw')).boundingBox();
  const at = ([x, y]) => [box.x + (x / 280) * box.width, box.y + (y / 280) * box.height];
  await page.mouse.move(...at(points[0]));
  await page.mouse.down();
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1];
    const [x1, y1] = points[i];
    for (let t = 1; t <= 8; t++) await page.mouse.move(...at([x0 + ((x1 - x0) * t) / 8, y0 + ((y1 - y0) * t) / 8]));
  }
  await page.mouse.up();
}

async function mnist(page, w, shotDir) {
  await click(page, '#tab-mnist', 'MNIST tab');
  // before any epoch the server answers 409: the page shows its message
  w.allowed.add(409);
  const seven = [[70, 60], [200, 60], [130, 230]];
  await drawStroke(page, seven);
  await page.waitForFunction(() => document.getElementById('mnist-message').classList.contains('error') && document.getElementById('mnist-message').textContent.length > 0, { timeout: 10000 })
    .catch(() => fail('drawing before training showed no error message from the server'));
  const message = await page.$eval('#mnist-message', (e) => e.textContent);
  w.allowed.delete(409);
  ok(`before training, the page shows the server's answer: "${message}"`);

  await click(page, '#mnist-play', 'MNIST play button');
  await waitBody(page, 'MNIST epoch >= 1', () => Number(document.body.dataset.mnistEpoch) >= 1, undefined, MNIST_SECONDS * 1000);
  const weights = await page.$$eval('#mnist-weights canvas', (cs) => cs.length);
  if (weights !== 50) fail(`the MNIST weight grid has ${weights} images, not 50`);
  ok(`MNIST trained one epoch; ${weights} weight images shown`);

  await click(page, '#draw-clear', 'Clear button');
  await drawStroke(page, seven);
  await waitBody(page, 'a prediction', () => document.body.dataset.prediction !== undefined, undefined, 10000);
  const result = await page.evaluate(() => ({
    digit: document.getElementById('prediction').textContent,
    sum: Number(document.body.dataset.probabilitySum),
    bars: [...document.querySelectorAll('#probs rect[data-digit]')].map((r) => Number(r.dataset.probability)),
  }));
  if (!/^[0-9]$/.test(result.digit)) fail(`the prediction shown is "${result.digit}", not a digit`);
  if (result.bars.length !== 10) fail(`${result.bars.length} probability bars, not 10`);
  const barSum = result.bars.reduce((a, b) => a + b, 0);
  if (Math.abs(result.sum - 1) > 1e-3 || Math.abs(barSum - 1) > 1e-3) fail(`the ten probabilities sum to ${result.sum} (bars ${barSum}), not 1`);
  await page.screenshot({ path: path.join(shotDir, 'mnist.png'), fullPage: true });
  await click(page, '#mnist-play', 'MNIST pause button');
  await waitBody(page, 'MNIST to pause', () => document.body.dataset.mnistPlaying === 'false', undefined, 30000);
  checkClean(w, 'in the MNIST tab');
  ok(`drawn seven read as ${result.digit}; probabilities sum to ${result.sum.toFixed(4)}`);
}

async function main() {
  const [binary, shotDir] = process.argv.slice(2);
  if (!binary || !shotDir) {
    console.error('usage: node tests/browser/playground.mjs <playground binary> <screenshot dir>');
    process.exit(2);
  }
  fs.mkdirSync(shotDir, { recursive: true });
  // PLAYGROUND_MNIST=DIR: the real MNIST files instead of generated digits
  // (for the screenshots in docs/playground.md); the checks are the same.
  const realMnist = process.env.PLAYGROUND_MNIST;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'playground-mnist-'));
  if (realMnist) {
    for (const name of fs.readdirSync(realMnist)) fs.copyFileSync(path.join(realMnist, name), path.join(dataDir, name));
  } else {
    writeMnist(dataDir);
  }
  const port = await freePort();
  const server = startServer(path.resolve(binary), port, dataDir);
  // an interrupted test still stops the server it started
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      server.child.kill('SIGTERM');
      fs.rmSync(dataDir, { recursive: true, force: true });
      process.exit(1);
    });
  }
  let browser = null;
  let status = 0;
  try {
    const url = await server.ready;
    ok(`server up at ${url}`);
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: 'new', args: ['--no-sandbox'] });
    const first = await openPage(browser, url, 'page');
    checkClean(first.w, 'on loading the page');
    ok('the page loads, makes a session and gets its events, with a clean console');
    await checkTwoTabs(browser, url, first);
    await trainSpiral(first.page, first.w, shotDir);
    await walkBackprop(first.page, first.w, shotDir);
    await mnist(first.page, first.w, shotDir);
    checkClean(first.w, 'at the end');
    console.log(`${passed} passed, 0 failed (${elapsed()}); screenshots in ${shotDir}`);
  } catch (e) {
    status = 1;
    console.error(`FAIL: ${e instanceof TestFailure ? e.message : e.stack || e}`);
    if (server.log.length) console.error(`server output (last lines):\n${server.log.slice(-30).join('\n')}`);
    console.log(`${passed} passed, 1 failed (${elapsed()})`);
  } finally {
    if (browser) await browser.close().catch(() => {});
    await stopServer(server.child);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(status);
}

main();
