// End-to-end test of the playground page in headless Chromium.
//   node tests/browser/playground.mjs <playground binary> <screenshot dir>
// Starts the server on a free port with small seven-segment MNIST files it
// writes itself, drives the page as a student would (spiral, graph, backprop,
// MNIST, export, two tabs, settings in the address, a diverging network) at
// 1280x800 and on a 390x844 phone, and fails with a message and exit code 1
// on any miss.
import puppeteer from 'puppeteer-core';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SPIRAL_SECONDS = Number(process.env.SPIRAL_SECONDS || 90);
const MNIST_SECONDS = Number(process.env.MNIST_SECONDS || 120);
const VIEWPORT = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844, isMobile: true, hasTouch: true };

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

async function openPage(browser, url, name, viewport = VIEWPORT) {
  const page = await browser.newPage();
  await page.setViewport(viewport);
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


// ---------- layout ----------

// Runs in the page: what lies outside the viewport's width, and which
// controls lie on top of each other, in the header and the shown tab. An
// element counts as far as it is visible: a box that scrolls or clips cuts
// what it holds (the network's and the graph's scrolling boxes).
function layoutProblems() {
  const vw = document.documentElement.clientWidth;
  const problems = [];
  const describe = (e) => {
    const cls = typeof e.className === 'string' && e.className.trim() ? `.${e.className.trim().split(/\s+/).join('.')}` : '';
    const key = e.dataset && (e.dataset.key || e.dataset.feature || e.dataset.tab || e.dataset.layer || e.dataset.action);
    return `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${cls}${key ? `[${key}]` : ''}`;
  };
  const visibleBox = (e) => {
    const r = e.getBoundingClientRect();
    const box = { l: r.left, t: r.top, r: r.right, b: r.bottom };
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      const cs = getComputedStyle(a);
      const ar = a.getBoundingClientRect();
      if (cs.overflowX !== 'visible') {
        box.l = Math.max(box.l, ar.left);
        box.r = Math.min(box.r, ar.right);
      }
      if (cs.overflowY !== 'visible') {
        box.t = Math.max(box.t, ar.top);
        box.b = Math.min(box.b, ar.bottom);
      }
    }
    return box;
  };
  if (document.documentElement.scrollWidth > vw + 1) problems.push(`the page is ${document.documentElement.scrollWidth} px wide in a ${vw} px viewport`);
  const shown = [...document.querySelectorAll('header *, .statusbar *, .tabpanel:not(.hidden) *')].filter((e) => {
    const cs = getComputedStyle(e);
    if (cs.visibility === 'hidden' || cs.display === 'none') return false;
    const b = visibleBox(e);
    return b.r - b.l > 0.5 && b.b - b.t > 0.5;
  });
  for (const e of shown) {
    const b = visibleBox(e);
    if (b.l < -1 || b.r > vw + 1) problems.push(`${describe(e)} spans x ${b.l.toFixed(0)} to ${b.r.toFixed(0)}, outside 0 to ${vw}`);
  }
  const controls = shown.filter((e) => e.matches('button, select, input, textarea, a[href], canvas, .neuron, .layer-label, .feature-name'));
  for (let i = 0; i < controls.length; i++) {
    for (let j = i + 1; j < controls.length; j++) {
      const a = controls[i];
      const c = controls[j];
      if (a.contains(c) || c.contains(a)) continue;
      const p = visibleBox(a);
      const q = visibleBox(c);
      const w = Math.min(p.r, q.r) - Math.max(p.l, q.l);
      const h = Math.min(p.b, q.b) - Math.max(p.t, q.t);
      if (w > 1 && h > 1) problems.push(`${describe(a)} and ${describe(c)} overlap by ${w.toFixed(0)} x ${h.toFixed(0)} px`);
    }
  }
  return { problems: problems.slice(0, 10), count: problems.length, elements: shown.length, controls: controls.length };
}

async function checkLayout(page, where) {
  const r = await page.evaluate(layoutProblems);
  if (r.count) fail(`${where}: ${r.count} layout problems:\n  ${r.problems.join('\n  ')}`);
  return r;
}

// ---------- the checks ----------


// One epoch through the Step button; the losses the page got for it, as the
// server's JSON wrote them.
async function stepEpoch(page) {
  const before = Number(await body(page, 'epoch'));
  await click(page, '#btn-step', 'Step button');
  await waitBody(page, `epoch ${before + 1}`, (n) => Number(document.body.dataset.epoch) === n + 1, before);
  return [await body(page, 'trainLoss'), await body(page, 'testLoss')];
}

// Settings in the address: a link sets the network, a second load of it
// trains to the same losses, a change goes into the address and a reload
// keeps it; a bad value is named.
const LINK = '#activation=relu&batchSize=5&dataset=gauss&learningRate=0.1&networkShape=3,2&noise=10&percTrainData=60' +
  '&regularization=l2&regularizationRate=0.001&seed=42&x=true&y=true&xSquared=false&ySquared=false&xTimesY=true&sinX=false&sinY=false';

async function trainFromLink(browser, url, name) {
  const { page, w } = await openPage(browser, url + LINK, name);
  const shown = await page.evaluate(() => ({
    dataset: document.body.dataset.dataset,
    features: document.body.dataset.features,
    hidden: document.body.dataset.hidden,
    controls: ['learning_rate', 'activation', 'regularization', 'regularization_rate', 'noise', 'train_ratio', 'batch_size']
      .map((k) => `${k}=${document.getElementById(`cfg-${k}`).value}`).join(' '),
    seed: document.getElementById('seed-value').textContent,
  }));
  const want = { dataset: 'gauss', features: 'x1,x2,x1x2', hidden: '3,2', seed: '42',
    controls: 'learning_rate=0.1 activation=relu regularization=l2 regularization_rate=0.001 noise=10 train_ratio=60 batch_size=5' };
  if (JSON.stringify(shown) !== JSON.stringify({ ...shown, ...want })) fail(`${name}: the link set ${JSON.stringify(shown)}, not ${JSON.stringify(want)}`);
  const losses = [[await body(page, 'trainLoss'), await body(page, 'testLoss')]];
  for (let i = 0; i < 6; i++) losses.push(await stepEpoch(page));
  checkClean(w, `in ${name}`);
  return { page, w, losses };
}

async function urlSettings(browser, url) {
  const one = await trainFromLink(browser, url, 'a page from a link');
  const two = await trainFromLink(browser, url, 'a second load of the link');
  if (JSON.stringify(one.losses) !== JSON.stringify(two.losses)) {
    fail(`two loads of one link trained to different losses:\n  ${JSON.stringify(one.losses)}\n  ${JSON.stringify(two.losses)}`);
  }
  if (one.losses.some(([a, b]) => !Number.isFinite(Number(a)) || !Number.isFinite(Number(b)))) fail(`losses not numbers: ${JSON.stringify(one.losses)}`);
  ok(`a link's settings load, and two loads train to the same ${one.losses.length} pairs of losses (test ${Number(one.losses[6][1]).toFixed(4)} at epoch 6)`);
  // a page in the background draws nothing: bring it up and let it draw a frame
  await one.page.bringToFront();
  await one.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await checkLossLines(one.page, one.losses);
  await one.page.close();

  const page = two.page;
  await choose(page, '#cfg-activation', 'tanh');
  await configure(page, 'the spiral data set', '.dataset[data-key="spiral"]', 'dataset', 'spiral');
  const hash = await page.evaluate(() => location.hash);
  if (!hash.includes('activation=tanh') || !hash.includes('dataset=spiral') || !hash.includes('networkShape=3,2')) fail(`the address did not follow the changes: ${hash}`);
  await page.reload({ waitUntil: 'load' });
  await waitBody(page, 'the reloaded page\'s session', () => document.body.dataset.session && document.body.dataset.epoch !== undefined && document.body.dataset.dataset);
  const after = await page.evaluate(() => [document.body.dataset.dataset, document.getElementById('cfg-activation').value, document.body.dataset.hidden]);
  if (after.join(' ') !== 'spiral tanh 3,2') fail(`after a reload the page shows ${after.join(' ')}, not spiral tanh 3,2`);

  await page.goto(`${url}#learningRate=fast&dataset=moons&networkShape=5`, { waitUntil: 'load' });
  await waitBody(page, 'the bad link\'s message', () => document.body.dataset.status === 'error');
  const message = await page.$eval('#status-text', (e) => e.textContent);
  if (!/learningRate/.test(message) || !/dataset/.test(message) || !/moons/.test(message)) fail(`a bad link's message does not name learningRate and dataset: "${message}"`);
  await waitBody(page, 'the good part of the bad link', () => document.body.dataset.hidden === '5');
  checkClean(two.w, 'after a reload and a bad link');
  await page.close();
  ok(`the address follows the settings (${hash.length} characters) and a reload keeps them; a bad link is named: "${message.slice(0, 90)}…"`);
}

// The training line stays visible where it meets the test line: along the
// training losses' path (the chart's geometry: 4 px padding, 0 at the
// bottom, the largest loss at the top) nearly every column has a pixel of
// the training line's blue (the test line is near black, the chart near
// white: neither has blue well above red).
async function checkLossLines(page, losses) {
  const r = await page.evaluate((series) => {
    const c = document.getElementById('loss-chart');
    const w = c.clientWidth;
    const h = c.clientHeight;
    const scale = c.width / w;
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const train = series.map(([t]) => Number(t));
    const yMax = Math.max(...series.flat().map(Number));
    const pad = 4;
    let good = 0;
    let columns = 0;
    let gap = 0;
    for (let x = pad + 1; x < w - pad - 1; x++) {
      const f = ((x - pad) / (w - 2 * pad)) * (train.length - 1);
      const i = Math.min(train.length - 2, Math.floor(f));
      const v = train[i] + (train[i + 1] - train[i]) * (f - i);
      const y = h - pad - (v / yMax) * (h - 2 * pad);
      let blue = false;
      for (let dy = -2; dy <= 2; dy++) {
        const k = (Math.round((y + dy) * scale) * c.width + Math.round(x * scale)) * 4;
        if (px[k + 2] - px[k] > 50) blue = true;
      }
      columns++;
      if (blue) good++;
      const test = Number(series[i][1]) + (Number(series[i + 1][1]) - Number(series[i][1])) * (f - i);
      gap = Math.max(gap, Math.abs(test - v) / yMax * (h - 2 * pad));
    }
    return { good, columns, gap };
  }, losses);
  if (r.good < 0.9 * r.columns) fail(`the training loss line shows in ${r.good} of ${r.columns} columns of the loss chart (the test line covers it)`);
  ok(`the training line shows over the test line in ${r.good} of ${r.columns} columns (the lines at most ${r.gap.toFixed(1)} px apart)`);
}

// Learning rate 10 with L2 at 10: the page says it diverged, with the last
// finite losses it showed, and pauses.
async function diverge(browser, url) {
  const { page, w } = await openPage(browser, `${url}#dataset=circle&learningRate=10&regularization=l2&regularizationRate=10&seed=5`, 'a diverging network');
  // the last test loss the server sent as a number, as the page writes it
  let last = null;
  for (let i = 0; i < 40; i++) {
    const loss = await body(page, 'testLoss');
    if (loss === 'null' || loss === 'NaN') break;
    last = Number(loss).toFixed(3);
    await stepEpoch(page);
  }
  if (last === null) fail('the network diverged before its first epoch');
  await waitBody(page, 'the diverged message', () => document.body.dataset.diverged === 'true' && !document.getElementById('diverged').classList.contains('hidden'));
  const r = await page.evaluate(() => ({
    message: document.getElementById('diverged').textContent,
    loss: document.getElementById('test-loss').textContent,
    note: !document.getElementById('heatmap-note').classList.contains('hidden'),
    status: document.getElementById('status-text').textContent,
    epoch: document.body.dataset.epoch,
  }));
  if (!/Diverged at epoch \d+/.test(r.message)) fail(`the diverged message says "${r.message}"`);
  if (!r.message.includes(`test ${last}`)) fail(`the diverged message "${r.message}" does not give the last finite test loss shown, ${last}`);
  if (r.loss !== 'diverged' || !r.note || !/diverged/.test(r.status)) fail(`diverged, the page shows loss "${r.loss}", map note ${r.note}, status "${r.status}"`);
  checkClean(w, 'while diverging');
  await page.close();
  ok(`learning rate 10 with L2 10 diverges at epoch ${r.epoch}: "${r.message.slice(0, 100)}…"`);
}

// The Export tab shows the program the server writes, and follows the config.
async function exportTab(page, w) {
  await click(page, '#tab-export', 'Export tab');
  await waitBody(page, 'the exported program', () => Number(document.body.dataset.exportLines) > 0);
  const r = await page.evaluate(async () => {
    const shown = document.getElementById('export-code').textContent;
    const served = await (await fetch(document.getElementById('export-cpp').href)).text();
    return { same: shown === served, length: shown.length, lines: shown.split('\n').length, sgd: shown.includes('nn::SGD') };
  });
  if (!r.same || !r.sgd) fail(`the Export tab's program is not the served export.cpp (same ${r.same}, nn::SGD ${r.sgd})`);
  await checkLayout(page, 'desktop, Export tab');
  checkClean(w, 'in the Export tab');
  ok(`the Export tab shows the ${r.lines}-line program the server exports`);
}

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
  await collapsedLayers(page, nodes.length);
  await checkLayout(page, 'desktop, Graph tab');

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

  await nodeTable(page, forward);
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


// Runs in the page: the layer boxes, and how tall their words and the
// nodes' words are on the screen.
function graphReadout() {
  const view = document.getElementById('graph-view');
  const shownNodes = [...view.querySelectorAll('g.node')].filter((g) => getComputedStyle(g).visibility !== 'hidden');
  const textHeight = (t) => (t ? t.getBoundingClientRect().height : 0);
  return {
    boxes: [...view.querySelectorAll('g.layer-box')].map((b) => ({ layer: b.dataset.layer, name: textHeight(b.querySelector('.layer-name')) })),
    shown: shownNodes.length,
    shownText: shownNodes.map((g) => textHeight(g.querySelector('text'))),
    expanded: [...view.querySelectorAll('g.cluster.expanded')].map((g) => g.dataset.layer),
  };
}

// The live graph of the spiral's network comes collapsed by layers, each a
// box whose name reads at 10 px or more; a click on one shows its nodes,
// zoomed to read; "Expand all" shows every node.
async function collapsedLayers(page, total) {
  await waitBody(page, 'the layers collapsed', () => Number(document.body.dataset.graphCollapsed) >= 3);
  const before = await page.evaluate(graphReadout);
  const small = before.boxes.filter((b) => b.name < 10);
  if (small.length) fail(`collapsed layers whose names are under 10 px on the screen: ${JSON.stringify(small)}`);
  if (before.shown > total / 3) fail(`collapsed, ${before.shown} of ${total} nodes still show`);
  const layer = before.boxes.find((b) => b.layer === 'hidden1') || before.boxes[0];
  await click(page, `#graph-view g.layer-box[data-layer="${layer.layer}"]`, `the ${layer.layer} box`);
  await waitBody(page, `${layer.layer} expanded`, (name) => !!document.querySelector(`#graph-view g.cluster.expanded[data-layer="${name}"]`), layer.layer);
  const open = await page.evaluate(graphReadout);
  if (open.boxes.length !== before.boxes.length - 1 || open.shown <= before.shown) fail(`expanding ${layer.layer}: ${before.boxes.length} -> ${open.boxes.length} boxes, ${before.shown} -> ${open.shown} nodes shown`);
  const readable = open.shownText.filter((h) => h >= 9).length;
  if (readable < (open.shown - before.shown) / 2) fail(`after expanding ${layer.layer}, only ${readable} of ${open.shown} shown nodes have words 9 px or taller`);
  await click(page, '#btn-collapse', 'Expand all button');
  await waitBody(page, 'every layer expanded', () => document.body.dataset.graphCollapsed === '0');
  const all = await page.evaluate(graphReadout);
  if (all.shown !== total || all.boxes.length) fail(`"Expand all" shows ${all.shown} of ${total} nodes and ${all.boxes.length} boxes`);
  ok(`the graph opens as ${before.boxes.length} layer boxes (names ${Math.min(...before.boxes.map((b) => b.name)).toFixed(0)} px tall); clicking ${layer.layer} shows its ${open.shown - before.shown} nodes; Expand all shows all ${total}`);
}

// A node with a column per neuron of an 8-wide layer: every column in view.
async function nodeTable(page, forward) {
  const wide = await page.evaluate(async (ids) => {
    const session = document.body.dataset.session;
    for (const id of ids) {
      const n = await (await fetch(`/api/sessions/${session}/nodes/${id}`)).json();
      if (n.shape[1] === 8 && n.grad) return { id, name: n.name };
    }
    return null;
  }, forward);
  if (!wide) fail('no forward node with 8 columns and a gradient in the spiral network');
  await page.evaluate((id) => document.querySelector(`#graph-view svg g#n${id}`).scrollIntoView({ block: 'center', inline: 'center' }), wide.id);
  await click(page, `#graph-view svg g#n${wide.id}`, `node ${wide.name}`);
  await waitBody(page, `node ${wide.id}'s tables`, (id) => document.body.dataset.nodeId === String(id) && document.querySelectorAll('#node-info table.values').length === 2, wide.id);
  const tables = await page.$$eval('#node-info .table-wrap', (ws) => ws.map((w) => ({
    columns: w.querySelectorAll('tr:first-child th').length - 1, scroll: w.scrollWidth, width: w.clientWidth,
  })));
  for (const t of tables) {
    if (t.columns !== 8 || t.scroll > t.width + 1) fail(`${wide.name}'s table has ${t.columns} columns, ${t.scroll} px wide in a ${t.width} px panel: columns are cut`);
  }
  ok(`${wide.name}'s value and gradient tables show all 8 columns (${tables.map((t) => `${t.scroll} of ${t.width} px`).join(', ')})`);
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
  // The words follow the training: the epoch under way (of the event
  // drawn last), the bar's percent, and no "first epoch" note once an epoch
  // is done.
  for (let i = 0; i < 5; i++) {
    const p = await page.evaluate(() => ({
      text: document.getElementById('mnist-progress-text').textContent,
      bar: document.getElementById('mnist-progress').style.width,
      message: document.getElementById('mnist-message').textContent,
      epoch: Number(document.body.dataset.mnistShownEpoch),
    }));
    const m = /epoch (\d+)\D+?(\d+)%/.exec(p.text);
    if (/first epoch/.test(p.message + (p.epoch >= 1 ? p.text : ''))) fail(`at MNIST epoch ${p.epoch} the page still says "${p.message} ${p.text}"`);
    if (p.text.startsWith('Training') && (!m || Number(m[1]) !== p.epoch + 1 || `${m[2]}%` !== p.bar)) {
      fail(`MNIST at epoch ${p.epoch}: the text "${p.text}" and the bar (${p.bar}) disagree`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
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
  await checkLayout(page, 'desktop, MNIST tab');
  await click(page, '#mnist-play', 'MNIST pause button');
  await waitBody(page, 'MNIST to pause', () => document.body.dataset.mnistPlaying === 'false', undefined, 30000);
  checkClean(w, 'in the MNIST tab');
  ok(`drawn seven read as ${result.digit}; probabilities sum to ${result.sum.toFixed(4)}`);
}


// Runs in the page: boxes of one kind that overlap, as "a and b".
function overlapsOf(selector) {
  const boxes = [...document.querySelectorAll(selector)].map((e) => [e, e.getBoundingClientRect()]);
  const out = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, p] = boxes[i];
      const [b, q] = boxes[j];
      if (Math.min(p.right, q.right) - Math.max(p.left, q.left) > 1 && Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top) > 1) {
        out.push(`${a.textContent || a.dataset.tip} / ${b.textContent || b.dataset.tip}`);
      }
    }
  }
  return out;
}

// Six hidden layers of eight: neurons and headers apart, every header's
// words whole; on a narrow screen the network scrolls inside its card.
async function sixByEight(page, where) {
  const r = await page.evaluate((fn) => {
    const overlaps = new Function(`return (${fn})`)();
    const scroll = document.getElementById('network-scroll');
    return {
      neurons: document.querySelectorAll('#network .neuron').length,
      neuronOverlaps: overlaps('#network .neuron'),
      labelOverlaps: overlaps('#network .layer-label'),
      cut: [...document.querySelectorAll('#network .layer-label')].filter((l) => l.scrollWidth > l.clientWidth + 1 || l.scrollHeight > l.clientHeight + 1).map((l) => l.textContent),
      scrolls: scroll.scrollWidth > scroll.clientWidth,
    };
  }, overlapsOf.toString());
  if (r.neurons !== 7 + 6 * 8 + 1) fail(`${where}: ${r.neurons} neurons drawn for 7 features, 6 x 8 hidden and the output`);
  if (r.neuronOverlaps.length || r.labelOverlaps.length || r.cut.length) {
    fail(`${where}, 6 x 8: overlapping neurons ${JSON.stringify(r.neuronOverlaps.slice(0, 3))}, headers ${JSON.stringify(r.labelOverlaps.slice(0, 3))}, cut headers ${JSON.stringify(r.cut.slice(0, 3))}`);
  }
  return r;
}

const SIX_BY_EIGHT = '#dataset=spiral&networkShape=8,8,8,8,8,8&activation=tanh&learningRate=0.03&seed=3' +
  '&x=true&y=true&xSquared=true&ySquared=true&xTimesY=true&sinX=true&sinY=true';

async function desktopSixByEight(browser, url, shotDir) {
  const { page, w } = await openPage(browser, url + SIX_BY_EIGHT, 'a 6 x 8 network');
  await waitBody(page, 'six layers of 8', () => document.body.dataset.hidden === '8,8,8,8,8,8' && document.querySelectorAll('#network .neuron').length === 56);
  for (let i = 0; i < 3; i++) await stepEpoch(page);
  const r = await sixByEight(page, '1280x800');
  await checkLayout(page, 'desktop, 6 x 8 network');
  await page.screenshot({ path: path.join(shotDir, 'playground_1280x800.png') });
  checkClean(w, 'with 6 x 8');
  await page.close();
  ok(`at 1280x800 a 6 x 8 network's neurons and headers stand apart and whole${r.scrolls ? ' (the network scrolls)' : ''}`);
}

// A 390x844 phone: every tab fits the width with no control on another,
// the network scrolls within its card, the graph shows, and the backprop
// walk keeps its current node on the screen.
async function phone(browser, url, shotDir) {
  const { page, w } = await openPage(browser, url + SIX_BY_EIGHT, 'phone', PHONE);
  await waitBody(page, 'six layers of 8 on the phone', () => document.body.dataset.hidden === '8,8,8,8,8,8' && document.querySelectorAll('#network .neuron').length === 56);
  for (let i = 0; i < 3; i++) await stepEpoch(page);
  const net = await sixByEight(page, '390x844');
  if (!net.scrolls) fail('on the phone the 6 x 8 network does not scroll within its card');
  const play = await checkLayout(page, 'phone, Playground tab');
  // the network card under the header, as a phone shows it scrolled down to it
  await page.evaluate(() => window.scrollTo(0, document.querySelector('.col-network').getBoundingClientRect().top + window.scrollY - document.querySelector('.topbar').offsetHeight - 8));
  await page.screenshot({ path: path.join(shotDir, 'playground_390x844.png') });
  await page.evaluate(() => window.scrollTo(0, 0));
  for (const tab of ['graph', 'mnist', 'export']) {
    const box = await page.$eval(`#tab-${tab}`, (e) => {
      const r = e.getBoundingClientRect();
      return { l: r.left, r: r.right, t: r.top, b: r.bottom, color: getComputedStyle(e).color, text: e.textContent };
    });
    if (box.l < 0 || box.r > PHONE.width || box.b > PHONE.height) fail(`on the phone the ${box.text} tab lies at x ${box.l}-${box.r}, y ${box.t}-${box.b}`);
    await click(page, `#tab-${tab}`, `${tab} tab`);
    if (tab === 'graph') {
      await page.waitForSelector('#graph-view svg g.node', { timeout: 20000 }).catch(() => fail('on the phone the graph did not appear'));
      await waitBody(page, 'the phone graph laid out', () => document.body.dataset.graphCollapsed !== undefined);
    }
    if (tab === 'export') await waitBody(page, 'the exported program on the phone', () => Number(document.body.dataset.exportLines) > 0);
    await checkLayout(page, `phone, ${box.text} tab`);
    if (tab === 'graph') await phoneGraph(page);
  }
  checkClean(w, 'on the phone');
  await page.close();
  ok(`at 390x844 the four tabs fit the width with no overlapping controls (${play.controls} controls on the Playground tab), the 6 x 8 network scrolls in its card`);
}

async function phoneGraph(page) {
  // the graph is drawn where it can be seen: some of its shapes inside the view
  const seen = await page.evaluate(() => {
    const v = document.getElementById('graph-view').getBoundingClientRect();
    return [...document.querySelectorAll('#graph-view g.node, #graph-view g.layer-box')].filter((g) => {
      if (getComputedStyle(g).visibility === 'hidden') return false;
      const r = g.getBoundingClientRect();
      return r.width > 4 && r.right > v.left && r.left < v.right && r.bottom > v.top && r.top < v.bottom && r.left < window.innerWidth;
    }).length;
  });
  if (!seen) fail('on the phone the graph view shows none of the graph');
  await click(page, '#btn-random-point', 'random point button');
  await waitBody(page, 'the phone backprop steps', () => document.body.dataset.backpropIndex === '0', undefined, 20000);
  const off = [];
  for (let i = 1; i <= 8; i++) {
    // the Next button where a thumb finds it, below the graph held at the top
    await page.evaluate(() => document.getElementById('bp-next').scrollIntoView({ block: 'end' }));
    await click(page, '#bp-next', 'Next button');
    await waitBody(page, `phone backprop step ${i}`, (k) => document.body.dataset.backpropIndex === String(k), i);
    const at = await page.evaluate(() => {
      const g = document.querySelector('#graph-view g.node.bp-current');
      if (!g) return null;
      const r = g.getBoundingClientRect();
      const v = document.getElementById('graph-view').getBoundingClientRect();
      const x = r.left + r.width / 2;
      const y = r.top + r.height / 2;
      const top = document.querySelector('.topbar').getBoundingClientRect().bottom;
      return { x, y, inView: x > v.left && x < v.right && y > v.top && y < v.bottom, onScreen: x > 0 && x < window.innerWidth && y > top && y < window.innerHeight };
    });
    if (!at || !at.inView || !at.onScreen) off.push(`step ${i}: ${JSON.stringify(at)}`);
  }
  if (off.length) fail(`on the phone the backprop view did not follow its current node:\n  ${off.join('\n  ')}`);
  ok(`on the phone the graph shows ${seen} shapes and the backprop walk keeps its current node on the screen for 8 steps`);
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
    await checkLayout(first.page, 'desktop, Playground tab');
    ok('the page loads, makes a session and gets its events, with a clean console and nothing outside 1280 px or overlapping');
    await checkTwoTabs(browser, url, first);
    await trainSpiral(first.page, first.w, shotDir);
    await walkBackprop(first.page, first.w, shotDir);
    await mnist(first.page, first.w, shotDir);
    await exportTab(first.page, first.w);
    checkClean(first.w, 'at the end');
    await first.page.close();
    await urlSettings(browser, url);
    await diverge(browser, url);
    await desktopSixByEight(browser, url, shotDir);
    await phone(browser, url, shotDir);
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
