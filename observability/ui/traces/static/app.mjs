// The trace viewer's page: a search form over Jaeger's query API and a
// trace's waterfall. model.mjs computes (and its tests check) the tree, the
// axis and the summaries; this file only fetches and draws. Every value
// from the API reaches the DOM as text (textContent, title, or a property),
// never as markup.
//
// Views, from the URL (model.parseLocation):
//   #/search?service=…&operation=…&lookback=1h&limit=20   search and list
//   #/trace/<id>, ?trace=<id>, /trace/<id>                 one trace
//   ?service=…&operation=…&latest=1[&complete=1]           the newest trace
//                                                          of that search
//                                                          (with no span's
//                                                          parent missing)
// When a view is drawn, main gets data-ready="search", "trace", "empty" or
// "error" (what tools/cmd/screenshot waits for).

import {
  LOOKBACKS, buildTree, bar, formatDuration, formatTimestamp, formatValue,
  indexTrace, isTraceID, newestTrace, orphans, parseLocation, rootSpan,
  searchURL, serviceColors, sortTraces, summarize, ticks, tickStep,
} from './model.mjs';

const main = document.getElementById('main');

// ---- DOM helpers: text only ------------------------------------------------

// el(tag, props, ...children): props are set as properties (className,
// textContent, title, href, type, value…) except `dataset`, `style` (CSS
// custom properties and plain properties via setProperty), `attrs` (plain
// attributes such as aria-*, role) and `on` (event listeners). Children are
// nodes or strings (text nodes).
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null) continue;
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'style') for (const [p, x] of Object.entries(v)) node.style.setProperty(p, x);
    else if (k === 'attrs') for (const [a, x] of Object.entries(v)) node.setAttribute(a, String(x));
    else if (k === 'on') for (const [e, f] of Object.entries(v)) node.addEventListener(e, f);
    else node[k] = v;
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

function show(ready, ...children) {
  clear(main);
  append(main, children);
  main.dataset.ready = ready;
}

function traceHref(id) {
  return `#/trace/${encodeURIComponent(id)}`;
}

// ---- API -------------------------------------------------------------------

async function api(path) {
  const resp = await fetch(path, { headers: { Accept: 'application/json' } });
  let body = null;
  try {
    body = await resp.json();
  } catch {
    // not JSON: reported below
  }
  if (!resp.ok || !body) {
    const msg = body && Array.isArray(body.errors) && body.errors.length
      ? body.errors.map(e => e && e.msg).join('; ')
      : `${resp.status} ${resp.statusText}`;
    const err = new Error(`${path}: ${msg}`);
    err.status = resp.status;
    throw err;
  }
  return body;
}

let servicesCache = null;
let colors = new Map();

async function services() {
  if (!servicesCache) {
    const body = await api('/api/services');
    servicesCache = (body.data || []).map(String).sort();
    colors = serviceColors(servicesCache);
  }
  return servicesCache;
}

// colorOf: the service's colour, consistent across the page (by the sorted
// list of every service Jaeger knows, extended when a trace brings a new one).
function colorOf(service) {
  if (!colors.has(service)) colors = serviceColors([...colors.keys(), service]);
  return colors.get(service);
}

async function operations(service) {
  const body = await api(`/api/services/${encodeURIComponent(service)}/operations`);
  return (body.data || []).map(String).sort();
}

function errorBox(err) {
  return el('p', { className: 'alert', attrs: { role: 'alert' } }, String(err && err.message ? err.message : err));
}

// ---- search ------------------------------------------------------------------

let lastSearchHash = '#/search';

function searchHash(q) {
  const p = new URLSearchParams();
  for (const k of ['service', 'operation', 'lookback', 'limit']) if (q[k]) p.set(k, q[k]);
  return `#/search?${p.toString()}`;
}

async function renderSearch(query) {
  const live = current();
  let svcs;
  try {
    svcs = await services();
  } catch (err) {
    if (live()) show('error', errorBox(err));
    return;
  }
  if (!live()) return;
  const q = {
    service: query.service || (svcs.includes('gateway') ? 'gateway' : svcs[0] || ''),
    operation: query.operation || '',
    lookback: LOOKBACKS.some(([l]) => l === query.lookback) ? query.lookback : '1h',
    limit: String(Number(query.limit) > 0 ? Math.min(1000, Number(query.limit)) : 20),
  };
  lastSearchHash = searchHash(q);

  const service = el('select', { id: 'f-service', name: 'service' },
    svcs.map(s => el('option', { value: s, textContent: s, selected: s === q.service })));
  const operation = el('select', { id: 'f-operation', name: 'operation' },
    el('option', { value: '', textContent: 'all operations' }));
  const fillOperations = async (svc, selected) => {
    clear(operation);
    operation.append(el('option', { value: '', textContent: 'all operations' }));
    if (!svc) return;
    try {
      for (const op of await operations(svc)) {
        operation.append(el('option', { value: op, textContent: op, selected: op === selected }));
      }
    } catch (err) {
      operation.append(el('option', { value: '', textContent: `(${err.message})`, disabled: true }));
    }
  };
  service.addEventListener('change', () => fillOperations(service.value, ''));
  const lookback = el('select', { id: 'f-lookback', name: 'lookback' },
    LOOKBACKS.map(([l]) => el('option', { value: l, textContent: `last ${l}`, selected: l === q.lookback })));
  const limit = el('input', { id: 'f-limit', name: 'limit', type: 'number', min: '1', max: '1000', value: q.limit });
  const traceID = el('input', { id: 'f-trace', name: 'trace', type: 'text', placeholder: 'trace id', spellcheck: false, autocomplete: 'off' });

  const form = el('form', {
    className: 'search-form',
    on: {
      submit(e) {
        e.preventDefault();
        location.hash = searchHash({ service: service.value, operation: operation.value, lookback: lookback.value, limit: limit.value });
      },
    },
  },
  field('Service', service), field('Operation', operation), field('Lookback', lookback), field('Limit', limit),
  el('button', { type: 'submit', className: 'primary', textContent: 'Find traces' }));

  const idForm = el('form', {
    className: 'id-form',
    on: {
      submit(e) {
        e.preventDefault();
        const id = traceID.value.trim();
        if (!isTraceID(id)) {
          traceID.setCustomValidity('a trace id is 1 to 32 hex digits');
          traceID.reportValidity();
          return;
        }
        location.hash = traceHref(id.toLowerCase());
      },
    },
  }, field('Trace id', traceID), el('button', { type: 'submit', textContent: 'Open' }));
  traceID.addEventListener('input', () => traceID.setCustomValidity(''));

  const results = el('section', { className: 'results', attrs: { 'aria-label': 'traces' } },
    el('p', { className: 'muted', textContent: 'Searching…' }));
  show('loading', el('div', { className: 'forms' }, form, idForm), results);
  await fillOperations(q.service, q.operation);
  if (!live()) return;
  if (!q.service) {
    clear(results);
    results.append(el('p', { className: 'muted', textContent: 'Jaeger knows no service yet: no span has arrived.' }));
    main.dataset.ready = 'empty';
    return;
  }
  let traces;
  try {
    traces = (await api(searchURL(q, Date.now()))).data || [];
  } catch (err) {
    if (!live()) return;
    clear(results);
    results.append(errorBox(err));
    main.dataset.ready = 'error';
    return;
  }
  if (!live()) return;
  clear(results);
  if (!traces.length) {
    results.append(el('p', { className: 'muted', textContent: `No trace of ${q.service}${q.operation ? ` ${q.operation}` : ''} in the last ${q.lookback}.` }));
    main.dataset.ready = 'empty';
    return;
  }
  const summaries = traces.map(summarize);
  let order = 'newest';
  const list = el('ol', { className: 'trace-list' });
  const draw = () => {
    clear(list);
    const longest = Math.max(1, ...summaries.map(s => s.duration));
    for (const s of sortTraces(summaries, order)) list.append(traceItem(s, longest));
  };
  const sort = el('select', {
    id: 'f-sort',
    on: { change() { order = sort.value; draw(); } },
  }, [['newest', 'newest first'], ['oldest', 'oldest first'], ['longest', 'longest first'], ['shortest', 'shortest first'], ['spans', 'most spans']]
    .map(([v, l]) => el('option', { value: v, textContent: l })));
  results.append(el('div', { className: 'results-head' },
    el('h2', { textContent: `${traces.length} trace${traces.length === 1 ? '' : 's'}` }),
    el('label', {}, 'Sort ', sort)));
  results.append(list);
  draw();
  main.dataset.ready = 'search';
}

function field(label, control) {
  return el('label', { className: 'field' }, el('span', { textContent: label }), control);
}

function traceItem(s, longest) {
  const chips = el('span', { className: 'chips' }, s.services.map(sv =>
    el('span', { className: 'chip', style: { '--c': colorOf(sv.name) }, title: `${sv.name}: ${sv.spans} spans, ${sv.sidecar} of its daprd` },
      el('i', { className: 'swatch' }), sv.name, el('small', { textContent: ` ${sv.spans}` }))));
  const marks = [];
  if (s.errorCount) marks.push(el('span', { className: 'badge error', textContent: `${s.errorCount} error${s.errorCount === 1 ? '' : 's'}` }));
  if (s.orphanCount) marks.push(el('span', { className: 'badge orphan', textContent: `${s.orphanCount} parent missing` }));
  return el('li', { className: s.errorCount ? 'trace-item has-error' : 'trace-item' },
    el('a', { href: traceHref(s.traceID) },
      el('div', { className: 'ti-head' },
        el('span', { className: 'ti-root' },
          el('i', { className: 'swatch', style: { '--c': colorOf(s.rootService) } }),
          el('b', { textContent: s.rootService }), ' ', s.rootOperation),
        marks,
        el('span', { className: 'ti-dur', textContent: formatDuration(s.duration) })),
      el('div', { className: 'ti-bar' }, el('i', { style: { width: `${Math.max(0.5, (s.duration / longest) * 100)}%` } })),
      el('div', { className: 'ti-meta' },
        el('span', { textContent: formatTimestamp(s.start) }),
        el('span', { textContent: `${s.spanCount} spans (${s.sidecarCount} daprd)` }),
        el('code', { textContent: s.traceID.slice(0, 12) }),
        chips)));
}

// ---- trace -------------------------------------------------------------------

async function renderTrace(traceID, preloaded) {
  const live = current();
  show('loading', el('p', { className: 'muted', textContent: `Loading trace ${traceID}…` }));
  try {
    await services();
  } catch {
    // colours from the trace's own services then
  }
  let trace = preloaded;
  if (!trace) {
    try {
      const body = await api(`/api/traces/${encodeURIComponent(traceID)}`);
      trace = (body.data || [])[0];
    } catch (err) {
      if (!live()) return;
      show('error', back(), err.status === 404
        ? el('p', { className: 'alert', attrs: { role: 'alert' }, textContent: `Trace ${traceID} is not in Jaeger (traces are kept in memory: a restart forgets them).` })
        : errorBox(err));
      return;
    }
  }
  if (!live()) return;
  if (!trace || !Array.isArray(trace.spans) || !trace.spans.length) {
    show('empty', back(), el('p', { className: 'muted', textContent: `Trace ${traceID} has no spans.` }));
    return;
  }
  new TraceView(indexTrace(trace)).mount();
}

function back() {
  return el('a', { className: 'back', href: lastSearchHash, textContent: '← Search' });
}

class TraceView {
  constructor(model) {
    this.model = model;
    this.axis = { start: model.start, end: model.end };
    this.collapsed = new Set();
    this.open = new Set();
    this.hideSidecars = false;
    this.rowsByKey = new Map();
    this.treeRows = [];
    this.highlighted = [];
  }

  mount() {
    const m = this.model;
    const root = rootSpan(m);
    const missing = orphans(m);
    const full = buildTree(m);
    const depth = full.rows.reduce((d, r) => Math.max(d, r.depth), 0) + 1;
    const errors = m.spans.filter(s => s.error).length;
    const sidecars = m.spans.filter(s => s.sidecar).length;

    const legend = el('ul', { className: 'legend', attrs: { 'aria-label': 'services' } }, m.services.map(name => {
      const spans = m.spans.filter(s => s.service === name);
      const d = spans.filter(s => s.sidecar).length;
      return el('li', { style: { '--c': colorOf(name) } },
        el('i', { className: 'swatch' }), el('b', { textContent: name }),
        el('small', { textContent: ` ${spans.length - d} app · ${d} daprd` }));
    }));

    const facts = el('dl', { className: 'facts' },
      fact('Trace', el('code', { textContent: m.traceID })),
      fact('Started', formatTimestamp(m.start)),
      fact('Duration', formatDuration(m.duration)),
      fact('Spans', `${m.spans.length} (${sidecars} daprd)`),
      fact('Services', String(m.services.length)),
      fact('Depth', String(depth)),
      errors ? fact('Errors', el('span', { className: 'badge error', textContent: String(errors) })) : null,
      missing.length ? fact('Parent missing', el('span', { className: 'badge orphan', textContent: String(missing.length) })) : null);

    const hide = el('input', { type: 'checkbox', id: 'f-hide-sidecars' });
    hide.addEventListener('change', () => {
      this.hideSidecars = hide.checked;
      this.draw();
    });
    this.hideBox = hide;
    const toolbar = el('div', { className: 'toolbar' },
      el('button', { type: 'button', textContent: 'Expand all', on: { click: () => { this.collapsed.clear(); this.draw(); } } }),
      el('button', {
        type: 'button', textContent: 'Collapse to services',
        title: 'Collapse every span whose children are all in its own service',
        on: { click: () => this.collapseWithinServices() },
      }),
      el('label', { className: 'check' }, hide, ' Hide daprd sidecar spans'),
      el('span', { className: 'key' },
        el('span', { className: 'key-item' }, el('i', { className: 'kbar' }), 'app span'),
        el('span', { className: 'key-item' }, el('i', { className: 'kbar sidecar' }), 'daprd sidecar span'),
        el('span', { className: 'key-item' }, el('i', { className: 'kbar error' }), 'error'),
        el('span', { className: 'key-item' }, el('span', { className: 'badge event', textContent: '⇠ event' }), 'consumer, from its publisher')));

    this.axisEl = el('div', { className: 'axis', attrs: { 'aria-hidden': 'true' } });
    this.rowsEl = el('div', { className: 'rows', attrs: { role: 'tree', 'aria-label': 'spans in parent/child order' } });
    this.rowsEl.addEventListener('click', e => this.onClick(e));
    this.rowsEl.addEventListener('keydown', e => this.onKey(e));
    this.rowsEl.addEventListener('mouseover', e => this.onHover(e));
    this.rowsEl.addEventListener('focusin', e => this.onHover(e));

    const title = el('h1', {},
      el('i', { className: 'swatch', style: { '--c': colorOf(root.service) } }),
      el('span', {}, el('b', { textContent: root.service }), ': ', root.operation));
    show('loading', back(), el('section', { className: 'trace-head' }, title, facts, legend), toolbar,
      el('div', { className: 'waterfall' }, this.axisEl, this.rowsEl));
    document.title = `${root.service}: ${root.operation} · ShopMesh traces`;
    this.drawAxis();
    this.draw();
    main.dataset.ready = 'trace';
  }

  drawAxis() {
    clear(this.axisEl);
    const duration = this.axis.end - this.axis.start;
    const step = tickStep(duration, 6);
    const lane = el('div', { className: 'axis-lane' });
    for (const t of ticks(duration, 6)) {
      lane.append(el('span', {
        className: t.fraction > 0.97 ? 'tick end' : 'tick',
        style: { left: `${t.fraction * 100}%` },
        textContent: t.label,
      }));
    }
    this.axisEl.append(el('div', { className: 'axis-name', textContent: 'Service · operation' }), lane);
    // The rows' grid lines, one per tick (a repeating background).
    this.rowsEl.style.setProperty('--tick', duration > 0 && step ? `${(step / duration) * 100}%` : '100%');
  }

  draw() {
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : undefined;
    const { rows } = buildTree(this.model, { hideSidecars: this.hideSidecars, collapsed: this.collapsed });
    this.treeRows = rows;
    this.rowsByKey = new Map();
    const frag = document.createDocumentFragment();
    for (const r of rows) {
      const node = this.row(r);
      this.rowsByKey.set(r.span.key, { row: r, node });
      frag.append(node);
      if (this.open.has(r.span.key)) frag.append(this.details(r));
    }
    clear(this.rowsEl);
    this.rowsEl.append(frag);
    if (focused && this.rowsByKey.has(focused)) this.rowsByKey.get(focused).node.focus({ preventScroll: true });
  }

  row(r) {
    const s = r.span;
    const g = bar(s, this.axis);
    const cls = ['row'];
    if (s.sidecar) cls.push('sidecar');
    if (s.error) cls.push('error');
    if (r.orphan || r.cycle) cls.push('orphan');
    const name = el('div', { className: 'name', style: { '--depth': String(r.depth) } });
    if (r.children.length) {
      name.append(el('button', {
        type: 'button', tabIndex: -1, className: 'caret', dataset: { action: 'collapse' },
        textContent: r.collapsed ? '▸' : '▾',
        title: r.collapsed ? `Show ${r.descendants} spans below` : 'Hide the spans below',
        attrs: { 'aria-label': r.collapsed ? 'expand' : 'collapse' },
      }));
    } else {
      name.append(el('span', { className: 'caret leaf' }));
    }
    name.append(el('i', { className: 'swatch' }), el('span', { className: 'svc', textContent: s.service }));
    if (s.sidecar) name.append(el('span', { className: 'badge daprd', textContent: 'daprd', title: 'a span of the Dapr sidecar (scope dapr-diagnostics)' }));
    name.append(el('span', { className: 'op', textContent: s.operation }));
    if (r.publisher) {
      name.append(el('button', {
        type: 'button', tabIndex: -1, className: 'badge event', dataset: { action: 'jump', target: r.publisher.key },
        textContent: `⇠ ${s.event || 'event'}`,
        title: `consumer of ${s.event || 'an event'} published by ${r.publisher.service}: ${r.publisher.operation} (go to it)`,
      }));
    } else if (s.kind === 'consumer' && s.event) {
      name.append(el('span', { className: 'badge event', textContent: `⇠ ${s.event}` }));
    }
    if (r.consumers.length) {
      name.append(el('span', { className: 'badge pub', textContent: `⇢ ${r.consumers.length}`, title: `published to ${r.consumers.length} consumer span${r.consumers.length === 1 ? '' : 's'}: ${r.consumers.map(c => c.service).join(', ')}` }));
    }
    if (r.orphan) name.append(el('span', { className: 'badge orphan', textContent: 'parent missing', title: `parent span ${s.parentId} is not in the trace` }));
    if (r.cycle) name.append(el('span', { className: 'badge orphan', textContent: 'parent loop', title: 'its chain of parents loops back to it' }));
    if (s.error) name.append(el('span', { className: 'badge error', textContent: 'error' }));
    if (r.collapsed) name.append(el('span', { className: 'badge more', textContent: `+${r.descendants}` }));
    name.title = `${s.service}${s.sidecar ? ' (daprd)' : ''}: ${s.operation}`;

    const lane = el('div', { className: 'lane' },
      el('div', { className: 'bar', style: { left: `${g.left * 100}%`, width: `${g.width * 100}%` } }),
      el('span', {
        className: `dur ${g.label}`,
        style: {
          right: { left: `calc(${(g.left + g.width) * 100}% + 4px)` },
          inside: { right: `calc(${(1 - g.left - g.width) * 100}% + 4px)` },
          left: { right: `calc(${(1 - g.left) * 100}% + 4px)` },
        }[g.label],
        textContent: formatDuration(s.duration),
      }));
    return el('div', {
      className: cls.join(' '), tabIndex: 0,
      dataset: { key: s.key },
      style: { '--c': colorOf(s.service) },
      attrs: {
        role: 'treeitem', 'aria-level': r.depth + 1, 'aria-expanded': this.open.has(s.key) ? 'true' : 'false',
        'aria-label': `${s.service}${s.sidecar ? ' daprd' : ''} ${s.operation}, ${formatDuration(s.duration)}${s.error ? ', error' : ''}${r.orphan ? ', parent missing' : ''}`,
      },
    }, name, lane);
  }

  details(r) {
    const s = r.span;
    const m = this.model;
    const box = el('div', {
      className: 'details', dataset: { detailsFor: s.key },
      style: { '--c': colorOf(s.service), '--depth': String(r.depth) },
      attrs: { role: 'region', 'aria-label': `details of ${s.service} ${s.operation}` },
    });
    const parent = s.parentId ? m.byId.get(s.parentId) : null;
    const overview = el('dl', { className: 'facts' },
      fact('Service', `${s.service}${s.sidecar ? ' (daprd sidecar)' : ''}`),
      fact('Operation', s.operation),
      fact('Span', el('code', { textContent: s.id })),
      fact('Parent', s.parentId
        ? (parent ? this.jump(parent, `${parent.service}: ${parent.operation}`) : el('span', { className: 'badge orphan', textContent: `missing (${s.parentId})` }))
        : 'none (root)'),
      fact('Start', `+${formatDuration(s.start - m.start)} (${formatTimestamp(s.start)})`),
      fact('Duration', formatDuration(s.duration)),
      s.kind ? fact('Kind', s.kind) : null,
      s.scope ? fact('Scope', s.scope) : null);
    box.append(overview);
    if (r.publisher) {
      box.append(section('Published by', el('p', {}, 'This consumer span handles ', el('b', { textContent: s.event || 'an event' }), ' published by ', this.jump(r.publisher, `${r.publisher.service}: ${r.publisher.operation}`), '.')));
    }
    if (r.consumers.length) {
      box.append(section('Consumers', el('ul', { className: 'plain' }, r.consumers.map(c => el('li', {}, this.jump(c, `${c.service}: ${c.operation}${c.event ? ` (${c.event})` : ''}`))))));
    }
    box.append(section(`Tags (${s.tags.length})`, kvTable(s.tags)));
    box.append(section(`Process: ${s.service} (${s.processTags.length})`, kvTable(s.processTags)));
    if (s.logs.length) {
      box.append(section(`Logs (${s.logs.length})`, el('ol', { className: 'logs' }, s.logs.map(l =>
        el('li', {}, el('span', { className: 'muted', textContent: `+${formatDuration((Number(l.timestamp) || 0) - m.start)}` }), kvTable(l.fields || []))))));
    } else {
      box.append(section('Logs', el('p', { className: 'muted', textContent: 'none' })));
    }
    box.append(section(`References (${s.references.length})`, s.references.length
      ? el('table', { className: 'kv' }, el('tbody', {}, s.references.map(ref => {
        const target = ref.traceID && ref.traceID !== m.traceID ? null : m.byId.get(String(ref.spanID));
        let where;
        if (target) where = this.jump(target, `${target.service}: ${target.operation}`);
        else if (ref.traceID && ref.traceID !== m.traceID) where = el('a', { href: traceHref(ref.traceID), textContent: `span ${ref.spanID} of trace ${ref.traceID}` });
        else where = el('span', { className: 'badge orphan', textContent: `span ${ref.spanID}: not in this trace` });
        return el('tr', {}, el('th', { textContent: ref.refType === 'CHILD_OF' ? 'CHILD_OF (parent)' : `${ref.refType || '?'} (link)` }), el('td', {}, where));
      })))
      : el('p', { className: 'muted', textContent: 'none' })));
    if (s.warnings.length) {
      box.append(section('Warnings', el('ul', { className: 'plain' }, s.warnings.map(w => el('li', { textContent: formatValue(w) })))));
    }
    return box;
  }

  jump(span, label) {
    return el('button', { type: 'button', className: 'link', dataset: { action: 'jump', target: span.key }, textContent: label });
  }

  toggleDetails(key) {
    const entry = this.rowsByKey.get(key);
    if (!entry) return;
    const { row, node } = entry;
    if (this.open.has(key)) {
      this.open.delete(key);
      const next = node.nextElementSibling;
      if (next && next.dataset.detailsFor === key) next.remove();
      node.setAttribute('aria-expanded', 'false');
    } else {
      this.open.add(key);
      node.after(this.details(row));
      node.setAttribute('aria-expanded', 'true');
    }
  }

  toggleCollapse(key, want) {
    const collapse = want === undefined ? !this.collapsed.has(key) : want;
    if (collapse === this.collapsed.has(key)) return false;
    if (collapse) this.collapsed.add(key);
    else this.collapsed.delete(key);
    this.draw();
    return true;
  }

  collapseWithinServices() {
    // Collapse every span whose subtree stays in its service: what is left
    // shows the hops between services.
    const { rows } = buildTree(this.model, { hideSidecars: this.hideSidecars });
    const byKey = new Map(rows.map(r => [r.span.key, r]));
    const single = new Map();
    for (let i = rows.length - 1; i >= 0; i--) {
      const r = rows[i];
      single.set(r.span.key, r.children.every(c => c.service === r.span.service && single.get(c.key) !== false));
    }
    this.collapsed = new Set(rows.filter(r => r.children.length && single.get(r.span.key) &&
      !(r.parent && byKey.get(r.parent.key) && single.get(r.parent.key))).map(r => r.span.key));
    this.draw();
  }

  // reveal: show a span (expand its ancestors, show sidecars if it is one),
  // focus and flash its row.
  reveal(key) {
    const s = this.model.byKey.get(key);
    if (!s) return;
    let redraw = false;
    if (s.sidecar && this.hideSidecars) {
      this.hideSidecars = false;
      this.hideBox.checked = false;
      redraw = true;
    }
    for (let id = s.parentId, hops = 0; id && hops < this.model.spans.length; hops++) {
      const p = this.model.byId.get(id);
      if (!p) break;
      if (this.collapsed.delete(p.key)) redraw = true;
      id = p.parentId;
    }
    if (redraw) this.draw();
    const entry = this.rowsByKey.get(key);
    if (!entry) return;
    entry.node.focus({ preventScroll: true });
    entry.node.scrollIntoView({ block: 'center' });
    entry.node.classList.remove('flash');
    void entry.node.offsetWidth; // restart the animation
    entry.node.classList.add('flash');
  }

  onClick(e) {
    const action = e.target.closest('[data-action]');
    if (action && this.rowsEl.contains(action)) {
      e.stopPropagation();
      if (action.dataset.action === 'jump') this.reveal(action.dataset.target);
      else if (action.dataset.action === 'collapse') {
        const row = action.closest('.row');
        if (row) this.toggleCollapse(row.dataset.key);
      }
      return;
    }
    const row = e.target.closest('.row');
    if (row && this.rowsEl.contains(row)) {
      row.focus({ preventScroll: true });
      this.toggleDetails(row.dataset.key);
    }
  }

  onKey(e) {
    const row = e.target.closest('.row');
    if (!row || e.target !== row) return;
    const key = row.dataset.key;
    const entry = this.rowsByKey.get(key);
    const rows = [...this.rowsEl.querySelectorAll('.row')];
    const i = rows.indexOf(row);
    const focus = n => {
      if (n) {
        n.focus();
        n.scrollIntoView({ block: 'nearest' });
      }
    };
    switch (e.key) {
      case 'Enter':
      case ' ':
        this.toggleDetails(key);
        break;
      case 'ArrowDown':
        focus(rows[i + 1]);
        break;
      case 'ArrowUp':
        focus(rows[i - 1]);
        break;
      case 'Home':
        focus(rows[0]);
        break;
      case 'End':
        focus(rows[rows.length - 1]);
        break;
      case 'ArrowRight':
        if (entry && entry.row.collapsed) this.toggleCollapse(key, false);
        else focus(rows[i + 1]);
        break;
      case 'ArrowLeft':
        if (entry && entry.row.children.length && !entry.row.collapsed) this.toggleCollapse(key, true);
        else if (entry && entry.row.parent) focus(this.rowsByKey.get(entry.row.parent.key)?.node);
        break;
      default:
        return;
    }
    e.preventDefault();
  }

  // onHover: pointing at a consumer lights up its publisher, and at a
  // publisher its consumers.
  onHover(e) {
    const row = e.target.closest && e.target.closest('.row');
    const key = row ? row.dataset.key : null;
    if (key === this.hoverKey) return;
    this.hoverKey = key;
    for (const n of this.highlighted) n.classList.remove('linked');
    this.highlighted = [];
    const entry = key && this.rowsByKey.get(key);
    if (!entry) return;
    const keys = [];
    if (entry.row.publisher) keys.push(entry.row.publisher.key);
    for (const c of entry.row.consumers) keys.push(c.key);
    for (const k of keys) {
      const other = this.rowsByKey.get(k);
      if (other) {
        other.node.classList.add('linked');
        this.highlighted.push(other.node);
      }
    }
  }
}

function fact(label, value) {
  return [el('dt', { textContent: label }), el('dd', {}, value)];
}

function section(title, body) {
  return el('section', { className: 'dsec' }, el('h3', { textContent: title }), body);
}

function kvTable(kvs) {
  if (!kvs.length) return el('p', { className: 'muted', textContent: 'none' });
  const sorted = [...kvs].sort((a, b) => String(a.key).localeCompare(String(b.key)));
  return el('table', { className: 'kv' }, el('tbody', {}, sorted.map(t =>
    el('tr', {}, el('th', { textContent: String(t.key) }), el('td', { textContent: formatValue(t.value) })))));
}

// ---- newest trace of a search ------------------------------------------------

async function renderLatest(query, complete) {
  const q = {
    service: query.service,
    operation: query.operation,
    lookback: LOOKBACKS.some(([l]) => l === query.lookback) ? query.lookback : '1h',
    limit: Number(query.limit) > 0 ? query.limit : '50',
  };
  if (!q.service) {
    show('error', el('p', { className: 'alert', attrs: { role: 'alert' }, textContent: 'latest=1 needs a service (and an operation).' }));
    return;
  }
  lastSearchHash = searchHash(q);
  const live = current();
  show('loading', el('p', { className: 'muted', textContent: `Finding the newest trace of ${q.service} ${q.operation}…` }));
  let traces;
  try {
    traces = (await api(searchURL(q, Date.now()))).data || [];
  } catch (err) {
    if (live()) show('error', back(), errorBox(err));
    return;
  }
  if (!live()) return;
  const newest = newestTrace(traces, { complete });
  if (!newest) {
    show('empty', back(), el('p', { className: 'muted', textContent: `No ${complete ? 'complete ' : ''}trace of ${q.service}${q.operation ? ` ${q.operation}` : ''} among the newest ${q.limit} of the last ${q.lookback}.` }));
    return;
  }
  // The URL names the trace now, so a reload shows the same one.
  history.replaceState(null, '', traceHref(newest.traceID));
  await renderTrace(newest.traceID, newest);
}

// ---- routing -------------------------------------------------------------------

// Each navigation numbers itself; a view whose fetch returns after a newer
// navigation began draws nothing.
let routing = 0;

function current() {
  const n = routing;
  return () => n === routing;
}

function route() {
  routing++;
  const where = parseLocation(location);
  main.dataset.ready = 'loading';
  window.scrollTo(0, 0);
  if (where.view === 'trace') return renderTrace(where.traceID);
  if (where.view === 'latest') return renderLatest(where.query, where.complete);
  return renderSearch(where.query || {});
}

window.addEventListener('hashchange', route);
route();
