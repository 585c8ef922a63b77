// Tests of the trace viewer's logic (static/model.mjs) against one checkout's
// trace recorded from the local stack's Jaeger (testdata/checkout-trace.json,
// the answer of /api/traces/<id>), with Node's test runner and no stack:
//
//	node --test observability/ui/traces/*.test.mjs     (go tool task test:ui)
//
// The tree is checked against the parent references read straight from the
// JSON, so a tree builder that misplaces, drops, repeats or misorders a span
// fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  DAPR_SCOPE, bar, buildTree, formatDuration, formatTimestamp, indexTrace,
  isTraceID, newestTrace, orphans, parseLocation, rootSpan, searchURL,
  serviceColors, sortTraces, summarize, tagValue, tickStep, ticks,
} from './static/model.mjs';

const fixture = JSON.parse(readFileSync(new URL('./testdata/checkout-trace.json', import.meta.url), 'utf8'));

// A fresh copy of the recorded trace, to change without touching the others.
function recorded() {
  const body = structuredClone(fixture);
  return body.data ? body.data[0] : body;
}

// What the JSON says, without the module: each span's parent id (its
// CHILD_OF reference) and its service.
function rawFacts(trace) {
  const parentOf = new Map();
  const ids = new Set(trace.spans.map(s => s.spanID));
  for (const s of trace.spans) {
    const ref = (s.references || []).find(r => r.refType === 'CHILD_OF');
    parentOf.set(s.spanID, ref ? ref.spanID : '');
  }
  return { parentOf, ids };
}

// checkTree asserts that rows are trace's spans in parent/child order: each
// span once; a row's parent is the nearest row above it one level up, and is
// the span's parent in the JSON; top-level rows have no parent in the trace
// (orphan exactly when they name a parent that is missing); siblings by
// start time; descendants counts the rows of the subtree below.
function checkTree(trace, rows, { hideSidecars = false } = {}) {
  const { parentOf, ids } = rawFacts(trace);
  const byId = new Map(trace.spans.map(s => [s.spanID, s]));
  const sidecar = s => (s.tags || []).some(t => t.key === 'otel.scope.name' && t.value === DAPR_SCOPE);
  const shown = trace.spans.filter(s => !(hideSidecars && sidecar(s)));
  assert.equal(rows.length, shown.length, 'one row per shown span');
  assert.deepEqual(new Set(rows.map(r => r.span.id)), new Set(shown.map(s => s.spanID)), 'every shown span, once');

  // The expected parent: the JSON's, or with hidden sidecars the nearest
  // ancestor that is not a sidecar's.
  const expectedParent = (id) => {
    let p = parentOf.get(id);
    while (p && ids.has(p) && hideSidecars && sidecar(byId.get(p))) p = parentOf.get(p);
    return p;
  };
  const path = []; // path[d]: the latest row at depth d
  const lastChild = new Map(); // parent row's key ('' for the top) → its latest child row
  rows.forEach((r, i) => {
    assert.ok(r.depth <= path.length, `row ${i} (${r.span.operation}) is at most one level below the row above`);
    path.length = r.depth;
    const want = expectedParent(r.span.id);
    if (r.depth === 0) {
      assert.ok(!want || !ids.has(want), `top-level ${r.span.service} ${r.span.operation} has no parent in the trace`);
      assert.equal(r.orphan, !!want && !ids.has(want), `orphan flag of ${r.span.operation}`);
      assert.equal(r.parent, null);
    } else {
      const above = path[r.depth - 1];
      assert.equal(above.span.id, want, `${r.span.service} ${r.span.operation} sits under its parent`);
      assert.equal(r.parent && r.parent.id, want);
      assert.equal(r.orphan, false);
    }
    // Siblings in start order.
    const under = r.depth === 0 ? '' : path[r.depth - 1].span.key;
    const prev = lastChild.get(under);
    if (prev) assert.ok(prev.span.start <= r.span.start, `siblings by start: ${prev.span.operation} before ${r.span.operation}`);
    lastChild.set(under, r);
    path[r.depth] = r;
  });
  // A row's subtree is the run of deeper rows right below it.
  rows.forEach((r, i) => {
    let n = 0;
    for (let j = i + 1; j < rows.length && rows[j].depth > r.depth; j++) n++;
    assert.equal(r.descendants, n, `descendants of ${r.span.operation}`);
    assert.equal(r.children.length, rows.slice(i + 1, i + 1 + n).filter(x => x.depth === r.depth + 1).length);
  });
}

test('the fixture is one checkout of the local stack', () => {
  const t = recorded();
  assert.ok(t.spans.length >= 50, `a checkout has many spans (${t.spans.length})`);
  const m = indexTrace(t);
  const root = rootSpan(m);
  assert.equal(root.service, 'gateway');
  assert.equal(root.operation, 'POST /api/v1/checkout');
  for (const svc of ['gateway', 'orders', 'catalog', 'inventory', 'payments']) {
    assert.ok(m.services.includes(svc), `spans of ${svc}`);
    assert.ok(m.spans.some(s => s.service === svc && s.sidecar), `${svc}'s daprd spans are marked`);
    assert.ok(m.spans.some(s => s.service === svc && !s.sidecar), `${svc}'s app spans are not`);
  }
});

test('indexTrace reads service, scope, kind, parent and links', () => {
  const t = recorded();
  const m = indexTrace(t);
  assert.equal(m.spans.length, t.spans.length);
  assert.equal(m.traceID, t.traceID);
  for (let i = 1; i < m.spans.length; i++) assert.ok(m.spans[i - 1].start <= m.spans[i].start, 'sorted by start');
  for (const s of m.spans) {
    const raw = t.spans.find(x => x.spanID === s.id);
    assert.equal(s.service, t.processes[raw.processID].serviceName);
    assert.equal(s.sidecar, tagValue(raw.tags, 'otel.scope.name') === DAPR_SCOPE);
    assert.equal(s.links.length, (raw.references || []).length - (s.parentId ? 1 : 0));
  }
  assert.equal(m.start, Math.min(...t.spans.map(s => s.startTime)));
  assert.equal(m.end, Math.max(...t.spans.map(s => s.startTime + s.duration)));
});

test('buildTree puts every span under its parent, siblings by start', () => {
  const t = recorded();
  const { rows } = buildTree(indexTrace(t));
  checkTree(t, rows);
  assert.equal(rows[0].span.operation, 'POST /api/v1/checkout', 'the checkout comes first');
  assert.ok(rows.some(r => r.depth >= 5), 'a checkout is a deep tree');
});

test('a consumer span hangs under its publisher and names it', () => {
  const m = indexTrace(recorded());
  const { rows } = buildTree(m);
  const consumers = rows.filter(r => r.span.kind === 'consumer' && r.span.operation.startsWith('process '));
  assert.ok(consumers.length >= 2, 'order.placed is consumed by inventory and payments');
  for (const event of ['order.placed']) {
    const services = consumers.filter(r => r.span.event === event).map(r => r.span.service).sort();
    assert.deepEqual(services.filter(s => s === 'inventory' || s === 'payments'), ['inventory', 'payments'], `consumers of ${event}`);
  }
  for (const c of consumers) {
    assert.ok(c.publisher, `${c.span.service} ${c.span.operation} has its publisher`);
    assert.equal(c.publisher.id, c.span.parentId);
    const pub = rows.find(r => r.span.key === c.publisher.key);
    assert.ok(pub.consumers.some(x => x.key === c.span.key), 'and the publisher lists it');
  }
});

test('a span whose parent is missing is shown at the top level, marked', () => {
  const t = recorded();
  const m0 = indexTrace(t);
  // Drop a span that has children and a parent: its children lose theirs.
  const before = new Set(orphans(m0).map(s => s.id));
  const { rows: full } = buildTree(m0);
  const victim = full.find(r => r.depth > 0 && r.children.length > 0);
  assert.ok(victim, 'a middle span');
  t.spans = t.spans.filter(s => s.spanID !== victim.span.id);
  const m = indexTrace(t);
  const { rows, top } = buildTree(m);
  checkTree(t, rows);
  const lost = rows.filter(r => r.orphan && !before.has(r.span.id));
  assert.deepEqual(lost.map(r => r.span.id).sort(), victim.children.map(c => c.id).sort());
  for (const r of lost) assert.equal(r.depth, 0);
  assert.deepEqual(orphans(m).map(s => s.id).sort(), rows.filter(r => r.orphan).map(r => r.span.id).sort());
  assert.equal(top.length, buildTree(m0).top.length + lost.length);
  assert.equal(summarize(t).orphanCount, before.size + lost.length);
});

test('hiding the sidecars hangs their children from the nearest app span', () => {
  const t = recorded();
  const m = indexTrace(t);
  const { rows } = buildTree(m, { hideSidecars: true });
  assert.ok(rows.every(r => !r.span.sidecar));
  checkTree(t, rows, { hideSidecars: true });
});

test('a collapsed span keeps its row and hides the rows below it', () => {
  const m = indexTrace(recorded());
  const { rows: full } = buildTree(m);
  const target = full.find(r => r.depth === 1 && r.descendants > 2);
  const { rows } = buildTree(m, { collapsed: new Set([target.span.key]) });
  assert.equal(rows.length, full.length - target.descendants);
  const row = rows.find(r => r.span.key === target.span.key);
  assert.equal(row.collapsed, true);
  assert.equal(row.descendants, target.descendants);
  const { rows: rootOnly } = buildTree(m, { collapsed: new Set([full[0].span.key]) });
  assert.equal(rootOnly.length, full.length - full[0].descendants);
});

test('duplicate span ids and loops of parents keep every span once', () => {
  const span = (id, parent, start, extra = {}) => ({
    traceID: 't1', spanID: id, operationName: `op ${id}`, startTime: start, duration: 10, processID: 'p1',
    references: parent ? [{ refType: 'CHILD_OF', traceID: 't1', spanID: parent }] : [], tags: [], logs: [], ...extra,
  });
  const t = {
    traceID: 't1',
    processes: { p1: { serviceName: 'svc', tags: [] } },
    spans: [span('a', '', 0), span('b', 'a', 5), span('b', 'a', 6), span('x', 'y', 20), span('y', 'x', 21), span('self', 'self', 30)],
  };
  const { rows } = buildTree(indexTrace(t));
  assert.equal(rows.length, 6);
  assert.equal(new Set(rows.map(r => r.span.key)).size, 6, 'duplicates get keys of their own');
  assert.deepEqual(rows.slice(0, 3).map(r => [r.span.id, r.depth]), [['a', 0], ['b', 1], ['b', 1]]);
  const x = rows.find(r => r.span.id === 'x');
  assert.equal(x.cycle, true, 'the loop is cut at its earliest span');
  assert.equal(x.depth, 0);
  assert.equal(rows.find(r => r.span.id === 'y').depth, 1);
  assert.equal(rows.find(r => r.span.id === 'self').depth, 0);
});

test('a reference to another trace is a link, not the parent', () => {
  const t = {
    traceID: 't1',
    processes: { p1: { serviceName: 'svc' } },
    spans: [{ traceID: 't1', spanID: 'a', operationName: 'a', startTime: 1, duration: 1, processID: 'p1',
      references: [{ refType: 'CHILD_OF', traceID: 't2', spanID: 'z' }, { refType: 'FOLLOWS_FROM', traceID: 't1', spanID: 'q' }] }],
  };
  const m = indexTrace(t);
  assert.equal(m.spans[0].parentId, '');
  assert.equal(m.spans[0].links.length, 2);
  assert.equal(buildTree(m).rows[0].orphan, false);
});

test('bars sit on the time axis', () => {
  const m = indexTrace(recorded());
  const axis = { start: m.start, end: m.end };
  let touchesEnd = false;
  for (const s of m.spans) {
    const g = bar(s, axis);
    assert.ok(g.left >= 0 && g.width >= 0 && g.left + g.width <= 1 + 1e-9, `${s.operation} within the axis`);
    assert.ok(Math.abs(g.left - (s.start - m.start) / m.duration) < 1e-9);
    assert.ok(Math.abs(g.width - s.duration / m.duration) < 1e-9);
    assert.ok(['left', 'right', 'inside'].includes(g.label));
    if (Math.abs(g.left + g.width - 1) < 1e-9) touchesEnd = true;
  }
  assert.ok(touchesEnd, 'the span that ends last reaches the end');
  assert.equal(bar(m.spans[0], { start: 5, end: 5 }).width, 0, 'an empty axis draws nothing');
  assert.deepEqual(bar({ start: 0, duration: 100 }, { start: 0, end: 100 }), { left: 0, width: 1, label: 'inside' });
  assert.equal(bar({ start: 10, duration: 10 }, { start: 0, end: 100 }).label, 'right');
  assert.equal(bar({ start: 90, duration: 5 }, { start: 0, end: 100 }).label, 'left');
});

test('ticks fall on round steps', () => {
  assert.equal(tickStep(120000, 6), 20000);
  assert.equal(tickStep(1000000, 5), 200000);
  assert.equal(tickStep(7, 5), 1);
  assert.equal(tickStep(1234567, 6), 200000);
  assert.equal(tickStep(3, 10), 1, 'not below a microsecond');
  assert.equal(tickStep(0, 5), 0);
  const ts = ticks(1234567, 6);
  assert.equal(ts[0].at, 0);
  assert.equal(ts[0].label, '0');
  const step = ts[1].at - ts[0].at;
  assert.equal(step, 200000);
  ts.forEach((t, i) => {
    assert.equal(t.at, i * step);
    assert.ok(t.fraction <= 1);
  });
  assert.equal(ts.at(-1).label, '1.2s');
  const m = indexTrace(recorded());
  const tm = ticks(m.duration, 6);
  assert.ok(tm.length >= 4 && tm.length <= 13, `${tm.length} ticks for ${m.duration}µs`);
});

test('durations and times read well', () => {
  assert.equal(formatDuration(0), '0µs');
  assert.equal(formatDuration(850), '850µs');
  assert.equal(formatDuration(1234), '1.23ms');
  assert.equal(formatDuration(12345), '12.3ms');
  assert.equal(formatDuration(120000), '120ms');
  assert.equal(formatDuration(1250000), '1.25s');
  assert.equal(formatDuration(125e6), '2m 5s');
  assert.equal(formatTimestamp(Date.UTC(2026, 11, 7, 15, 30, 12, 345) * 1000 + 678, 'UTC'), '2026-12-07 15:30:12.345');
});

test('summarize lists what the search page shows', () => {
  const t = recorded();
  const s = summarize(t);
  assert.equal(s.traceID, t.traceID);
  assert.equal(s.rootService, 'gateway');
  assert.equal(s.rootOperation, 'POST /api/v1/checkout');
  assert.equal(s.spanCount, t.spans.length);
  assert.equal(s.services.reduce((n, x) => n + x.spans, 0), t.spans.length);
  assert.equal(s.sidecarCount, t.spans.filter(x => tagValue(x.tags, 'otel.scope.name') === DAPR_SCOPE).length);
  assert.ok(s.sidecarCount > 0);
  assert.equal(s.duration, indexTrace(t).duration);
  // An error makes it count.
  const bad = recorded();
  bad.spans[3].tags.push({ key: 'error', type: 'bool', value: true });
  assert.equal(summarize(bad).errorCount, s.errorCount + 1);
});

test('the newest of a search is the one that started last', () => {
  const older = recorded();
  const newer = recorded();
  newer.traceID = 'f'.repeat(32);
  for (const sp of newer.spans) sp.startTime += 5e6;
  assert.equal(newestTrace([older, newer]).traceID, newer.traceID);
  assert.equal(newestTrace([newer, older]).traceID, newer.traceID);
  assert.equal(newestTrace([]), null);
  // complete: the newest in which no span's parent is missing.
  const holed = recorded();
  holed.traceID = 'e'.repeat(32);
  for (const sp of holed.spans) sp.startTime += 9e6;
  holed.spans = holed.spans.filter(sp => sp.spanID !== buildTree(indexTrace(holed)).rows[1].span.id);
  assert.equal(newestTrace([older, newer, holed]).traceID, holed.traceID);
  assert.equal(newestTrace([older, newer, holed], { complete: true }).traceID, newer.traceID);
  assert.equal(newestTrace([holed], { complete: true }), null);
  const sorted = sortTraces([summarize(older), summarize(newer)], 'newest');
  assert.deepEqual(sorted.map(x => x.traceID), [newer.traceID, older.traceID]);
  assert.deepEqual(sortTraces(sorted, 'oldest').map(x => x.traceID), [older.traceID, newer.traceID]);
});

test('colours are stable per service name', () => {
  const a = serviceColors(['orders', 'gateway', 'catalog']);
  const b = serviceColors(['catalog', 'orders', 'gateway']);
  assert.deepEqual([...a], [...b]);
  assert.equal(new Set(a.values()).size, 3);
});

test('the URL says what to show', () => {
  assert.deepEqual(parseLocation({ hash: '#/trace/abc123' }), { view: 'trace', traceID: 'abc123' });
  assert.deepEqual(parseLocation({ search: '?trace=abc' }), { view: 'trace', traceID: 'abc' });
  assert.deepEqual(parseLocation({ pathname: '/trace/0af7' }), { view: 'trace', traceID: '0af7' });
  const latest = parseLocation({ search: '?service=gateway&operation=POST%20/api/v1/checkout&latest=1' });
  assert.equal(latest.view, 'latest');
  assert.equal(latest.query.service, 'gateway');
  assert.equal(latest.query.operation, 'POST /api/v1/checkout');
  assert.equal(latest.complete, false);
  assert.equal(parseLocation({ search: '?service=gateway&latest=1&complete=1' }).complete, true);
  // The hash wins: after latest=1 the page names the trace it shows.
  assert.equal(parseLocation({ search: '?service=gateway&latest=1', hash: '#/trace/ff' }).traceID, 'ff');
  const s = parseLocation({ hash: '#/search?service=orders&lookback=15m&limit=5' });
  assert.deepEqual(s, { view: 'search', query: { service: 'orders', operation: '', lookback: '15m', limit: '5' } });
  assert.equal(parseLocation({}).view, 'search');
  assert.equal(parseLocation({ hash: '#/search' }).view, 'search');
});

test('the search URL asks the API for the lookback window', () => {
  const now = Date.UTC(2026, 11, 7, 15, 0, 0);
  const u = new URL(searchURL({ service: 'gateway', operation: 'POST /api/v1/checkout', lookback: '15m', limit: '7' }, now), 'http://x');
  assert.equal(u.pathname, '/api/traces');
  assert.equal(u.searchParams.get('service'), 'gateway');
  assert.equal(u.searchParams.get('operation'), 'POST /api/v1/checkout');
  assert.equal(u.searchParams.get('start'), String(now * 1000 - 15 * 60e6));
  assert.equal(u.searchParams.get('limit'), '7');
  const d = new URL(searchURL({ service: 's' }, now), 'http://x');
  assert.equal(d.searchParams.get('operation'), null);
  assert.equal(d.searchParams.get('start'), String(now * 1000 - 3600e6));
  assert.ok(isTraceID('0af7651916cd43dd8448eb211c80319c'));
  assert.ok(!isTraceID('<script>'));
});
