// dagrad playground: the page. It talks only to the API in docs/playground_api.md:
// one session per tab, config changes by POST, everything it draws from the
// session's Server-Sent Events (data, state, mnist).
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const SVG_NS = 'http://www.w3.org/2000/svg';

  const FEATURES = [
    { key: 'x1', label: 'X₁', f: (x, y) => x },
    { key: 'x2', label: 'X₂', f: (x, y) => y },
    { key: 'x1sq', label: 'X₁²', f: (x, y) => x * x },
    { key: 'x2sq', label: 'X₂²', f: (x, y) => y * y },
    { key: 'x1x2', label: 'X₁X₂', f: (x, y) => x * y },
    { key: 'sinx1', label: 'sin(X₁)', f: (x, y) => Math.sin(x) },
    { key: 'sinx2', label: 'sin(X₂)', f: (x, y) => Math.sin(y) },
  ];
  const DATASETS = [
    { key: 'circle', label: 'Circle', regression: false },
    { key: 'xor', label: 'XOR', regression: false },
    { key: 'gauss', label: 'Gaussian', regression: false },
    { key: 'spiral', label: 'Spiral', regression: false },
    { key: 'plane', label: 'Plane', regression: true },
    { key: 'multigauss', label: 'Multi-Gauss', regression: true },
  ];
  const LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
  const REGULARIZATION_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
  const MAX_LAYERS = 6;
  const MAX_NEURONS = 8;

  // Playground's colour scale: orange (-1), white (0), blue (+1).
  const ORANGE = [245, 147, 34];
  const WHITE = [232, 234, 235];
  const BLUE = [8, 119, 189];
  const LINK_MID = [200, 205, 212];
  const TRAIN_LINE = '#3b9ede';

  const S = {
    id: null,
    events: null,
    config: null,
    data: null,
    state: null,
    mnist: null,
    tab: 'play',
    renderQueued: false,
    dataEvents: 0,
    stateEvents: 0,
    net: null, // the drawn network: neuron canvases, link paths
    graph: { loaded: false, inflight: false, last: 0, timer: null, zoom: null, selected: null, bpMode: false, collapse: null, expanded: new Set() },
    bp: null, // {point, index, svg, steps}
    bpIndex: -1,
    bpTimer: null,
    mnistDirty: false,
    weightCanvases: [],
    drawing: { active: false, last: null, hasInk: false },
  };

  // ---------- small helpers ----------

  function mix(a, b, t) {
    return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
  }
  function scaleColor(v, mid = WHITE) {
    const t = Math.max(-1, Math.min(1, Number.isFinite(v) ? v : 0));
    return t < 0 ? mix(mid, ORANGE, -t) : mix(mid, BLUE, t);
  }
  function rgb(c) {
    return `rgb(${Math.round(c[0])},${Math.round(c[1])},${Math.round(c[2])})`;
  }
  // Look-up table for signed bytes -127..127 (index b + 128).
  const LUT = (() => {
    const t = new Uint8ClampedArray(256 * 3);
    for (let b = -128; b < 128; b++) {
      const c = scaleColor(b / 127);
      t.set([c[0], c[1], c[2]], (b + 128) * 3);
    }
    return t;
  })();

  function decodeBytes(b64) {
    const s = atob(b64);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  function decodeSigned(b64) {
    return new Int8Array(decodeBytes(b64).buffer);
  }

  // Losses as Playground shows them, with a small one still readable.
  function fmt(v, digits = 3) {
    if (v === null || v === undefined || !Number.isFinite(v)) return '–';
    if (v !== 0 && Math.abs(v) < 0.5 * 10 ** -digits) return v.toExponential(1);
    return v.toFixed(digits);
  }
  function fmtNumber(v) {
    if (typeof v !== 'number') return String(v);
    if (!Number.isFinite(v)) return String(v);
    if (v === 0) return '0';
    const a = Math.abs(v);
    if (a >= 1e5 || a < 1e-3) return v.toExponential(3);
    return String(Number(v.toPrecision(5)));
  }
  // A table cell: three significant digits, at most seven characters, so that
  // a layer of eight columns fits the node panel; the cell's title has five.
  function fmtCell(v) {
    if (!Number.isFinite(v)) return String(v);
    if (v === 0) return '0';
    const a = Math.abs(v);
    if (a < 0.01 || a >= 1e4) return v.toExponential(1).replace('e+', 'e');
    return String(Number(v.toPrecision(3)));
  }
  function padEpoch(n) {
    const s = String(n).padStart(6, '0');
    return s.slice(0, 3) + ',' + s.slice(3);
  }
  function el(tag, attrs = {}, children = []) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  }
  function svgEl(tag, attrs = {}) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
  }
  // A canvas sized for the device: returns its 2-D context scaled to CSS pixels.
  function fitCanvas(canvas) {
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    if (!w || !h) return null;
    const dpr = window.devicePixelRatio || 1;
    const W = Math.round(w * dpr);
    const H = Math.round(h * dpr);
    if (canvas.width !== W || canvas.height !== H) {
      canvas.width = W;
      canvas.height = H;
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { ctx, w, h };
  }
  function mark(name, value) {
    document.body.dataset[name] = String(value);
  }

  // ---------- status line ----------

  let statusTimer = null;
  function setStatus(text, kind = 'ok', retry = null) {
    const bar = $('status-text');
    bar.textContent = text;
    const sb = $('statusbar');
    sb.classList.remove('ok', 'busy', 'error');
    sb.classList.add(kind);
    const btn = $('status-retry');
    btn.classList.toggle('hidden', !retry);
    btn.onclick = retry;
    mark('status', kind);
    clearTimeout(statusTimer);
    if (kind === 'ok' && S.id) {
      statusTimer = setTimeout(() => idleStatus(), 6000);
    }
  }
  function idleStatus() {
    if (!S.id) return;
    const playing = S.state && S.state.playing;
    setStatusQuiet(playing ? 'Training… every epoch shows up as it finishes.' : 'Ready. Press play to train, or step one epoch at a time.');
  }
  function setStatusQuiet(text) {
    const sb = $('statusbar');
    if (sb.classList.contains('error')) return;
    $('status-text').textContent = text;
    sb.classList.remove('busy');
    sb.classList.add('ok');
  }
  function showError(message) {
    setStatus(message, 'error');
  }

  // ---------- the API ----------

  function sessionUrl(path) {
    return `api/sessions/${S.id}/${path}`;
  }

  // Never throws: {ok, status, json, text, error}.
  async function request(url, { method = 'POST', body, expect = 'json' } = {}) {
    let res;
    try {
      const init = { method, cache: 'no-store' };
      if (method !== 'GET') {
        init.headers = { 'Content-Type': 'application/json' };
        init.body = JSON.stringify(body === undefined ? {} : body);
      }
      res = await fetch(url, init);
    } catch (e) {
      return { ok: false, status: 0, error: 'Cannot reach the playground server (is it still running?).' };
    }
    let text = '';
    try {
      text = await res.text();
    } catch (e) {
      return { ok: false, status: res.status, error: 'The connection broke while reading the answer.' };
    }
    let json = null;
    const type = res.headers.get('content-type') || '';
    if (type.includes('json') || (expect === 'json' && text)) {
      try {
        json = JSON.parse(text);
      } catch (e) {
        json = null;
      }
    }
    if (!res.ok) {
      const msg = (json && json.error) || `${res.status} ${res.statusText || 'error'}`;
      if (res.status === 404 && json && /session/i.test(msg)) {
        return { ok: false, status: 404, error: msg, lostSession: true };
      }
      return { ok: false, status: res.status, error: msg, field: json && json.field };
    }
    if (expect === 'json' && json === null) {
      return { ok: false, status: res.status, error: `The server's answer to ${url} was not JSON.` };
    }
    return { ok: true, status: res.status, json, text };
  }

  async function api(path, body, opts = {}) {
    if (!S.id) return { ok: false, error: 'No session yet.' };
    const r = await request(sessionUrl(path), { body, ...opts });
    if (!r.ok && r.lostSession) {
      setStatus(`This tab's session is gone (${r.error}). Retry starts a new one.`, 'error', () => startSession());
    }
    return r;
  }

  // ---------- session and events ----------

  async function startSession() {
    if (S.events) {
      S.events.close();
      S.events = null;
    }
    // The address keeps this tab's settings until the new session has them.
    S.hashReady = false;
    setStatus('Starting a session…', 'busy');
    const r = await request('api/sessions', { body: {} });
    if (!r.ok) {
      setStatus(`Could not start a session: ${r.error}`, 'error', () => startSession());
      return;
    }
    S.id = r.json.id;
    mark('session', S.id);
    if (r.json.config) {
      S.config = r.json.config;
      syncControls();
    }
    $('export-cpp').href = sessionUrl('export.cpp');
    $('export-dot').href = sessionUrl('export.dot');
    // The link's settings first, so that the first events already show them.
    if (location.hash.length > 1) await applyHash('The link\'s settings');
    S.hashReady = true;
    writeHash();
    connectEvents();
  }

  function connectEvents() {
    const es = new EventSource(sessionUrl('events'));
    S.events = es;
    const guard = (fn) => (e) => {
      let payload;
      try {
        payload = JSON.parse(e.data);
      } catch (err) {
        showError(`The server sent a ${e.type} event that is not JSON.`);
        return;
      }
      try {
        fn(payload);
      } catch (err) {
        showError(`Could not show the ${e.type} event: ${err.message}`);
      }
    };
    es.addEventListener('data', guard(onData));
    es.addEventListener('state', guard(onState));
    es.addEventListener('mnist', guard(onMnist));
    es.onopen = () => {
      setStatus(`Connected (session ${S.id.slice(0, 8)}…).`, 'ok');
      mark('connected', 'true');
    };
    es.onerror = () => {
      mark('connected', 'false');
      if (es.readyState === EventSource.CLOSED) {
        setStatus('The event stream closed: the session may have ended.', 'error', () => startSession());
      } else {
        setStatus('Lost the event stream; reconnecting…', 'busy');
      }
    };
  }

  window.addEventListener('pagehide', () => {
    if (S.events) S.events.close();
    S.events = null;
    if (S.id && navigator.sendBeacon) navigator.sendBeacon(sessionUrl('close'));
  });
  // Back from the back/forward cache: the old session was closed on pagehide.
  window.addEventListener('pageshow', (e) => {
    if (e.persisted) startSession();
  });


  // ---------- settings in the URL ----------

  // The settings live in the address's fragment with TensorFlow Playground's
  // keys (#activation=tanh&dataset=spiral&networkShape=4,2&x=true&...), so a
  // reload or a shared link brings back the same network, and with the same
  // seed the same losses; a Playground link works here too.
  const HASH_FEATURES = { x1: 'x', x2: 'y', x1sq: 'xSquared', x2sq: 'ySquared', x1x2: 'xTimesY', sinx1: 'sinX', sinx2: 'sinY' };
  const HASH_REGRESSION = { 'reg-plane': 'plane', 'reg-gauss': 'multigauss' };
  const HASH_RANGES = {
    noise: ['noise', 0, 50],
    percTrainData: ['train_ratio', 10, 90],
    batchSize: ['batch_size', 1, 30],
    seed: ['seed', 0, 4294967295],
  };

  function configToHash(c) {
    const parts = [
      ['activation', c.activation],
      ['batchSize', c.batch_size],
      ['dataset', c.dataset],
      ['learningRate', c.learning_rate],
      ['networkShape', c.hidden.join(',')],
      ['noise', c.noise],
      ['percTrainData', c.train_ratio],
      ['regularization', c.regularization],
      ['regularizationRate', c.regularization_rate],
      ['seed', c.seed],
      ...FEATURES.map((f) => [HASH_FEATURES[f.key], c.features.includes(f.key)]),
      ['showTestData', $('show-test').checked],
      ['discretize', $('discretize').checked],
    ];
    return parts.map(([k, v]) => `${k}=${encodeURIComponent(String(v)).replace(/%2C/g, ',')}`).join('&');
  }

  function readHash(hash) {
    const fields = new Map();
    for (const part of hash.replace(/^#/, '').split('&')) {
      if (!part) continue;
      const at = part.indexOf('=');
      const key = at < 0 ? part : part.slice(0, at);
      try {
        fields.set(key, decodeURIComponent(at < 0 ? '' : part.slice(at + 1)));
      } catch (e) {
        fields.set(key, null);  // not percent-encoded UTF-8: reported as not allowed
      }
    }
    return fields;
  }

  // The config change a fragment asks for: {change, problems}, each problem
  // naming the link's key and what it takes. Unknown keys are left alone, as
  // Playground does.
  function hashToChange(hash, current) {
    const f = readHash(hash);
    const change = {};
    const problems = [];
    const quote = (key) => String(f.get(key)).slice(0, 40);
    const pick = (key, field, allowed) => {
      if (!f.has(key)) return;
      const v = (f.get(key) || '').toLowerCase();
      if (allowed.includes(v)) change[field] = v;
      else problems.push(`${key} must be one of ${allowed.join(', ')}, not '${quote(key)}'`);
    };
    // The server's ranges (docs/playground_api.md), so that each bad value is named alone.
    const number = (key, field, low, high, lowOpen) => {
      if (!f.has(key)) return;
      const v = Number(f.get(key));
      if (f.get(key) !== '' && Number.isFinite(v) && v <= high && (lowOpen ? v > low : v >= low)) change[field] = v;
      else problems.push(`${key} must be a number ${lowOpen ? 'over' : 'from'} ${low} ${lowOpen ? 'up ' : ''}to ${high}, not '${quote(key)}'`);
    };
    const whole = (key) => {
      if (!f.has(key)) return;
      const [field, low, high] = HASH_RANGES[key];
      const v = Number(f.get(key));
      if (/^\d+$/.test(f.get(key) || '') && v >= low && v <= high) change[field] = v;
      else problems.push(`${key} must be a whole number from ${low} to ${high}, not '${quote(key)}'`);
    };
    if (f.get('problem') === 'regression' && f.has('regDataset')) {
      const d = HASH_REGRESSION[f.get('regDataset')] || f.get('regDataset');
      if (DATASETS.some((x) => x.key === d && x.regression)) change.dataset = d;
      else problems.push(`regDataset must be reg-plane or reg-gauss, not '${quote('regDataset')}'`);
    } else {
      pick('dataset', 'dataset', DATASETS.map((d) => d.key));
    }
    pick('activation', 'activation', ['relu', 'tanh', 'sigmoid', 'linear']);
    pick('regularization', 'regularization', ['none', 'l1', 'l2']);
    number('learningRate', 'learning_rate', 0, 10, true);
    number('regularizationRate', 'regularization_rate', 0, 10, false);
    for (const key of Object.keys(HASH_RANGES)) whole(key);
    if (f.has('networkShape')) {
      const text = f.get('networkShape') || '';
      const shape = text === '' ? [] : text.split(',').map(Number);
      if (shape.length <= MAX_LAYERS && shape.every((n) => Number.isInteger(n) && n >= 1 && n <= MAX_NEURONS)) change.hidden = shape;
      else problems.push(`networkShape must be up to ${MAX_LAYERS} whole numbers from 1 to ${MAX_NEURONS} (like 4,2), not '${text.slice(0, 40)}'`);
    }
    if (FEATURES.some((x) => f.has(HASH_FEATURES[x.key]))) {
      const on = new Set(current ? current.features : ['x1', 'x2']);
      for (const x of FEATURES) {
        const v = f.get(HASH_FEATURES[x.key]);
        if (v === 'true') on.add(x.key);
        else if (v === 'false') on.delete(x.key);
        else if (f.has(HASH_FEATURES[x.key])) problems.push(`${HASH_FEATURES[x.key]} must be true or false, not '${quote(HASH_FEATURES[x.key])}'`);
      }
      if (on.size) change.features = FEATURES.map((x) => x.key).filter((k) => on.has(k));
      else problems.push('at least one feature (x, y, xSquared, ySquared, xTimesY, sinX, sinY) must be true');
    }
    for (const [key, box] of [['showTestData', 'show-test'], ['discretize', 'discretize']]) {
      if (f.has(key)) $(box).checked = f.get(key) === 'true';
    }
    return { change, problems };
  }

  // The fragment follows the config, without adding a history entry per change.
  function writeHash() {
    if (!S.config) return;
    const hash = `#${configToHash(S.config)}`;
    if (location.hash !== hash) history.replaceState(null, '', hash);
    S.writtenHash = hash;
    mark('hash', hash);
  }

  // Applies the address's fragment to the session; true when it changed nothing or all went well.
  async function applyHash(what) {
    const { change, problems } = hashToChange(location.hash, S.config);
    if (problems.length) showError(`${what}: ${problems.join('; ')}. The rest was applied.`);
    if (!Object.keys(change).length) return !problems.length;
    const r = await api('config', change);
    if (!r.ok) {
      if (!r.lostSession) showError(`${what} not applied: ${r.error}`);
      return false;
    }
    S.config = r.json.config;
    syncControls();
    if (!problems.length) setStatus(`${what} applied: ${describeConfig(S.config)}.`, 'ok');
    return !problems.length;
  }

  function describeConfig(c) {
    const shape = c.hidden.length ? c.hidden.join('-') : 'no hidden layer';
    return `${c.dataset}, ${shape}, ${c.activation}, learning rate ${c.learning_rate}, seed ${c.seed}`;
  }

  window.addEventListener('hashchange', () => {
    if (location.hash === S.writtenHash || !S.id) return;
    applyHash('The address\'s settings');
  });

  // ---------- config controls ----------

  function fillSelect(select, values, fmtValue = String) {
    select.innerHTML = '';
    for (const v of values) select.append(el('option', { value: String(v), text: fmtValue(v) }));
  }
  function setSelect(select, value, fmtValue = String) {
    const v = String(value);
    if (![...select.options].some((o) => o.value === v)) {
      select.append(el('option', { value: v, text: fmtValue(value) }));
    }
    select.value = v;
  }

  function syncControls() {
    const c = S.config;
    if (!c) return;
    setSelect($('cfg-learning_rate'), c.learning_rate);
    setSelect($('cfg-activation'), c.activation);
    setSelect($('cfg-regularization'), c.regularization);
    setSelect($('cfg-regularization_rate'), c.regularization_rate);
    $('cfg-regularization_rate').disabled = c.regularization === 'none';
    for (const k of ['noise', 'train_ratio', 'batch_size']) {
      $(`cfg-${k}`).value = c[k];
      $(`val-${k}`).textContent = c[k];
    }
    $('seed-value').textContent = c.seed;
    for (const b of document.querySelectorAll('.dataset')) {
      b.classList.toggle('active', b.dataset.key === c.dataset);
      b.setAttribute('aria-pressed', b.dataset.key === c.dataset ? 'true' : 'false');
    }
    const ds = DATASETS.find((d) => d.key === c.dataset);
    $('problem-type').textContent = ds && ds.regression ? 'Regression' : 'Classification';
    const layers = c.hidden.length;
    $('layer-count').textContent = layers;
    $('btn-add-layer').disabled = layers >= MAX_LAYERS;
    $('btn-remove-layer').disabled = layers <= 0;
    mark('dataset', c.dataset);
    mark('features', c.features.join(','));
    mark('hidden', c.hidden.join(','));
    if (S.hashReady) writeHash();
  }

  async function postConfig(change, what) {
    const r = await api('config', change);
    if (!r.ok) {
      if (!r.lostSession) showError(`Config not changed: ${r.error}`);
      syncControls();
      return false;
    }
    S.config = r.json.config;
    syncControls();
    setStatus(`${what || Object.keys(change).join(', ')} changed: training starts again from epoch 0.`, 'ok');
    return true;
  }

  function setupControls() {
    fillSelect($('cfg-learning_rate'), LEARNING_RATES);
    fillSelect($('cfg-regularization_rate'), REGULARIZATION_RATES);
    $('cfg-learning_rate').addEventListener('change', (e) => postConfig({ learning_rate: Number(e.target.value) }, 'Learning rate'));
    $('cfg-regularization_rate').addEventListener('change', (e) =>
      postConfig({ regularization_rate: Number(e.target.value) }, 'Regularization rate'));
    $('cfg-activation').addEventListener('change', (e) => postConfig({ activation: e.target.value }, 'Activation'));
    $('cfg-regularization').addEventListener('change', (e) => postConfig({ regularization: e.target.value }, 'Regularization'));
    const names = { noise: 'Noise', train_ratio: 'Training ratio', batch_size: 'Batch size' };
    for (const k of ['noise', 'train_ratio', 'batch_size']) {
      const input = $(`cfg-${k}`);
      input.addEventListener('input', () => {
        $(`val-${k}`).textContent = input.value;
      });
      input.addEventListener('change', () => postConfig({ [k]: Number(input.value) }, names[k]));
    }
    $('btn-regenerate').addEventListener('click', () => {
      const seed = Math.floor(Math.random() * 4294967295);
      postConfig({ seed }, 'Seed');
    });
    $('btn-add-layer').addEventListener('click', () => {
      if (!S.config || S.config.hidden.length >= MAX_LAYERS) return;
      postConfig({ hidden: [...S.config.hidden, 2] }, 'Hidden layers');
    });
    $('btn-remove-layer').addEventListener('click', () => {
      if (!S.config || S.config.hidden.length === 0) return;
      postConfig({ hidden: S.config.hidden.slice(0, -1) }, 'Hidden layers');
    });

    const datasets = $('datasets');
    const groups = [
      ['Classification', DATASETS.filter((d) => !d.regression)],
      ['Regression', DATASETS.filter((d) => d.regression)],
    ];
    for (const [title, list] of groups) {
      datasets.append(el('div', { class: 'datasets-sub', text: title }));
      for (const d of list) {
        const canvas = el('canvas', { width: '112', height: '112' });
        const button = el('button', { class: 'dataset', type: 'button', 'data-key': d.key, title: `${title}: ${d.label}` },
          [canvas, el('span', { text: d.label })]);
        button.addEventListener('click', () => {
          if (S.config && S.config.dataset !== d.key) postConfig({ dataset: d.key }, 'Data set');
        });
        datasets.append(button);
        drawDatasetThumbnail(canvas, d.key);
      }
    }

    $('btn-play').addEventListener('click', async () => {
      const playing = S.state && S.state.playing;
      const r = await api(playing ? 'pause' : 'play');
      if (!r.ok) showError(`${playing ? 'Pause' : 'Play'} failed: ${r.error}`);
    });
    $('btn-step').addEventListener('click', async () => {
      const r = await api('step');
      if (!r.ok) showError(`Step failed: ${r.error}`);
    });
    $('btn-reset').addEventListener('click', async () => {
      const r = await api('reset');
      if (!r.ok) showError(`Reset failed: ${r.error}`);
      else setStatus('Reset: epoch 0, the starting weights again.', 'ok');
    });
    for (const box of ['show-test', 'discretize']) {
      $(box).addEventListener('change', () => {
        writeHash();
        queueRender();
      });
    }
  }

  // Sample points only for the data set buttons' pictures; the real points come from the server.
  function drawDatasetThumbnail(canvas, key) {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      return seed / 4294967296;
    };
    const normal = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
    const pts = [];
    if (key === 'circle') {
      for (let i = 0; i < 120; i++) {
        const inner = i % 2 === 0;
        const r = inner ? rand() * 2.5 : 3.5 + rand() * 1.5;
        const a = rand() * 2 * Math.PI;
        pts.push([r * Math.sin(a), r * Math.cos(a), inner ? 1 : -1]);
      }
    } else if (key === 'xor') {
      for (let i = 0; i < 140; i++) {
        let x = rand() * 10 - 5;
        let y = rand() * 10 - 5;
        x += x > 0 ? 0.3 : -0.3;
        y += y > 0 ? 0.3 : -0.3;
        pts.push([x, y, x * y >= 0 ? 1 : -1]);
      }
    } else if (key === 'gauss') {
      for (let i = 0; i < 120; i++) {
        const pos = i % 2 === 0;
        pts.push([(pos ? 2 : -2) + normal(), (pos ? 2 : -2) + normal(), pos ? 1 : -1]);
      }
    } else if (key === 'spiral') {
      const n = 70;
      for (const [delta, label] of [[0, 1], [Math.PI, -1]]) {
        for (let i = 0; i < n; i++) {
          const r = (i / n) * 5;
          const t = (1.75 * i / n) * 2 * Math.PI + delta;
          pts.push([r * Math.sin(t), r * Math.cos(t), label]);
        }
      }
    } else if (key === 'plane') {
      for (let i = 0; i < 140; i++) {
        const x = rand() * 12 - 6;
        const y = rand() * 12 - 6;
        pts.push([x, y, Math.max(-1, Math.min(1, (x + y) / 10))]);
      }
    } else {
      const gs = [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]];
      for (let i = 0; i < 160; i++) {
        const x = rand() * 12 - 6;
        const y = rand() * 12 - 6;
        let v = 0;
        for (const [gx, gy, s] of gs) v += s * Math.exp(-((x - gx) ** 2 + (y - gy) ** 2) / 3);
        pts.push([x, y, Math.max(-1, Math.min(1, v))]);
      }
    }
    const ctx = canvas.getContext('2d');
    const W = canvas.width;
    ctx.fillStyle = '#f7f8fa';
    ctx.fillRect(0, 0, W, W);
    for (const [x, y, l] of pts) {
      const px = ((x + 6) / 12) * W;
      const py = ((6 - y) / 12) * W;
      ctx.beginPath();
      ctx.arc(px, py, 3.2, 0, 2 * Math.PI);
      ctx.fillStyle = rgb(scaleColor(l));
      ctx.fill();
    }
  }

  // ---------- data and state events ----------

  function onData(d) {
    S.data = d;
    S.config = d.config;
    S.dataEvents++;
    mark('dataEvents', S.dataEvents);
    syncControls();
    $('problem-type').textContent = d.problem === 'regression' ? 'Regression' : 'Classification';
    buildNetwork();
    if (S.bp) {
      clearBackprop('The data or the network changed: choose a point again.');
    }
    S.graph.loaded = false;
    if (S.tab === 'graph' && !S.graph.bpMode) scheduleGraphRefresh(100);
    S.exportLoaded = false;
    if (S.tab === 'export') loadExport();
    queueRender();
  }

  // The loss curves: the whole history when an event carries it, else this
  // epoch's losses put at its place (a reset or config change cuts it back).
  function updateHistory(st) {
    if (st.history && Array.isArray(st.history.train) && Array.isArray(st.history.test)) {
      S.history = { train: st.history.train.slice(), test: st.history.test.slice() };
      return;
    }
    const h = S.history || { train: [], test: [] };
    const e = Number(st.epoch);
    if (!Number.isInteger(e) || e < 0) return;
    h.train.length = Math.min(h.train.length, e);
    h.test.length = Math.min(h.test.length, e);
    h.train[e] = st.train_loss;
    h.test[e] = st.test_loss;
    S.history = h;
  }

  function onState(st) {
    updateHistory(st);
    S.state = st;
    S.stateEvents++;
    mark('epoch', st.epoch);
    mark('playing', st.playing ? 'true' : 'false');
    mark('testLoss', st.test_loss);
    mark('trainLoss', st.train_loss);
    const playBtn = $('btn-play');
    playBtn.classList.toggle('playing', !!st.playing);
    playBtn.title = st.playing ? 'Pause training' : 'Train (play)';
    $('btn-step').disabled = !!st.playing;
    if (S.tab === 'graph' && !S.graph.bpMode) {
      if (st.playing) {
        if (Date.now() - S.graph.last > 1000) scheduleGraphRefresh(0);
      } else {
        scheduleGraphRefresh(150);
      }
    } else {
      S.graph.loaded = false;
    }
    queueRender();
  }

  function queueRender() {
    if (S.renderQueued) return;
    S.renderQueued = true;
    requestAnimationFrame(() => {
      S.renderQueued = false;
      try {
        render();
      } catch (err) {
        showError(`Could not draw the network: ${err.message}`);
      }
    });
  }

  function render() {
    const st = S.state;
    if (st) {
      $('epoch').textContent = padEpoch(st.epoch);
      const diverged = isDiverged(st);
      $('test-loss').textContent = diverged ? 'diverged' : fmt(st.test_loss);
      $('train-loss').textContent = diverged ? 'diverged' : fmt(st.train_loss);
      showDivergence(diverged ? st : null);
    }
    if (S.tab === 'play') {
      updateNetwork();
      drawLossChart();
      drawOutputMap($('heatmap'), { points: true, showTest: $('show-test').checked });
    } else if (S.tab === 'graph') {
      drawOutputMap($('bp-map'), { points: true, showTest: false, selected: S.bp ? S.bp.index : null });
    }
  }


  // ---------- divergence ----------

  // The server sends a loss that overflowed (infinity or NaN) as null: the
  // weights are no longer numbers and every later epoch stays so.
  function isDiverged(st) {
    return !!st && Number.isInteger(st.epoch) && (!Number.isFinite(st.train_loss) || !Number.isFinite(st.test_loss));
  }

  // The last epoch whose losses were both numbers: {epoch, train, test} or null.
  function lastFinite() {
    const h = S.history || { train: [], test: [] };
    for (let e = Math.min(h.train.length, h.test.length) - 1; e >= 0; e--) {
      if (Number.isFinite(h.train[e]) && Number.isFinite(h.test[e])) return { epoch: e, train: h.train[e], test: h.test[e] };
    }
    return null;
  }

  function showDivergence(st) {
    const box = $('diverged');
    $('heatmap-note').classList.toggle('hidden', !st);
    box.classList.toggle('hidden', !st);
    mark('diverged', st ? 'true' : 'false');
    if (!st) {
      S.divergedAt = null;
      return;
    }
    const last = lastFinite();
    const c = S.config || {};
    const rates = [`learning rate ${c.learning_rate}`];
    if (c.regularization && c.regularization !== 'none') rates.push(`${c.regularization.toUpperCase()} rate ${c.regularization_rate}`);
    box.innerHTML = '';
    box.append(
      el('strong', { text: `Diverged at epoch ${st.epoch}. ` }),
      document.createTextNode('The loss overflowed: the steps were too large and the weights are no longer numbers. '),
    );
    if (last) {
      box.append(document.createTextNode(`Last finite losses, epoch ${last.epoch}: test `), el('b', { text: fmt(last.test) }),
        document.createTextNode(', training '), el('b', { text: fmt(last.train) }), document.createTextNode('. '));
      mark('lastFiniteTestLoss', last.test);
      mark('lastFiniteEpoch', last.epoch);
    }
    box.append(document.createTextNode(`Lower the ${rates.join(' or the ')}; any change starts again from epoch 0.`));
    // Training on stays diverged: stop it once, and say so.
    if (S.divergedAt === null || S.divergedAt === undefined) {
      S.divergedAt = st.epoch;
      if (st.playing) api('pause');
      setStatus(`Training diverged at epoch ${st.epoch}${st.playing ? ' and was paused' : ''}${last ? `; the last finite test loss was ${fmt(last.test)} (epoch ${last.epoch})` : ''}.`, 'error');
    }
  }

  // ---------- heat maps ----------

  const scratch = document.createElement('canvas');

  function paintGrid(ctx, values, size, discretize) {
    const img = ctx.createImageData(size, size);
    const px = img.data;
    for (let i = 0; i < size * size; i++) {
      let b = values[i];
      if (discretize) b = b > 0 ? 127 : b < 0 ? -127 : 0;
      const o = (b + 128) * 3;
      px[i * 4] = LUT[o];
      px[i * 4 + 1] = LUT[o + 1];
      px[i * 4 + 2] = LUT[o + 2];
      px[i * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  // A small canvas whose pixels are the grid itself (CSS scales it).
  function drawSmallHeat(canvas, values, size) {
    if (canvas.width !== size) {
      canvas.width = size;
      canvas.height = size;
    }
    paintGrid(canvas.getContext('2d'), values, size, false);
  }

  function gridInfo() {
    const g = (S.data && S.data.grid) || { size: 50, extent: 6 };
    return { size: g.size || 50, extent: g.extent || 6 };
  }

  // Values of a feature over the grid, as signed bytes, for features the network does not use.
  const featureGridCache = new Map();
  function featureGrid(key) {
    const { size, extent } = gridInfo();
    const cacheKey = `${key}/${size}/${extent}`;
    if (featureGridCache.has(cacheKey)) return featureGridCache.get(cacheKey);
    const f = FEATURES.find((x) => x.key === key).f;
    const out = new Int8Array(size * size);
    for (let r = 0; r < size; r++) {
      const y = extent - ((r + 0.5) / size) * 2 * extent;
      for (let c = 0; c < size; c++) {
        const x = -extent + ((c + 0.5) / size) * 2 * extent;
        out[r * size + c] = Math.round(127 * Math.max(-1, Math.min(1, f(x, y))));
      }
    }
    featureGridCache.set(cacheKey, out);
    return out;
  }

  function drawOutputMap(canvas, { points, showTest, selected = null }) {
    const fit = fitCanvas(canvas);
    if (!fit) return;
    const { ctx, w, h } = fit;
    const { size, extent } = gridInfo();
    const st = S.state;
    const hover = canvas.id === 'heatmap' ? S.hoverNeuron : null;
    const values = hover ? hover.values() : st && st.heatmaps && st.heatmaps.output ? decodeSigned(st.heatmaps.output) : null;
    if (values) {
      scratch.width = size;
      scratch.height = size;
      paintGrid(scratch.getContext('2d'), values, size, $('discretize').checked);
      ctx.imageSmoothingEnabled = !$('discretize').checked;
      ctx.drawImage(scratch, 0, 0, w, h);
    } else {
      ctx.fillStyle = rgb(WHITE);
      ctx.fillRect(0, 0, w, h);
    }
    // axes ticks
    ctx.strokeStyle = 'rgba(0,0,0,0.08)';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(w / 2, 0);
    ctx.lineTo(w / 2, h);
    ctx.moveTo(0, h / 2);
    ctx.lineTo(w, h / 2);
    ctx.stroke();
    if (hover) {
      ctx.font = '600 12px system-ui, sans-serif';
      const label = `showing ${hover.name}`;
      ctx.fillStyle = 'rgba(23,28,38,0.8)';
      ctx.fillRect(6, 6, ctx.measureText(label).width + 12, 20);
      ctx.fillStyle = '#fff';
      ctx.fillText(label, 12, 20);
    }
    if (!points || !S.data) return;
    const r = Math.max(2.2, w / 95);
    const toPx = (p) => [((p[0] + extent) / (2 * extent)) * w, ((extent - p[1]) / (2 * extent)) * h];
    const dot = (p, stroke, width) => {
      const [x, y] = toPx(p);
      ctx.beginPath();
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.fillStyle = rgb(scaleColor(p[2], WHITE));
      ctx.fill();
      ctx.lineWidth = width;
      ctx.strokeStyle = stroke;
      ctx.stroke();
    };
    for (const p of S.data.train) dot(p, 'rgba(255,255,255,0.95)', 1);
    if (showTest) for (const p of S.data.test) dot(p, '#111', 1.4);
    if (selected !== null && S.data.train[selected]) {
      const [x, y] = toPx(S.data.train[selected]);
      ctx.beginPath();
      ctx.arc(x, y, r + 5, 0, 2 * Math.PI);
      ctx.lineWidth = 2.5;
      ctx.strokeStyle = '#6d28d9';
      ctx.stroke();
    }
  }

  // The training point under a click on an output map, or -1.
  function pointAt(canvas, evt) {
    if (!S.data) return -1;
    const rect = canvas.getBoundingClientRect();
    const { extent } = gridInfo();
    const mx = evt.clientX - rect.left;
    const my = evt.clientY - rect.top;
    let best = -1;
    let bestD = 12 * 12;
    S.data.train.forEach((p, i) => {
      const x = ((p[0] + extent) / (2 * extent)) * rect.width;
      const y = ((extent - p[1]) / (2 * extent)) * rect.height;
      const d = (x - mx) ** 2 + (y - my) ** 2;
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    });
    return best;
  }

  // ---------- loss charts ----------

  function drawLines(canvas, series, { pad = 4, yMin = 0 } = {}) {
    const fit = fitCanvas(canvas);
    if (!fit) return;
    const { ctx, w, h } = fit;
    ctx.clearRect(0, 0, w, h);
    let n = 0;
    let yMax = 0;
    for (const s of series) {
      n = Math.max(n, s.data.length);
      for (const v of s.data) if (Number.isFinite(v)) yMax = Math.max(yMax, v);
    }
    if (n === 0) return;
    if (yMax <= yMin) yMax = yMin + 1;
    if (n === 1) {
      for (const s of series) {
        if (!Number.isFinite(s.data[0])) continue;
        ctx.beginPath();
        ctx.arc(pad + 2, h - pad - ((s.data[0] - yMin) / (yMax - yMin)) * (h - 2 * pad), 2.5, 0, 2 * Math.PI);
        ctx.fillStyle = s.color;
        ctx.fill();
      }
    }
    const x = (i) => pad + (n === 1 ? 0 : (i / (n - 1)) * (w - 2 * pad));
    const y = (v) => h - pad - ((v - yMin) / (yMax - yMin)) * (h - 2 * pad);
    const stride = Math.max(1, Math.floor(n / (w * 2)));
    for (const s of series) {
      ctx.beginPath();
      let started = false;
      for (let i = 0; i < s.data.length; i += stride) {
        const v = s.data[i];
        if (!Number.isFinite(v)) continue;
        if (!started) ctx.moveTo(x(i), y(v));
        else ctx.lineTo(x(i), y(v));
        started = true;
      }
      const last = s.data.length - 1;
      if (last >= 0 && last % stride !== 0 && Number.isFinite(s.data[last])) ctx.lineTo(x(last), y(s.data[last]));
      ctx.strokeStyle = s.color;
      ctx.lineWidth = s.width || 1.6;
      ctx.stroke();
    }
    // the scale: the top of the chart, at its right
    const top = `max ${fmtNumber(Number(yMax.toPrecision(3)))}`;
    ctx.font = '10px system-ui, sans-serif';
    const tw = ctx.measureText(top).width;
    ctx.fillStyle = 'rgba(250,251,252,0.85)';
    ctx.fillRect(w - tw - 10, 2, tw + 8, 13);
    ctx.fillStyle = '#98a2b3';
    ctx.fillText(top, w - tw - 6, 12);
  }

  function drawLossChart() {
    const hist = S.history || { train: [], test: [] };
    // The training line last and thinner, so that where the two meet (a
    // network that generalizes) it still shows on the test line.
    drawLines($('loss-chart'), [
      { data: hist.test || [], color: '#1d2330', width: 2.4 },
      { data: hist.train || [], color: TRAIN_LINE, width: 1.4 },
    ]);
  }

  // ---------- the network diagram ----------

  const NODE = 40;
  const ROW = 52;
  const TOP = 74;
  // Columns no closer than this, so that neurons, their links and the layer
  // headers stay apart; a network wider than its card scrolls sideways.
  const MIN_STEP = 68;

  function buildNetwork() {
    const box = $('network');
    const links = $('links');
    S.hoverNeuron = null;
    for (const child of [...box.children]) if (child !== links) child.remove();
    links.innerHTML = '';
    const c = S.config;
    if (!c) return;
    const hidden = c.hidden;
    const rows = Math.max(FEATURES.length, ...hidden, 1);
    const height = TOP + rows * ROW;
    box.style.height = `${height}px`;
    const avail = $('network-scroll').clientWidth || 600;
    const left = 58;
    const columns = hidden.length + 2;
    const width = Math.max(avail, left + (columns - 1) * MIN_STEP + NODE + 6);
    box.style.width = `${width}px`;
    const right = width - NODE - 6;
    const colX = (k) => left + (k * (right - left)) / (columns - 1);
    // A header as wide as its column allows, centred over the neurons.
    const labelWidth = Math.min(NODE + 60, (right - left) / (columns - 1) - 6);
    const placeLabel = (label, x) => {
      label.style.left = `${Math.min(width - labelWidth, Math.max(0, x + NODE / 2 - labelWidth / 2))}px`;
      label.style.width = `${labelWidth}px`;
      label.style.top = '6px';
    };
    const net = { columns: [], links: [], biases: [], width, height, avail };

    // inputs: every feature, the used ones lit
    const inputs = [];
    FEATURES.forEach((f, r) => {
      const on = c.features.includes(f.key);
      const x = colX(0);
      const y = TOP + r * ROW;
      const name = el('div', { class: `feature-name ${on ? '' : 'off'}`, text: f.label });
      name.style.left = `${x - 52}px`;
      name.style.top = `${y + 11}px`;
      const canvas = el('canvas', { width: '50', height: '50' });
      const node = el('div', {
        class: `neuron feature ${on ? 'on' : 'off'}`,
        'data-feature': f.key,
        'data-tip': `${f.label}: ${on ? 'used (click to drop it)' : 'not used (click to use it)'}`,
        role: 'button',
        'aria-pressed': on ? 'true' : 'false',
      }, [canvas]);
      node.style.left = `${x}px`;
      node.style.top = `${y}px`;
      node.addEventListener('click', () => toggleFeature(f.key));
      box.append(name, node);
      const inp = { key: f.key, on, x, y, canvas };
      inputs.push(inp);
      hoverShows(node, `feature ${f.label}`, () => inp.values);
    });
    const title0 = el('div', { class: 'layer-label' });
    title0.innerHTML = `<b>Features</b>${c.features.length} used`;
    placeLabel(title0, colX(0));
    box.append(title0);
    // Layer 0 of the network is the used features, in the server's order.
    // Its labels may be keys ("x1sq") or what the student reads ("x₁²"): a label
    // that is not a key stands for the config's feature at that place.
    const labels = (S.data && S.data.layers && S.data.layers[0] && S.data.layers[0].labels) || c.features;
    const usedKeys = labels.map((l, i) => (FEATURES.some((f) => f.key === l) ? l : c.features[i]));
    net.columns.push(usedKeys.map((k) => inputs.find((n) => n.key === k)).filter(Boolean));
    net.inputs = inputs;

    // hidden layers
    hidden.forEach((units, k) => {
      const x = colX(k + 1);
      const top = TOP + ((rows - units) * ROW) / 2;
      const label = el('div', { class: 'layer-label' });
      label.innerHTML = `<b>${units} neuron${units === 1 ? '' : 's'}</b>`;
      const pms = el('span', { class: 'pms' });
      const plus = el('button', { class: 'pm', type: 'button', 'data-action': 'add-neuron', 'data-layer': String(k), title: `Add a neuron to hidden layer ${k + 1}`, text: '+' });
      const minus = el('button', { class: 'pm', type: 'button', 'data-action': 'remove-neuron', 'data-layer': String(k), title: `Remove a neuron from hidden layer ${k + 1}`, text: '−' });
      plus.disabled = units >= MAX_NEURONS;
      minus.disabled = units <= 1;
      plus.addEventListener('click', () => changeNeurons(k, +1));
      minus.addEventListener('click', () => changeNeurons(k, -1));
      pms.append(plus, minus);
      label.append(pms);
      placeLabel(label, x);
      box.append(label);
      const col = [];
      for (let j = 0; j < units; j++) {
        const y = top + j * ROW;
        const canvas = el('canvas', { width: '50', height: '50' });
        const bias = el('div', { class: 'bias' });
        const node = el('div', { class: 'neuron', 'data-tip': `hidden layer ${k + 1}, neuron ${j + 1}` }, [canvas, bias]);
        node.style.left = `${x}px`;
        node.style.top = `${y}px`;
        box.append(node);
        const neuron = { x, y, canvas, bias, node, name: `hidden layer ${k + 1}, neuron ${j + 1}` };
        col.push(neuron);
        hoverShows(node, neuron.name, () => neuron.values);
      }
      net.columns.push(col);
    });

    // output unit
    {
      const x = colX(columns - 1);
      const y = TOP + ((rows - 1) * ROW) / 2;
      const label = el('div', { class: 'layer-label' });
      label.innerHTML = '<b>Output</b>1 unit';
      placeLabel(label, x);
      box.append(label);
      const canvas = el('canvas', { width: '50', height: '50' });
      const bias = el('div', { class: 'bias' });
      const node = el('div', { class: 'neuron', 'data-tip': 'output unit' }, [canvas, bias]);
      node.style.left = `${x}px`;
      node.style.top = `${y}px`;
      box.append(node);
      net.columns.push([{ x, y, canvas, bias, node, name: 'output unit' }]);
    }

    // links: one path per weight, drawn behind the neurons
    links.setAttribute('viewBox', `0 0 ${width} ${height}`);
    links.setAttribute('width', width);
    links.setAttribute('height', height);
    for (let k = 0; k + 1 < net.columns.length; k++) {
      const from = net.columns[k];
      const to = net.columns[k + 1];
      from.forEach((a, i) => {
        to.forEach((b, j) => {
          const x0 = a.x + NODE;
          const y0 = a.y + NODE / 2;
          const x1 = b.x;
          const y1 = b.y + NODE / 2;
          const mx = (x0 + x1) / 2;
          const path = svgEl('path', {
            d: `M${x0},${y0} C${mx},${y0} ${mx},${y1} ${x1},${y1}`,
            stroke: rgb(LINK_MID),
            'stroke-width': '1',
            'stroke-opacity': '0.85',
          });
          const fromName = k === 0 ? FEATURES.find((f) => f.key === (a.key || ''))?.label || `input ${i + 1}` : from[i].name;
          path.dataset.from = fromName;
          path.dataset.to = b.name;
          path.dataset.tip = `weight ${fromName} → ${b.name}`;
          links.append(path);
          net.links.push({ k, i, j, path });
        });
      });
    }
    S.net = net;
    updateNetwork();
  }

  function updateNetwork() {
    const net = S.net;
    if (!net) return;
    const st = S.state;
    const heat = st && st.heatmaps;
    // inputs: server's heat maps for used features, computed ones for the rest
    const { size } = gridInfo();
    const used = net.columns[0];
    for (const inp of net.inputs) {
      const idx = used.indexOf(inp);
      let values = null;
      if (heat && heat.neurons && heat.neurons[0] && idx >= 0 && heat.neurons[0][idx]) {
        values = decodeSigned(heat.neurons[0][idx]);
      } else {
        values = featureGrid(inp.key);
      }
      inp.values = values;
      drawSmallHeat(inp.canvas, values, size);
    }
    for (let k = 1; k < net.columns.length; k++) {
      const col = net.columns[k];
      const isOutput = k === net.columns.length - 1;
      col.forEach((n, j) => {
        const b64 = heat && (isOutput ? heat.output : heat.neurons && heat.neurons[k] && heat.neurons[k][j]);
        if (b64) {
          n.values = decodeSigned(b64);
          drawSmallHeat(n.canvas, n.values, size);
        }
        const layer = st && st.weights && st.weights[k - 1];
        if (layer && layer.b && Number.isFinite(layer.b[j])) {
          n.bias.style.background = rgb(scaleColor(layer.b[j]));
          n.node.dataset.tip = `${n.name}\nbias ${fmtNumber(layer.b[j])}`;
        }
      });
    }
    if (!st || !st.weights) return;
    for (const link of net.links) {
      const layer = st.weights[link.k];
      const w = layer && layer.w && layer.w[link.i] ? layer.w[link.i][link.j] : undefined;
      if (!Number.isFinite(w)) continue;
      const width = 1 + Math.min(1, Math.abs(w) / 5) * 9;
      link.path.setAttribute('stroke', rgb(scaleColor(w, LINK_MID)));
      link.path.setAttribute('stroke-width', width.toFixed(2));
      link.path.dataset.tip = `weight ${link.path.dataset.from} → ${link.path.dataset.to}\n${fmtNumber(w)}`;
      link.path.dataset.weight = String(w);
    }
  }

  // While the mouse is on a neuron, the big map shows that neuron.
  function hoverShows(node, name, values) {
    node.addEventListener('mouseenter', () => {
      S.hoverNeuron = { name, values: () => values() || null };
      queueRender();
    });
    node.addEventListener('mouseleave', () => {
      S.hoverNeuron = null;
      queueRender();
    });
  }

  function toggleFeature(key) {
    if (!S.config) return;
    const on = S.config.features.includes(key);
    if (on && S.config.features.length === 1) {
      showError('At least one feature must stay on: turn another one on first.');
      return;
    }
    const set = new Set(S.config.features);
    if (on) set.delete(key);
    else set.add(key);
    const features = FEATURES.map((f) => f.key).filter((k) => set.has(k));
    postConfig({ features }, 'Features');
  }

  function changeNeurons(layer, delta) {
    if (!S.config) return;
    const hidden = [...S.config.hidden];
    const n = hidden[layer] + delta;
    if (n < 1 || n > MAX_NEURONS) return;
    hidden[layer] = n;
    postConfig({ hidden }, 'Neurons');
  }

  // ---------- tooltip ----------

  function setupTooltip() {
    const tip = $('tooltip');
    let target = null;
    document.addEventListener('mousemove', (e) => {
      const t = e.target instanceof Element ? e.target.closest('[data-tip]') : null;
      target = t;
      if (!t) {
        tip.classList.add('hidden');
        return;
      }
      tip.textContent = t.dataset.tip;
      tip.classList.remove('hidden');
      const x = Math.min(e.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
      const y = Math.min(e.clientY + 16, window.innerHeight - tip.offsetHeight - 8);
      tip.style.left = `${x}px`;
      tip.style.top = `${y}px`;
    });
    document.addEventListener('mouseleave', () => {
      target = null;
      tip.classList.add('hidden');
    });
    return () => target;
  }

  // ---------- tabs ----------

  function showTab(tab) {
    if (S.tab !== tab && $('statusbar').classList.contains('ok')) idleStatus();
    S.tab = tab;
    mark('tab', tab);
    for (const b of document.querySelectorAll('.tab')) {
      const on = b.dataset.tab === tab;
      b.classList.toggle('active', on);
      b.setAttribute('aria-selected', on ? 'true' : 'false');
    }
    $('panel-play').classList.toggle('hidden', tab !== 'play');
    $('panel-graph').classList.toggle('hidden', tab !== 'graph');
    $('panel-mnist').classList.toggle('hidden', tab !== 'mnist');
    $('panel-export').classList.toggle('hidden', tab !== 'export');
    if (tab === 'play') {
      // the diagram is laid out against the card's width, unknown while hidden
      if (S.net && S.net.avail !== $('network-scroll').clientWidth) buildNetwork();
    }
    if (tab === 'graph' && !S.graph.bpMode && !S.graph.loaded) scheduleGraphRefresh(0);
    else if (tab === 'graph' && !S.graph.bpMode) applyLayers();
    if (tab === 'mnist') renderMnist();
    if (tab === 'export' && !S.exportLoaded) loadExport();
    queueRender();
  }


  // ---------- layers collapsed in the live graph ----------

  // Graphviz draws a cluster per name scope, a layer. Its nodes are not
  // inside the cluster's <g>, so membership is geometry: a node whose box lies
  // in a top-level cluster's box is that layer's. A collapsed layer is one
  // box, readable at any zoom; a click on it expands it, a click on an
  // expanded layer's label collapses it again.
  const COLLAPSE_ABOVE = 30;  // nodes: a smaller graph reads at once

  function graphLayers(svg) {
    const inside = (a, b) => a.x >= b.x - 0.5 && a.y >= b.y - 0.5 && a.x + a.width <= b.x + b.width + 0.5 && a.y + a.height <= b.y + b.height + 0.5;
    const clusters = [...svg.querySelectorAll('g.cluster')].map((g) => ({
      g, box: g.getBBox(), name: ((g.querySelector('text') || {}).textContent || '').trim(),
    }));
    const layers = clusters.filter((c) => c.name && c.box.width > 0 && !clusters.some((o) => o !== c && inside(c.box, o.box)))
      .map((c) => ({ ...c, nodes: [] }));
    for (const g of svg.querySelectorAll('g.node')) {
      const b = g.getBBox();
      const layer = layers.find((l) => inside(b, l.box));
      if (layer) layer.nodes.push(g);
    }
    return layers.filter((l) => l.nodes.length > 1);
  }

  function nodeName(g) {
    const t = g.querySelector('text');
    return t ? t.textContent.trim() : '';
  }

  function applyLayers() {
    const svg = $('graph-view').querySelector('svg');
    if (!svg || S.graph.bpMode) return;
    for (const b of svg.querySelectorAll('.layer-box')) b.remove();
    for (const e of svg.querySelectorAll('.in-collapsed')) e.classList.remove('in-collapsed');
    const total = svg.querySelectorAll('g.node').length;
    if (S.graph.collapse === null) S.graph.collapse = total > COLLAPSE_ABOVE;
    $('btn-collapse').textContent = S.graph.collapse ? 'Expand all' : 'Collapse layers';
    if (!S.graph.collapse) {
      mark('graphCollapsed', 0);
      return;
    }
    const layers = graphLayers(svg);
    if (!layers.length) return;  // not laid out yet (a hidden tab): showTab comes back here
    const layerOf = new Map();
    let collapsed = 0;
    for (const l of layers) {
      l.g.classList.toggle('expanded', S.graph.expanded.has(l.name));
      l.g.dataset.layer = l.name;
      if (S.graph.expanded.has(l.name)) continue;
      collapsed++;
      for (const n of l.nodes) {
        n.classList.add('in-collapsed');
        layerOf.set(n.id, l.name);
      }
      l.g.classList.add('in-collapsed');
      drawLayerBox(svg, l);
    }
    // An edge inside one collapsed layer goes with its nodes; one between
    // layers stays, ending under the boxes.
    for (const e of svg.querySelectorAll('g.edge')) {
      const m = /^(n\d+)->(n\d+)$/.exec(((e.querySelector('title') || {}).textContent || '').trim());
      if (m && layerOf.has(m[1]) && layerOf.get(m[1]) === layerOf.get(m[2])) e.classList.add('in-collapsed');
    }
    sizeLayerText(svg);
    mark('graphCollapsed', collapsed);
  }

  function drawLayerBox(svg, layer) {
    const root = svg.querySelector('g.graph') || svg;
    const b = layer.box;
    const names = layer.nodes.map(nodeName);
    const backward = names.filter((n) => n.startsWith('grad(')).length;
    const box = svgEl('g', { class: 'layer-box', 'data-layer': layer.name });
    box.dataset.tip = `${layer.name}: ${names.join(', ')}`;
    box.append(svgEl('rect', { x: b.x, y: b.y, width: b.width, height: b.height, rx: 10 }));
    const text = svgEl('text', { x: b.x + b.width / 2, y: b.y + b.height / 2, 'text-anchor': 'middle' });
    const lines = [layer.name, `${names.length - backward} forward`, `${backward} backward`, 'click to expand'];
    lines.forEach((line, i) => {
      const span = svgEl('tspan', { x: b.x + b.width / 2, dy: i === 0 ? `${-0.65 * (lines.length - 1)}em` : '1.3em' });
      span.textContent = line;
      if (i === 0) span.setAttribute('class', 'layer-name');
      text.append(span);
    });
    box.append(text);
    box.dataset.width = b.width;
    box.dataset.height = b.height;
    root.append(box);
  }

  // 13 screen pixels whatever the zoom, as long as the words fit their box.
  function sizeLayerText(svg) {
    const z = S.graph.zoom || 1;
    for (const box of svg.querySelectorAll('.layer-box')) {
      const size = Math.min(13 / z, Number(box.dataset.width) / 9, Number(box.dataset.height) / 6);
      box.querySelector('text').setAttribute('font-size', size.toFixed(2));
    }
  }

  function setLayer(name, expand) {
    if (expand) S.graph.expanded.add(name);
    else S.graph.expanded.delete(name);
    applyLayers();
    const c = [...$('graph-view').querySelectorAll('g.cluster')].find((g) => g.dataset.layer === name);
    if (expand && c) zoomToBox(c);
  }

  // Zooms so that an element fills most of the view, and centres it.
  function zoomToBox(elem) {
    const view = $('graph-view');
    const svg = view.querySelector('svg');
    const b = elem.getBBox();
    S.graph.zoom = Math.min(1.4, Math.max(0.15, 0.9 * Math.min(view.clientWidth / b.width, view.clientHeight / b.height)));
    applyZoom();
    const r = elem.getBoundingClientRect();
    const vr = view.getBoundingClientRect();
    view.scrollLeft += r.left + r.width / 2 - (vr.left + vr.width / 2);
    view.scrollTop += r.top + r.height / 2 - (vr.top + vr.height / 2);
    return svg;
  }

  // ---------- the graph panel ----------

  function scheduleGraphRefresh(delay) {
    clearTimeout(S.graph.timer);
    S.graph.timer = setTimeout(() => fetchGraph(), delay);
  }

  async function fetchGraph() {
    if (!S.id || S.graph.bpMode) return;
    if (S.graph.inflight) {
      S.graph.again = true;
      return;
    }
    S.graph.inflight = true;
    S.graph.last = Date.now();
    const r = await api('graph.svg', undefined, { method: 'GET', expect: 'text' });
    S.graph.inflight = false;
    if (!r.ok) {
      if (!r.lostSession) showError(`Could not load the graph: ${r.error}`);
    } else if (!S.graph.bpMode) {
      showSvg(r.text);
      S.graph.loaded = true;
      if (S.graph.selected !== null && !(S.state && S.state.playing)) selectNode(S.graph.selected, true);
      mark('graphLoads', (Number(document.body.dataset.graphLoads) || 0) + 1);
    }
    if (S.graph.again) {
      S.graph.again = false;
      const playing = S.state && S.state.playing;
      scheduleGraphRefresh(playing ? 1000 : 0);
    }
  }

  // Puts an SVG document into the graph view, keeping the zoom and scroll.
  function showSvg(text) {
    const view = $('graph-view');
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    const root = doc.documentElement;
    if (!root || root.nodeName.toLowerCase() !== 'svg' || doc.getElementsByTagName('parsererror').length) {
      showError('The server sent a graph that is not SVG.');
      return false;
    }
    for (const s of root.querySelectorAll('script, foreignObject')) s.remove();
    const svg = document.importNode(root, true);
    let vb = (svg.getAttribute('viewBox') || '').split(/[\s,]+/).map(Number);
    if (vb.length !== 4 || vb.some((v) => !Number.isFinite(v))) {
      const w = parseFloat(svg.getAttribute('width')) || 800;
      const h = parseFloat(svg.getAttribute('height')) || 600;
      vb = [0, 0, w, h];
      svg.setAttribute('viewBox', vb.join(' '));
    }
    svg.removeAttribute('width');
    svg.removeAttribute('height');
    svg.dataset.vbw = vb[2];
    svg.dataset.vbh = vb[3];
    const keepScroll = [view.scrollLeft, view.scrollTop];
    const hadSvg = !!view.querySelector('svg');
    view.innerHTML = '';
    view.append(svg);
    if (S.graph.zoom === null || !hadSvg) fitGraph();
    else applyZoom();
    if (!S.graph.bpMode) applyLayers();
    if (hadSvg) [view.scrollLeft, view.scrollTop] = keepScroll;
    if (S.graph.selected !== null) {
      const g = findGraphNode(S.graph.selected);
      if (g) g.classList.add('selected');
    }
    return true;
  }

  function applyZoom() {
    const svg = $('graph-view').querySelector('svg');
    if (!svg) return;
    const z = S.graph.zoom || 1;
    svg.setAttribute('width', (Number(svg.dataset.vbw) * z).toFixed(1));
    svg.setAttribute('height', (Number(svg.dataset.vbh) * z).toFixed(1));
    sizeLayerText(svg);
  }

  function fitGraph() {
    const view = $('graph-view');
    const svg = view.querySelector('svg');
    if (!svg) return;
    const w = view.clientWidth - 4;
    const h = view.clientHeight - 4;
    const vw = Number(svg.dataset.vbw);
    const vh = Number(svg.dataset.vbh);
    if (!w || !h || !vw || !vh) {
      S.graph.zoom = 1;
    } else {
      // fit the width; a tall graph scrolls
      S.graph.zoom = Math.min(1.4, Math.max(0.15, Math.min(w / vw, Math.max(h / vh, (w / vw) * 0.6))));
    }
    applyZoom();
  }

  function zoomBy(f) {
    const view = $('graph-view');
    const cx = view.scrollLeft + view.clientWidth / 2;
    const cy = view.scrollTop + view.clientHeight / 2;
    const old = S.graph.zoom || 1;
    S.graph.zoom = Math.min(4, Math.max(0.1, old * f));
    applyZoom();
    const k = S.graph.zoom / old;
    view.scrollLeft = cx * k - view.clientWidth / 2;
    view.scrollTop = cy * k - view.clientHeight / 2;
  }

  function nodeIdOf(g) {
    const m = /^n(\d+)$/.exec(g.id || '');
    if (m) return Number(m[1]);
    const t = g.querySelector('title');
    const m2 = t && /^n(\d+)$/.exec(t.textContent.trim());
    return m2 ? Number(m2[1]) : null;
  }

  function findGraphNode(id) {
    const view = $('graph-view');
    const byId = view.querySelector(`g#n${id}`);
    if (byId) return byId;
    for (const g of view.querySelectorAll('g.node')) if (nodeIdOf(g) === id) return g;
    return null;
  }

  function setupGraph() {
    const view = $('graph-view');
    $('btn-refresh-graph').addEventListener('click', () => fetchGraph());
    $('btn-live-graph').addEventListener('click', () => {
      clearBackprop(null);
      fetchGraph();
    });
    $('zoom-in').addEventListener('click', () => zoomBy(1.25));
    $('zoom-out').addEventListener('click', () => zoomBy(0.8));
    $('zoom-fit').addEventListener('click', () => fitGraph());
    $('btn-collapse').addEventListener('click', () => {
      S.graph.collapse = !S.graph.collapse;
      S.graph.expanded.clear();
      applyLayers();
      fitGraph();
    });
    view.addEventListener('wheel', (e) => {
      if (!e.ctrlKey && !e.metaKey) return;
      e.preventDefault();
      zoomBy(e.deltaY < 0 ? 1.1 : 0.9);
    }, { passive: false });

    // drag to pan; a click without a drag on a node opens it
    let drag = null;
    view.addEventListener('mousedown', (e) => {
      if (e.button !== 0) return;
      drag = { x: e.clientX, y: e.clientY, sl: view.scrollLeft, st: view.scrollTop, moved: false };
    });
    window.addEventListener('mousemove', (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x;
      const dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 4) {
        drag.moved = true;
        view.classList.add('dragging');
      }
      if (drag.moved) {
        view.scrollLeft = drag.sl - dx;
        view.scrollTop = drag.st - dy;
      }
    });
    window.addEventListener('mouseup', () => {
      view.classList.remove('dragging');
      setTimeout(() => {
        drag = null;
      }, 0);
    });
    view.addEventListener('click', (e) => {
      if (drag && drag.moved) return;
      const layerBox = e.target instanceof Element ? e.target.closest('g.layer-box') : null;
      if (layerBox) {
        setLayer(layerBox.dataset.layer, true);
        return;
      }
      const cluster = e.target instanceof Element ? e.target.closest('g.cluster.expanded') : null;
      if (cluster) {
        setLayer(cluster.dataset.layer, false);
        return;
      }
      const g = e.target instanceof Element ? e.target.closest('g.node') : null;
      if (!g) return;
      const id = nodeIdOf(g);
      if (id !== null) selectNode(id);
    });
  }

  async function selectNode(id, quiet = false) {
    for (const g of $('graph-view').querySelectorAll('g.node.selected')) g.classList.remove('selected');
    S.graph.selected = id;
    const g = findGraphNode(id);
    if (g) g.classList.add('selected');
    const info = $('node-info');
    if (!quiet) info.innerHTML = '<div class="muted">Loading…</div>';
    const r = await api(`nodes/${id}`, undefined, { method: 'GET' });
    if (S.graph.selected !== id) return;
    if (!r.ok) {
      info.innerHTML = '';
      info.append(el('div', { class: 'mnist-message error', text: r.error }));
      if (!r.lostSession) showError(`Could not load node ${id}: ${r.error}`);
      return;
    }
    renderNode(r.json);
    mark('nodeId', id);
    if (quiet) return;
    const card = info.closest('.card');
    const side = card && card.parentElement;
    if (side && side.scrollHeight > side.clientHeight) side.scrollTop = card.offsetTop - side.offsetTop;
  }

  function renderNode(n) {
    const info = $('node-info');
    info.innerHTML = '';
    info.append(el('div', { class: 'node-title', text: n.name || `node ${n.id}` }));
    const dl = el('dl');
    const add = (k, v) => {
      if (v === undefined || v === null || v === '') return;
      dl.append(el('dt', { text: k }), el('dd', { text: String(v) }));
    };
    add('id', n.id);
    add('op', n.op);
    add('role', n.role);
    add('computes', n.expression);
    add('shape', Array.isArray(n.shape) ? `[${n.shape.join(', ')}]` : n.shape);
    info.append(dl);
    info.append(el('h3', { text: 'Value' }));
    info.append(valueTable(n.value, 'value'));
    info.append(el('h3', { text: n.grad ? `Gradient: ${n.grad.name || 'grad'}${n.grad.id !== undefined ? ` (node ${n.grad.id})` : ''}` : 'Gradient' }));
    if (n.grad) {
      info.append(valueTable(n.grad.value, 'grad'));
    } else {
      info.append(el('div', { class: 'muted', text: 'None: the loss does not depend on this node, so backpropagation gives it no gradient.' }));
    }
  }

  // A 2-D table of numbers, each cell tinted by its sign and size.
  function valueTable(value, kind) {
    const wrap = el('div');
    if (value === null || value === undefined) {
      wrap.append(el('div', { class: 'muted', text: 'Not computed yet: train a step (the config was changed or reset since the last one).' }));
      return wrap;
    }
    let rows;
    if (!Array.isArray(value)) rows = [[value]];
    else if (value.length === 0) rows = [[]];
    else if (!Array.isArray(value[0])) rows = [value];
    else rows = value.map((r) => (Array.isArray(r) ? r.flat(Infinity) : [r]));
    const MAX_ROWS = 400;
    const MAX_COLS = 60;
    let maxAbs = 0;
    for (const r of rows) for (const v of r) if (Number.isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
    const table = el('table', { class: `values ${kind}` });
    const cols = Math.min(MAX_COLS, Math.max(0, ...rows.map((r) => r.length)));
    const head = el('tr', {}, [el('th', { class: 'rowhead', text: '' })]);
    for (let j = 0; j < cols; j++) head.append(el('th', { text: String(j) }));
    table.append(head);
    rows.slice(0, MAX_ROWS).forEach((r, i) => {
      const tr = el('tr', {}, [el('th', { class: 'rowhead', text: String(i) })]);
      for (let j = 0; j < cols; j++) {
        const v = r[j];
        // the server sends NaN and infinities as null
        const td = el('td', { text: v === undefined ? '' : v === null ? 'NaN' : fmtCell(v) });
        if (Number.isFinite(v)) td.title = fmtNumber(v);
        if (Number.isFinite(v) && maxAbs > 0) {
          const c = scaleColor(v / maxAbs, [255, 255, 255]);
          td.style.background = `rgba(${Math.round(c[0])},${Math.round(c[1])},${Math.round(c[2])},0.55)`;
        }
        tr.append(td);
      }
      table.append(tr);
    });
    const tw = el('div', { class: 'table-wrap' }, [table]);
    wrap.append(tw);
    const notes = [];
    if (rows.length > MAX_ROWS) notes.push(`first ${MAX_ROWS} of ${rows.length} rows`);
    if (rows.some((r) => r.length > MAX_COLS)) notes.push(`first ${MAX_COLS} columns`);
    if (notes.length) wrap.append(el('div', { class: 'table-note', text: `Showing ${notes.join(', ')}.` }));
    return wrap;
  }

  // ---------- backprop step by step ----------

  async function runBackprop(index) {
    if (!S.data || !S.data.train.length) return;
    if (index < 0 || index >= S.data.train.length) return;
    stopAutoplay();
    setStatus(`Running point #${index} forward and backward…`, 'busy');
    const r = await api('backprop', { point: index });
    if (!r.ok) {
      if (!r.lostSession) showError(`Backprop failed: ${r.error}`);
      return;
    }
    const res = r.json;
    if (!Array.isArray(res.steps) || typeof res.svg !== 'string') {
      showError('The backprop answer has no steps or no svg.');
      return;
    }
    const first = !S.graph.bpMode;
    S.bp = { index, point: res.point, steps: res.steps };
    S.graph.bpMode = true;
    clearTimeout(S.graph.timer);
    if (!showSvg(res.svg)) return;
    // big enough to read each node's numbers; the view follows the current step
    if (first) {
      S.graph.zoom = Math.max(S.graph.zoom || 0, 0.9);
      applyZoom();
    }
    $('graph-view').classList.add('bp-mode');
    $('btn-live-graph').classList.remove('hidden');
    $('btn-refresh-graph').classList.add('hidden');
    $('btn-collapse').classList.add('hidden');
    $('graph-title').textContent = `Backpropagation for training point #${index}`;
    $('graph-caption').textContent = 'The graph run forward, then backward, on this one point (no training). The highlighted node is the current step; nodes already computed stay bright. Click any node for its full value and gradient.';
    const p = res.point || S.data.train[index];
    $('bp-point').innerHTML = '';
    $('bp-point').append(
      el('div', { text: `point #${index}` }),
      el('div', { text: `x₁ = ${fmtNumber(p[0])}` }),
      el('div', { text: `x₂ = ${fmtNumber(p[1])}` }),
      el('div', { text: `label = ${fmtNumber(p[2])}` }),
    );
    const list = $('bp-list');
    list.innerHTML = '';
    res.steps.forEach((s, i) => {
      const li = el('li', { class: s.pass, title: s.text || '' }, [el('span', { class: 'dot' }), el('span', { text: `${i + 1}. ${s.name}` })]);
      li.addEventListener('click', () => showStep(i));
      list.append(li);
    });
    mark('backpropSteps', res.steps.length);
    mark('backpropPoint', index);
    setStatus(`Point #${index}: ${res.steps.length} steps, forward then backward. Use Next / Previous or the arrow keys.`, 'ok');
    showStep(0);
    queueRender();
  }

  function clearBackprop(message) {
    stopAutoplay();
    S.bp = null;
    S.bpIndex = -1;
    S.graph.bpMode = false;
    S.graph.loaded = false;
    $('graph-view').classList.remove('bp-mode');
    $('btn-live-graph').classList.add('hidden');
    $('btn-refresh-graph').classList.remove('hidden');
    $('btn-collapse').classList.remove('hidden');
    $('graph-title').textContent = 'The computation graph';
    $('graph-caption').textContent = 'This is the network as dagrad builds it: the forward pass (blue) and the backward pass (red) that gradients() adds, with each node\'s value and gradient from the last training step. Click a node to see its whole value and gradient; drag to move around, Ctrl + wheel or the buttons zoom.';
    $('bp-list').innerHTML = '';
    $('bp-pass').textContent = '–';
    $('bp-pass').className = 'pass-badge';
    $('bp-counter').textContent = '';
    $('bp-name').textContent = '';
    $('bp-text').textContent = message || 'Choose a point to start.';
    $('bp-point').textContent = 'No point chosen yet.';
    $('bp-progress-bar').style.width = '0';
    for (const id of ['bp-prev', 'bp-next', 'bp-auto']) $(id).disabled = true;
    delete document.body.dataset.backpropNode;
    delete document.body.dataset.backpropIndex;
    delete document.body.dataset.backpropPass;
    delete document.body.dataset.backpropSteps;
    if (S.tab === 'graph') scheduleGraphRefresh(0);
  }

  function showStep(i) {
    const bp = S.bp;
    if (!bp || i < 0 || i >= bp.steps.length) return;
    S.bpIndex = i;
    const step = bp.steps[i];
    const view = $('graph-view');
    for (const g of view.querySelectorAll('g.node.bp-current, g.node.bp-done')) g.classList.remove('bp-current', 'bp-done', 'forward', 'backward');
    for (let k = 0; k < i; k++) {
      const g = findGraphNode(bp.steps[k].node);
      if (g) g.classList.add('bp-done');
    }
    const g = findGraphNode(step.node);
    if (g) {
      g.classList.add('bp-current', step.pass === 'backward' ? 'backward' : 'forward');
      scrollIntoGraphView(g);
    }
    const badge = $('bp-pass');
    badge.textContent = step.pass === 'backward' ? 'backward pass' : 'forward pass';
    badge.className = `pass-badge ${step.pass}`;
    $('bp-counter').textContent = `step ${i + 1} of ${bp.steps.length}`;
    $('bp-name').textContent = `${step.name}  (node ${step.node})`;
    $('bp-text').textContent = step.text || '';
    $('bp-progress-bar').style.width = `${((i + 1) / bp.steps.length) * 100}%`;
    $('bp-prev').disabled = i === 0;
    $('bp-next').disabled = i === bp.steps.length - 1;
    $('bp-auto').disabled = false;
    const list = $('bp-list');
    [...list.children].forEach((li, k) => li.classList.toggle('current', k === i));
    const li = list.children[i];
    if (li) {
      const top = li.offsetTop - list.offsetTop;
      if (top < list.scrollTop || top + li.offsetHeight > list.scrollTop + list.clientHeight) {
        list.scrollTop = top - list.clientHeight / 2;
      }
    }
    document.body.dataset.backpropNode = String(step.node);
    document.body.dataset.backpropIndex = String(i);
    document.body.dataset.backpropPass = step.pass;
  }

  function scrollIntoGraphView(g) {
    const view = $('graph-view');
    const vr = view.getBoundingClientRect();
    const r = g.getBoundingClientRect();
    const margin = 40;
    if (r.left < vr.left + margin || r.right > vr.right - margin || r.top < vr.top + margin || r.bottom > vr.bottom - margin) {
      view.scrollLeft += r.left + r.width / 2 - (vr.left + vr.width / 2);
      view.scrollTop += r.top + r.height / 2 - (vr.top + vr.height / 2);
    }
  }

  function stopAutoplay() {
    clearInterval(S.bpTimer);
    S.bpTimer = null;
    $('bp-auto').textContent = 'Autoplay';
    $('bp-auto').classList.remove('on');
  }

  function setupBackprop() {
    $('bp-prev').addEventListener('click', () => {
      stopAutoplay();
      showStep(S.bpIndex - 1);
    });
    $('bp-next').addEventListener('click', () => {
      stopAutoplay();
      showStep(S.bpIndex + 1);
    });
    $('bp-auto').addEventListener('click', () => {
      if (S.bpTimer) {
        stopAutoplay();
        return;
      }
      if (!S.bp) return;
      if (S.bpIndex >= S.bp.steps.length - 1) showStep(0);
      $('bp-auto').textContent = 'Pause';
      $('bp-auto').classList.add('on');
      S.bpTimer = setInterval(() => {
        if (!S.bp || S.bpIndex >= S.bp.steps.length - 1) {
          stopAutoplay();
          return;
        }
        showStep(S.bpIndex + 1);
      }, 900);
    });
    $('btn-random-point').addEventListener('click', () => {
      if (!S.data || !S.data.train.length) {
        showError('No training points yet.');
        return;
      }
      runBackprop(Math.floor(Math.random() * S.data.train.length));
    });
    const pick = (canvas, jump) => (e) => {
      const i = pointAt(canvas, e);
      if (i < 0) {
        setStatus('Click closer to a training point (the dots with a white ring).', 'busy');
        return;
      }
      if (jump) showTab('graph');
      runBackprop(i);
    };
    $('bp-map').addEventListener('click', pick($('bp-map'), false));
    $('heatmap').addEventListener('click', pick($('heatmap'), true));
    $('heatmap').addEventListener('mousemove', (e) => {
      const i = pointAt($('heatmap'), e);
      const c = $('heatmap');
      if (i >= 0) {
        const p = S.data.train[i];
        c.dataset.tip = `training point #${i}\nx₁ ${fmtNumber(p[0])}, x₂ ${fmtNumber(p[1])}, label ${fmtNumber(p[2])}\nclick: backprop for it`;
      } else {
        delete c.dataset.tip;
      }
    });
    document.addEventListener('keydown', (e) => {
      if (S.tab !== 'graph' || !S.bp) return;
      if (e.target instanceof HTMLElement && /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName)) return;
      if (e.key === 'ArrowRight') {
        stopAutoplay();
        showStep(S.bpIndex + 1);
      } else if (e.key === 'ArrowLeft') {
        stopAutoplay();
        showStep(S.bpIndex - 1);
      }
    });
  }


  // ---------- the exported program ----------

  // The program the server writes for this session, shown as text: comments,
  // strings and a few keywords tinted, built from text nodes only.
  async function loadExport() {
    if (!S.id) return;
    S.exportLoaded = true;
    const version = (S.exportVersion = (S.exportVersion || 0) + 1);
    const r = await api('export.cpp', undefined, { method: 'GET', expect: 'text' });
    if (version !== S.exportVersion) return;  // a newer config's program is on its way
    if (!r.ok) {
      S.exportLoaded = false;
      $('export-code').textContent = `Could not load the program: ${r.error}`;
      if (!r.lostSession) showError(`Could not load the exported program: ${r.error}`);
      return;
    }
    S.exportText = r.text;
    showCode($('export-code'), r.text);
    const lines = r.text.split('\n').length;
    $('export-meta').textContent = `network.cpp: ${lines.toLocaleString('en-US')} lines, ${(r.text.length / 1024).toFixed(1)} KiB; ${describeConfig(S.config)}.`;
    mark('exportLines', lines);
  }

  const CPP_TOKENS = /(\/\/[^\n]*)|("(?:[^"\\\n]|\\.)*")|(#include\b|#pragma\b|\b(?:int|double|float|auto|const|return|for|if|else|struct|namespace|using|std|void|static|constexpr)\b)/g;

  function showCode(pre, text) {
    pre.textContent = '';
    let at = 0;
    for (const m of text.matchAll(CPP_TOKENS)) {
      if (m.index > at) pre.append(document.createTextNode(text.slice(at, m.index)));
      const kind = m[1] ? 'c-comment' : m[2] ? 'c-string' : 'c-keyword';
      pre.append(el('span', { class: kind, text: m[0] }));
      at = m.index + m[0].length;
    }
    if (at < text.length) pre.append(document.createTextNode(text.slice(at)));
  }

  function setupExport() {
    $('export-copy').addEventListener('click', async () => {
      if (!S.exportText) return;
      try {
        await navigator.clipboard.writeText(S.exportText);
        setStatus('The program is on the clipboard.', 'ok');
      } catch (e) {
        // No clipboard (an insecure origin, or refused): select it for Ctrl+C.
        const range = document.createRange();
        range.selectNodeContents($('export-code'));
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        setStatus('The program is selected: press Ctrl+C (or ⌘C) to copy it.', 'ok');
      }
    });
  }

  // ---------- MNIST ----------

  function onMnist(m) {
    S.mnist = m;
    mark('mnistEpoch', m.epoch);
    mark('mnistPlaying', m.playing ? 'true' : 'false');
    if (m.test_accuracy !== null && m.test_accuracy !== undefined) mark('mnistAccuracy', m.test_accuracy);
    $('mnist-play').classList.toggle('playing', !!m.playing);
    if (S.tab === 'mnist') {
      if (!S.mnistQueued) {
        S.mnistQueued = true;
        requestAnimationFrame(() => {
          S.mnistQueued = false;
          renderMnist();
        });
      }
    }
  }

  function renderMnist() {
    const m = S.mnist;
    if (!m) {
      drawLines($('mnist-loss'), []);
      return;
    }
    $('mnist-epoch').textContent = m.epoch;
    $('mnist-accuracy').textContent = Number.isFinite(m.test_accuracy) ? `${(m.test_accuracy * 100).toFixed(1)}%` : '–';
    $('mnist-rows').textContent = Number.isFinite(m.train_rows) ? m.train_rows.toLocaleString('en-US') : '–';
    const { percent, text } = mnistProgress(m);
    // The bar and the words show the same number.
    $('mnist-progress').style.width = `${percent}%`;
    $('mnist-progress-text').textContent = text;
    mark('mnistPercent', percent);
    mark('mnistShownEpoch', m.epoch);
    drawLines($('mnist-loss'), [{ data: m.loss_curve || [], color: '#0877bd', width: 2 }]);
    if (m.weights) drawMnistWeights(decodeBytes(m.weights));
  }

  // Where training is, as a whole percent of the current epoch and a sentence.
  // Progress 1 while playing is the epoch just finished, the next not begun;
  // a pause lets the epoch under way run to its end.
  function mnistProgress(m) {
    const raw = Math.max(0, Math.min(1, Number(m.progress) || 0));
    const epochs = `${m.epoch} epoch${m.epoch === 1 ? '' : 's'}`;
    const rows = Number.isFinite(m.train_rows) ? `${m.train_rows.toLocaleString('en-US')} ` : '';
    if (m.playing) {
      const percent = raw >= 1 ? 0 : Math.floor(raw * 100);
      const first = m.epoch === 0 ? ' The first epoch takes a moment.' : '';
      return { percent, text: `Training epoch ${m.epoch + 1}: ${percent}% of the ${rows}training images.${first}` };
    }
    if (raw > 0 && raw < 1) {
      const percent = Math.floor(raw * 100);
      return { percent, text: `Pausing: epoch ${m.epoch + 1} runs to its end (${percent}%).` };
    }
    if (m.epoch > 0) return { percent: 100, text: `Paused after ${epochs}.` };
    return { percent: 0, text: 'Press play to train.' };
  }

  function drawMnistWeights(bytes) {
    const grid = $('mnist-weights');
    const count = Math.floor(bytes.length / 784);
    while (S.weightCanvases.length < count) {
      const c = el('canvas', { width: '28', height: '28', title: `hidden neuron ${S.weightCanvases.length + 1}` });
      grid.append(c);
      S.weightCanvases.push(c);
    }
    for (let n = 0; n < count; n++) {
      const ctx = S.weightCanvases[n].getContext('2d');
      const img = ctx.createImageData(28, 28);
      for (let i = 0; i < 784; i++) {
        const v = (bytes[n * 784 + i] - 128) / 127;
        const c = scaleColor(v);
        img.data[i * 4] = c[0];
        img.data[i * 4 + 1] = c[1];
        img.data[i * 4 + 2] = c[2];
        img.data[i * 4 + 3] = 255;
      }
      ctx.putImageData(img, 0, 0);
    }
  }

  function mnistMessage(text, error) {
    const m = $('mnist-message');
    m.textContent = text || '';
    m.classList.toggle('error', !!error);
    if (error) mark('mnistError', text);
  }

  function setupMnist() {
    $('mnist-play').addEventListener('click', async () => {
      const playing = S.mnist && S.mnist.playing;
      const r = await api(playing ? 'mnist/pause' : 'mnist/play');
      if (!r.ok) {
        mnistMessage(r.error, true);
        if (!r.lostSession) showError(`MNIST: ${r.error}`);
      } else {
        mnistMessage('', false);
      }
    });
    $('mnist-reset').addEventListener('click', async () => {
      const r = await api('mnist/reset');
      if (!r.ok) {
        mnistMessage(r.error, true);
        if (!r.lostSession) showError(`MNIST: ${r.error}`);
      } else {
        mnistMessage('', false);
      }
    });

    drawMnistWeights(new Uint8Array(50 * 784).fill(128));

    const canvas = $('draw');
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const clear = () => {
      ctx.fillStyle = '#000';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      S.drawing.hasInk = false;
      $('prediction').textContent = '?';
      drawProbabilities(null);
      const pv = $('draw-preview').getContext('2d');
      pv.fillStyle = '#000';
      pv.fillRect(0, 0, 28, 28);
      delete document.body.dataset.prediction;
      delete document.body.dataset.probabilitySum;
    };
    clear();
    $('draw-clear').addEventListener('click', () => {
      clear();
      mnistMessage('', false);
    });
    const pos = (e) => {
      const r = canvas.getBoundingClientRect();
      return [((e.clientX - r.left) / r.width) * canvas.width, ((e.clientY - r.top) / r.height) * canvas.height];
    };
    const dab = (p) => {
      ctx.beginPath();
      ctx.arc(p[0], p[1], 9, 0, 2 * Math.PI);
      ctx.fillStyle = '#fff';
      ctx.fill();
    };
    canvas.addEventListener('pointerdown', (e) => {
      e.preventDefault();
      if (canvas.setPointerCapture) {
        try {
          canvas.setPointerCapture(e.pointerId);
        } catch (err) {
          // a synthetic pointer has nothing to capture
        }
      }
      S.drawing.active = true;
      S.drawing.last = pos(e);
      S.drawing.hasInk = true;
      dab(S.drawing.last);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!S.drawing.active) return;
      e.preventDefault();
      const p = pos(e);
      ctx.strokeStyle = '#fff';
      ctx.lineWidth = 18;
      ctx.lineCap = 'round';
      ctx.lineJoin = 'round';
      ctx.beginPath();
      ctx.moveTo(S.drawing.last[0], S.drawing.last[1]);
      ctx.lineTo(p[0], p[1]);
      ctx.stroke();
      S.drawing.last = p;
    });
    const end = () => {
      if (!S.drawing.active) return;
      S.drawing.active = false;
      predict();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
    canvas.addEventListener('lostpointercapture', end);
  }

  // MNIST's preprocessing: the ink's bounding box scaled to fit 20x20 (aspect kept),
  // placed in 28x28 so that its centre of mass is the centre.
  function preprocess(canvas) {
    const W = canvas.width;
    const H = canvas.height;
    const src = canvas.getContext('2d').getImageData(0, 0, W, H).data;
    const ink = new Float32Array(W * H);
    let x0 = W;
    let y0 = H;
    let x1 = -1;
    let y1 = -1;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const v = src[(y * W + x) * 4] / 255;
        ink[y * W + x] = v;
        if (v > 0.1) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
        }
      }
    }
    if (x1 < 0) return null;
    const bw = x1 - x0 + 1;
    const bh = y1 - y0 + 1;
    const scale = 20 / Math.max(bw, bh);
    const tw = Math.max(1, Math.round(bw * scale));
    const th = Math.max(1, Math.round(bh * scale));
    // area average of the source pixels that fall into each target pixel
    const small = new Float32Array(tw * th);
    for (let ty = 0; ty < th; ty++) {
      const sy0 = y0 + (ty * bh) / th;
      const sy1 = y0 + ((ty + 1) * bh) / th;
      for (let tx = 0; tx < tw; tx++) {
        const sx0 = x0 + (tx * bw) / tw;
        const sx1 = x0 + ((tx + 1) * bw) / tw;
        let sum = 0;
        let area = 0;
        for (let sy = Math.floor(sy0); sy < Math.ceil(sy1); sy++) {
          const wy = Math.min(sy + 1, sy1) - Math.max(sy, sy0);
          if (wy <= 0) continue;
          for (let sx = Math.floor(sx0); sx < Math.ceil(sx1); sx++) {
            const wx = Math.min(sx + 1, sx1) - Math.max(sx, sx0);
            if (wx <= 0) continue;
            sum += ink[sy * W + sx] * wx * wy;
            area += wx * wy;
          }
        }
        small[ty * tw + tx] = area > 0 ? sum / area : 0;
      }
    }
    let mass = 0;
    let cx = 0;
    let cy = 0;
    for (let y = 0; y < th; y++) {
      for (let x = 0; x < tw; x++) {
        const v = small[y * tw + x];
        mass += v;
        cx += v * (x + 0.5);
        cy += v * (y + 0.5);
      }
    }
    cx = mass > 0 ? cx / mass : tw / 2;
    cy = mass > 0 ? cy / mass : th / 2;
    const ox = Math.round(14 - cx);
    const oy = Math.round(14 - cy);
    const out = new Array(784).fill(0);
    for (let y = 0; y < th; y++) {
      for (let x = 0; x < tw; x++) {
        const X = x + ox;
        const Y = y + oy;
        if (X < 0 || X >= 28 || Y < 0 || Y >= 28) continue;
        out[Y * 28 + X] = Math.max(0, Math.min(1, small[y * tw + x]));
      }
    }
    return out;
  }

  async function predict() {
    const pixels = preprocess($('draw'));
    if (!pixels) return;
    const pv = $('draw-preview').getContext('2d');
    const img = pv.createImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      const v = Math.round(pixels[i] * 255);
      img.data.set([v, v, v, 255], i * 4);
    }
    pv.putImageData(img, 0, 0);
    const rounded = pixels.map((v) => Math.round(v * 1000) / 1000);
    const r = await api('mnist/predict', { pixels: rounded });
    if (!r.ok) {
      $('prediction').textContent = '?';
      drawProbabilities(null);
      mnistMessage(r.error, true);
      return;
    }
    const { digit, probabilities } = r.json;
    if (!Number.isInteger(digit) || !Array.isArray(probabilities) || probabilities.length !== 10) {
      mnistMessage('The server\'s prediction has no digit or not ten probabilities.', true);
      return;
    }
    $('prediction').textContent = String(digit);
    drawProbabilities(probabilities, digit);
    const sum = probabilities.reduce((a, b) => a + b, 0);
    mnistMessage(`The network reads a ${digit} (${(probabilities[digit] * 100).toFixed(1)}% sure).`, false);
    mark('prediction', digit);
    mark('probabilitySum', sum);
  }

  function drawProbabilities(probs, best) {
    const svg = $('probs');
    svg.innerHTML = '';
    const W = 460;
    const H = 150;
    const bw = W / 10;
    for (let d = 0; d < 10; d++) {
      const p = probs ? Math.max(0, Math.min(1, probs[d])) : 0;
      const h = p * (H - 34);
      const x = d * bw + 4;
      svg.append(svgEl('rect', { x, y: 8, width: bw - 8, height: H - 34, fill: '#f1f3f6', rx: 3 }));
      const bar = svgEl('rect', { x, y: H - 26 - h, width: bw - 8, height: h, fill: d === best ? '#0877bd' : '#9cc7e4', rx: 3 });
      bar.dataset.digit = d;
      bar.dataset.probability = p;
      svg.append(bar);
      const label = svgEl('text', { x: x + (bw - 8) / 2, y: H - 10, 'text-anchor': 'middle' });
      label.textContent = String(d);
      if (d === best) label.setAttribute('font-weight', '700');
      svg.append(label);
      if (probs && p >= 0.01) {
        const t = svgEl('text', { x: x + (bw - 8) / 2, y: Math.max(18, H - 30 - h), 'text-anchor': 'middle' });
        t.textContent = `${Math.round(p * 100)}%`;
        t.setAttribute('font-size', '10');
        svg.append(t);
      }
    }
  }

  // ---------- start ----------

  function setup() {
    setupControls();
    setupTooltip();
    setupGraph();
    setupBackprop();
    setupMnist();
    setupExport();
    for (const b of document.querySelectorAll('.tab')) b.addEventListener('click', () => showTab(b.dataset.tab));
    let resizeTimer = null;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => {
        if (S.tab === 'play') buildNetwork();
        queueRender();
        if (S.tab === 'mnist') renderMnist();
      }, 150);
    });
    showTab('play');
    startSession();
  }

  setup();
})();
