// The console's pages, in the browser: plain DOM, no framework and no build step (what a slow
// machine loads is this file and uPlot). Every page polls its data every CONSOLE_POLL_MS.
const main = document.getElementById('main');
const statusLine = document.getElementById('status');
const page = location.pathname.replace(/\/$/, '') || '/';
let config;
let timer;

const inflight = new Set();
let leaving = false;
for (const a of document.querySelectorAll('nav a')) {
  if (a.getAttribute('href') === page) a.setAttribute('aria-current', 'page');
  // Leaving a page would cut its poll mid-flight (a failed request in the browser's log, and
  // half-read work on the server): stop polling, let what is in flight finish, then go.
  a.addEventListener('click', async (e) => {
    if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    leaving = true;
    clearTimeout(timer);
    clearInterval(timer);
    await Promise.allSettled([...inflight]);
    location.assign(a.href);
  });
}

/** Builds an element: h('td', { class: 'x' }, 'text', child). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat())
    if (c !== undefined && c !== null) el.append(c instanceof Node ? c : String(c));
  return el;
}

function api(path, init) {
  const request = call(path, init);
  inflight.add(request);
  void request.finally(() => inflight.delete(request)).catch(() => {});
  return request;
}

async function call(path, init) {
  const res = await fetch(path, {
    ...init,
    headers: { 'content-type': 'application/json', ...(init?.headers ?? {}) },
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok)
    throw new Error(
      body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`,
    );
  return body;
}

const age = (seconds) => {
  if (!seconds) return '–';
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
};
const rate = (n) => (n >= 10 ? n.toFixed(0) : n.toFixed(1));

function table(caption, headers, rows, rowAttrs = () => ({})) {
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      {},
      h('caption', {}, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headers.map((x) => h('th', { scope: 'col' }, x)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.length === 0
          ? h('tr', {}, h('td', { colspan: headers.length, class: 'empty' }, 'none'))
          : rows.map((r, i) =>
              h(
                'tr',
                rowAttrs(i),
                r.map((c) => h('td', {}, c)),
              ),
            ),
      ),
    ),
  );
}

function setStatus(text, error = false) {
  statusLine.textContent = text;
  statusLine.className = error ? 'error' : '';
}

// ---- Overview
let chart;
function renderOverview(o) {
  const services = table(
    'Services',
    [
      'service',
      'state',
      'published/s',
      'published',
      'consumed/s',
      'consumed',
      'failures',
      'dead letters',
      'outbox backlog',
      'oldest pending',
    ],
    o.services.map((s) => [
      s.name,
      h(
        'span',
        { class: s.ready ? 'ok' : 'bad' },
        s.up ? (s.ready ? 'up, ready' : 'up, not ready') : 'down',
        // Why the numbers are zeros: the service is down, or its /metrics refused the console.
        s.metricsError ? h('small', { class: 'why' }, `\n${s.metricsError}`) : undefined,
      ),
      rate(s.publishedPerSec),
      h('span', { 'data-metric': `${s.name}-published` }, String(s.publishedTotal)),
      rate(s.consumedPerSec),
      h('span', { 'data-metric': `${s.name}-consumed` }, String(s.consumedTotal)),
      String(s.failuresTotal),
      String(s.deadLettersTotal),
      String(s.outboxPending),
      age(s.outboxOldestAgeSeconds),
    ]),
  );
  const alerts = table(
    'Open alerts by priority',
    ['priority', 'open', 'oldest'],
    o.alerts.map((a) => [
      h('span', { class: `prio ${a.priority.toLowerCase()}` }, a.priority),
      h('span', { 'data-open': a.priority }, String(a.open)),
      age(a.oldestAgeSeconds),
    ]),
  );
  const lag = table(
    `Consumer lag of ${o.lag.group}${o.lag.error ? ` (error: ${o.lag.error})` : ''}`,
    ['topic', 'partition', 'lag', 'committed', 'high watermark'],
    o.lag.partitions.map((p) => [
      p.topic,
      String(p.partition),
      h('span', { 'data-lag': `${p.partition}` }, p.lag),
      p.committed ?? '–',
      p.end,
    ]),
  );
  const chartBox = h(
    'figure',
    { class: 'chart', 'aria-label': 'Consumer lag per partition over the last minutes' },
    h('figcaption', {}, 'Lag per partition'),
  );
  main.replaceChildren(
    h('h1', {}, 'Overview'),
    services,
    h('div', { class: 'grid' }, alerts, lag),
    chartBox,
  );
  drawChart(chartBox, o.lag.series);
}

function drawChart(box, series) {
  if (typeof uPlot === 'undefined' || series.data[0].length < 1) return;
  const width = Math.max(280, Math.min(box.clientWidth || 600, 1100));
  const colors = ['#2f6fdf', '#d9480f', '#2b8a3e', '#862e9c', '#e67700', '#0b7285'];
  const opts = {
    width,
    height: 180,
    series: [
      {},
      ...series.labels.map((label, i) => ({ label, stroke: colors[i % colors.length], width: 2 })),
    ],
    axes: [{}, { label: 'records' }],
    scales: { x: { time: true } },
  };
  chart?.destroy();
  chart = new uPlot(opts, series.data, box);
}

// ---- Dead letters
const selected = new Set();
let lastPreview;
function deadLettersPage() {
  const topics = config.deadLetterTopics;
  const form = h(
    'form',
    {
      class: 'filters',
      onsubmit: (e) => {
        e.preventDefault();
        void loadDeadLetters();
      },
    },
    h(
      'label',
      {},
      'Topic ',
      h(
        'select',
        { name: 'topic' },
        topics.map((t) => h('option', { value: t }, t)),
      ),
    ),
    h('label', {}, 'Code ', h('input', { name: 'code', placeholder: 'ERP_…' })),
    h(
      'label',
      {},
      'Event type ',
      h('input', { name: 'event_type', placeholder: 'inventory.low_stock' }),
    ),
    h('label', {}, 'Tenant ', h('input', { name: 'tenant', list: 'tenants' })),
    h('label', {}, 'Since ', h('input', { name: 'since', type: 'datetime-local' })),
    h('label', {}, 'Until ', h('input', { name: 'until', type: 'datetime-local' })),
    h('button', { type: 'submit' }, 'Filter'),
  );
  main.replaceChildren(
    h('h1', {}, 'Dead letters'),
    tenantList(),
    form,
    h('div', { id: 'dl-list' }),
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        { id: 'preview', type: 'button', onclick: () => void preview() },
        'Preview redrive of selected',
      ),
      h(
        'button',
        { id: 'confirm', type: 'button', disabled: true, onclick: () => void confirmRedrive() },
        'Confirm redrive',
      ),
    ),
    h('pre', { id: 'redrive-result', 'aria-live': 'polite' }),
    h('section', { id: 'dl-detail', 'aria-label': 'Dead letter' }),
  );
  void loadDeadLetters();
}

function dlQuery() {
  const data = new FormData(main.querySelector('form.filters'));
  const q = new URLSearchParams();
  for (const [k, v] of data) {
    if (v === '') continue;
    q.set(k, k === 'since' || k === 'until' ? new Date(v).toISOString() : v);
  }
  return q;
}

async function loadDeadLetters() {
  const { topic, items } = await api(`/api/console/dead-letters?${dlQuery()}`);
  const list = document.getElementById('dl-list');
  list.replaceChildren(
    table(
      `${items.length} dead letter(s) in ${topic}`,
      ['', 'position', 'time', 'code', 'event type', 'tenant', 'message', ''],
      items.map((d) => {
        const pos = `${d.partition}:${d.offset}`;
        return [
          h('input', {
            type: 'checkbox',
            'aria-label': `select ${pos}`,
            'data-position': pos,
            checked: selected.has(pos),
            onchange: (e) => {
              if (e.target.checked) selected.add(pos);
              else selected.delete(pos);
              resetPreview();
            },
          }),
          pos,
          d.time,
          d.code ?? '–',
          d.event_type ?? '–',
          d.tenant_id ?? '–',
          (d.message ?? '').slice(0, 120),
          h(
            'button',
            {
              type: 'button',
              'data-show': pos,
              onclick: () => void showDeadLetter(d.partition, d.offset),
            },
            'Show',
          ),
        ];
      }),
    ),
  );
  setStatus(`updated ${new Date().toLocaleTimeString()}`);
}

async function showDeadLetter(partition, offset) {
  const topic = main.querySelector('select[name=topic]').value;
  const d = await api(
    `/api/console/dead-letters/${partition}/${offset}?topic=${encodeURIComponent(topic)}`,
  );
  document
    .getElementById('dl-detail')
    .replaceChildren(
      h(
        'h2',
        { tabindex: '-1', id: 'dl-detail-title' },
        `${topic} ${d.partition}:${d.offset} at ${d.time}`,
      ),
      table('Headers', ['header', 'value'], d.headers),
      h('h3', {}, 'Key'),
      h('pre', { class: 'key' }, d.key),
      h('h3', {}, 'Value'),
      h('pre', { class: 'value' }, d.value),
    );
  document.getElementById('dl-detail-title').focus();
}

function resetPreview() {
  lastPreview = undefined;
  document.getElementById('confirm').disabled = true;
}

async function preview() {
  const topic = main.querySelector('select[name=topic]').value;
  const positions = [...selected];
  const out = document.getElementById('redrive-result');
  if (positions.length === 0) {
    out.textContent = 'Select dead letters first.';
    return;
  }
  const result = await api('/api/console/dead-letters/redrive', {
    method: 'POST',
    body: JSON.stringify({ topic, positions, dry_run: true }),
  });
  lastPreview = { topic, positions, count: result.count };
  out.textContent = result.lines.join('\n');
  const confirm = document.getElementById('confirm');
  confirm.disabled = result.count === 0;
  confirm.textContent = `Confirm redrive of ${result.count}`;
  confirm.focus();
}

async function confirmRedrive() {
  if (lastPreview === undefined) return;
  const out = document.getElementById('redrive-result');
  const result = await api('/api/console/dead-letters/redrive', {
    method: 'POST',
    body: JSON.stringify({
      topic: lastPreview.topic,
      positions: lastPreview.positions,
      dry_run: false,
      expected: lastPreview.count,
    }),
  });
  out.textContent = result.lines.join('\n');
  selected.clear();
  resetPreview();
  void loadDeadLetters();
}

// ---- Alerts and orders
function tenantList() {
  return h(
    'datalist',
    { id: 'tenants' },
    config.tenants.map((t) => h('option', { value: t })),
  );
}

function tenantForm(onload, extra = []) {
  const tenant = new URLSearchParams(location.search).get('tenant') ?? config.tenants[0] ?? '';
  return h(
    'form',
    {
      class: 'filters',
      onsubmit: (e) => {
        e.preventDefault();
        const t = e.target.tenant.value;
        history.replaceState(null, '', `?tenant=${encodeURIComponent(t)}`);
        void onload();
      },
    },
    h(
      'label',
      {},
      'Tenant ',
      h('input', { name: 'tenant', list: 'tenants', required: true, value: tenant }),
    ),
    extra,
    h('button', { type: 'submit' }, 'Show'),
  );
}

const currentTenant = () => main.querySelector('input[name=tenant]')?.value ?? '';

function alertsPage() {
  main.replaceChildren(
    h('h1', {}, 'Alerts'),
    tenantList(),
    tenantForm(loadAlerts, [
      h(
        'label',
        {},
        'Status ',
        h(
          'select',
          { name: 'status' },
          h('option', { value: '' }, 'any'),
          h('option', { value: 'open' }, 'open'),
          h('option', { value: 'acknowledged' }, 'acknowledged'),
        ),
      ),
    ]),
    h('div', { id: 'list' }),
    h('section', { id: 'history', 'aria-label': 'Alert history' }),
  );
  if (currentTenant() !== '') void loadAlerts();
}

async function loadAlerts() {
  const tenant = currentTenant();
  if (tenant === '') return;
  const status = main.querySelector('select[name=status]').value;
  const body = await api(
    `/api/console/alerts?tenant=${encodeURIComponent(tenant)}${status ? `&status=${status}` : ''}`,
  );
  const items = body.items ?? [];
  const now = Date.now();
  document.getElementById('list').replaceChildren(
    table(
      `${items.length} alert(s) of ${tenant}`,
      ['priority', 'status', 'product', 'stock', 'opened', 'waiting', ''],
      items.map((a) => [
        h('span', { class: `prio ${String(a.priority).toLowerCase()}` }, a.priority),
        a.status,
        `${a.product_sku ?? ''} ${a.product_id}`,
        String(a.current_stock ?? '–'),
        a.created_at ?? a.opened_at ?? '–',
        a.status === 'open' ? age((now - Date.parse(a.created_at ?? a.opened_at)) / 1000) : '–',
        h('button', { type: 'button', onclick: () => void alertHistory(tenant, a.id) }, 'History'),
      ]),
    ),
  );
  setStatus(`updated ${new Date().toLocaleTimeString()}`);
}

async function alertHistory(tenant, id) {
  const a = await api(`/api/console/alerts/${id}?tenant=${encodeURIComponent(tenant)}`);
  const history = a.history ?? [];
  document.getElementById('history').replaceChildren(
    h('h2', {}, `Alert ${id}`),
    table(
      'History',
      Object.keys(history[0] ?? { at: '' }),
      history.map((e) =>
        Object.values(e).map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))),
      ),
    ),
  );
}

function ordersPage() {
  main.replaceChildren(
    h('h1', {}, 'Orders'),
    tenantList(),
    tenantForm(loadOrders),
    h('div', { id: 'list' }),
  );
  if (currentTenant() !== '') void loadOrders();
}

async function loadOrders() {
  const tenant = currentTenant();
  if (tenant === '') return;
  const body = await api(`/api/console/orders?tenant=${encodeURIComponent(tenant)}`);
  const items = body.items;
  const stuck = items.filter((o) => o.stuck).length;
  document.getElementById('list').replaceChildren(
    h(
      'p',
      {},
      `${stuck} stuck (in a non-final state for more than ${age(body.stuck_after_ms / 1000)})`,
    ),
    table(
      `${items.length} order(s) of ${tenant}`,
      ['order', 'customer', 'status', 'age', 'lines', 'history'],
      items.map((o) => [
        o.id,
        o.customer ?? '–',
        h('span', { class: o.stuck ? 'bad' : '' }, o.stuck ? `${o.status} (stuck)` : o.status),
        o.age_ms === null ? '–' : age(o.age_ms / 1000),
        String((o.lines ?? []).length),
        Array.isArray(o.history)
          ? o.history.map((e) => e.status ?? e.state ?? JSON.stringify(e)).join(' → ')
          : '–',
      ]),
      (i) => (items[i].stuck ? { class: 'stuck' } : {}),
    ),
  );
  setStatus(`updated ${new Date().toLocaleTimeString()}`);
}

// ---- Topics
function topicsPage() {
  // The filter lives outside what each poll redraws, so typing in it is never interrupted.
  main.replaceChildren(
    h('h1', {}, 'Topics'),
    h(
      'form',
      { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() },
      h(
        'label',
        {},
        'Filter topics and groups ',
        h('input', { name: 'filter', type: 'search', oninput: () => renderTopics() }),
      ),
    ),
    h('div', { id: 'topics' }),
  );
}

let cluster;
function renderTopics(c = cluster) {
  cluster = c;
  if (c === undefined) return;
  const filter = (main.querySelector('input[name=filter]')?.value ?? '').trim();
  const shown = (name) => filter === '' || name.includes(filter);
  document.getElementById('topics').replaceChildren(
    table(
      'Brokers',
      ['id', 'host', 'port'],
      c.brokers.map((b) => [String(b.id), b.host, String(b.port)]),
    ),
    ...c.topics
      .filter((t) => shown(t.name))
      .map((t) =>
        table(
          t.name,
          ['partition', 'leader', 'replicas', 'in sync', 'log start', 'high watermark'],
          t.partitions.map((p) => [
            String(p.partition),
            String(p.leader),
            p.replicas.join(','),
            p.isr.join(','),
            p.start,
            p.end,
          ]),
        ),
      ),
    table(
      'Consumer groups',
      ['group', 'state', 'members'],
      c.groups
        .filter((g) => shown(g.id) || g.members.some((m) => m.assignment.some((a) => shown(a))))
        .map((g) => [
          g.id,
          g.state,
          g.members.map((m) => `${m.clientId}@${m.host} [${m.assignment.join('; ')}]`).join('\n') ||
            'none',
        ]),
    ),
  );
}

// ---- Replay (dry run)
// Sales runs the CLI's replay dry run (POST /api/v1/ops/replays, relayed by the console): a
// shadow Sales re-consumes the inventory topic and is compared with live Sales. Nothing live
// changes; there is no --apply here.
const REPLAY_POLL_MS = 1000;
function replayPage() {
  const field = (label, name, attrs = {}) =>
    h('label', {}, `${label} `, h('input', { name, autocomplete: 'off', ...attrs }));
  main.replaceChildren(
    h('h1', {}, 'Replay (dry run)'),
    h(
      'p',
      { class: 'note' },
      'A dry run: a shadow Sales re-consumes the inventory topic from ',
      h('em', {}, 'from'),
      ' and is compared with live Sales. Nothing is changed: no offset moves, no event, dead letter or notification is sent. ',
      'Positions as npm run cli -- replay takes them: an ISO time, or partition:offset pairs.',
    ),
    tenantList(),
    h(
      'form',
      {
        class: 'filters',
        id: 'replay-form',
        onsubmit: (e) => {
          e.preventDefault();
          void startReplay(e.target);
        },
      },
      field('From', 'from', { required: true, placeholder: '2024-01-15T10:00:00Z or 0:120,1:98' }),
      field('To (excluded)', 'to', { placeholder: 'default: the end now' }),
      field('Tenant', 'tenant', { list: 'tenants', placeholder: 'every tenant' }),
      field('Event type', 'event_type', { placeholder: 'inventory.low_stock' }),
      h('button', { type: 'submit' }, 'Dry run'),
    ),
    h('section', { id: 'replay', 'aria-live': 'polite', 'aria-label': 'Dry run' }),
  );
  const id = new URLSearchParams(location.search).get('id');
  if (id !== null) void followReplay(id);
}

async function startReplay(form) {
  const body = {};
  for (const [k, v] of new FormData(form)) if (v.trim() !== '') body[k] = v.trim();
  const out = document.getElementById('replay');
  const button = form.querySelector('button');
  button.disabled = true;
  try {
    const started = await api('/api/console/replays', {
      method: 'POST',
      body: JSON.stringify(body),
    });
    history.replaceState(null, '', `?id=${encodeURIComponent(started.id)}`);
    renderReplay(started);
    timer = setTimeout(() => void followReplay(started.id), REPLAY_POLL_MS);
  } catch (err) {
    button.disabled = false;
    out.replaceChildren(h('p', { class: 'bad', role: 'alert' }, err.message));
  }
}

async function followReplay(id) {
  try {
    const replay = await api(`/api/console/replays/${encodeURIComponent(id)}`);
    renderReplay(replay);
    setStatus(`updated ${new Date().toLocaleTimeString()}`);
    if (replay.state === 'running' && !leaving)
      timer = setTimeout(() => void followReplay(id), REPLAY_POLL_MS);
  } catch (err) {
    setStatus(err.message, true);
    if (!leaving) timer = setTimeout(() => void followReplay(id), REPLAY_POLL_MS);
  }
}

function renderReplay(r) {
  const out = document.getElementById('replay');
  const button = document.querySelector('#replay-form button');
  if (button) button.disabled = r.state === 'running';
  const ranges = r.ranges.map((x) => `${x.partition}:${x.start}..${x.end}`).join(', ') || 'none';
  const head = [
    h('h2', {}, `Dry run ${r.id}: ${r.state}`),
    h(
      'p',
      {},
      `from ${r.request.from}${r.request.to ? ` to ${r.request.to}` : ''}`,
      r.request.tenant ? `, tenant ${r.request.tenant}` : '',
      r.request.event_type ? `, event type ${r.request.event_type}` : '',
      `; partitions ${ranges}`,
    ),
    h(
      'p',
      { class: 'progress' },
      h('progress', {
        max: Math.max(r.progress.total, 1),
        value: r.progress.total === 0 ? 1 : r.progress.read,
        'aria-label': 'records read',
      }),
      h(
        'span',
        { 'data-replay-progress': '' },
        ` ${r.progress.read} / ${r.progress.total} records read`,
      ),
    ),
  ];
  if (r.state === 'failed') {
    out.replaceChildren(
      ...head,
      h('p', { class: 'bad', role: 'alert' }, `${r.error.code}: ${r.error.message}`),
    );
    return;
  }
  if (r.state !== 'done') {
    out.replaceChildren(...head);
    return;
  }
  const effect = (e) =>
    e ? `${e.change} ${e.priority} (${e.notifications} notification(s))` : 'no trace of it';
  const rows = r.differences.map((d) =>
    d.kind === 'event'
      ? ['event', `${d.tenantId}/${d.productId}`, d.eventId, effect(d.live), effect(d.shadow)]
      : [
          'forecast',
          `${d.tenantId}/${d.productId}`,
          '–',
          Object.entries(d.fields)
            .map(([f, [live]]) => `${f} ${live}`)
            .join('\n'),
          Object.entries(d.fields)
            .map(([f, [, replay]]) => `${f} ${replay}`)
            .join('\n'),
        ],
  );
  out.replaceChildren(
    ...head,
    h(
      'p',
      {
        class: r.summary.differing === 0 ? 'ok' : 'bad',
        'data-replay-differing': r.summary.differing,
      },
      `${r.summary.differing} difference(s) from live Sales (dry run, nothing changed)`,
    ),
    h('h3', {}, 'Summary'),
    h(
      'pre',
      { class: 'summary' },
      r.lines.filter((l) => !/^(event |forecast |… and )/.test(l)).join('\n'),
    ),
    table(
      `Differences${r.more_differences > 0 ? ` (first ${r.differences.length}; ${r.more_differences} more)` : ''}`,
      ['kind', 'tenant/product', 'event', 'live', 'replay'],
      rows,
    ),
  );
}

// ---- Login and polling
function loginForm(mode) {
  main.replaceChildren(
    h('h1', {}, 'Sign in'),
    h(
      'p',
      {},
      'The console needs a token with the ops scope',
      mode === 'dev'
        ? ': npm run -s cli -- auth token --scope ops'
        : ' from your identity provider',
      '.',
    ),
    h(
      'form',
      {
        class: 'login',
        onsubmit: async (e) => {
          e.preventDefault();
          try {
            await api('/session', {
              method: 'POST',
              body: JSON.stringify({ token: e.target.token.value.trim() }),
            });
            location.reload();
          } catch (err) {
            setStatus(err.message, true);
          }
        },
      },
      h(
        'label',
        {},
        'Token ',
        h('textarea', { name: 'token', rows: 4, required: true, autofocus: true }),
      ),
      h('button', { type: 'submit' }, 'Sign in'),
    ),
  );
}

async function every(load) {
  try {
    await load();
    setStatus(`updated ${new Date().toLocaleTimeString()}`);
  } catch (err) {
    setStatus(err.message, true);
  }
  if (!leaving) timer = setTimeout(() => void every(load), config.pollMs);
}

// A redraw would take the keyboard focus away from a button in the list: wait until it moves on.
function refreshList(load) {
  if (document.getElementById('list')?.contains(document.activeElement)) return Promise.resolve();
  return load().catch((e) => setStatus(e.message, true));
}

async function start() {
  const session = await api('/session');
  if (!session.authenticated) return loginForm(session.mode);
  config = await api('/api/console/config');
  const pages = {
    '/': () => every(async () => renderOverview(await api('/api/console/overview'))),
    '/dead-letters': () => deadLettersPage(),
    '/alerts': () => {
      alertsPage();
      timer = setInterval(() => void refreshList(loadAlerts), config.pollMs);
    },
    '/orders': () => {
      ordersPage();
      timer = setInterval(() => void refreshList(loadOrders), config.pollMs);
    },
    '/topics': () => {
      topicsPage();
      return every(async () => renderTopics(await api('/api/console/topics')));
    },
    '/replay': () => replayPage(),
  };
  await (pages[page] ?? pages['/'])();
}

window.addEventListener('unhandledrejection', (e) => {
  setStatus(String(e.reason?.message ?? e.reason), true);
  e.preventDefault();
});
start().catch((err) => setStatus(err.message, true));
