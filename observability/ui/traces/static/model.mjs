// The trace viewer's logic, free of the DOM so Node's test runner can check
// it (model.test.mjs): reading one trace of Jaeger's query API
// (/api/traces/<id>), the span tree in parent/child order with the spans
// whose parent is missing, the time axis and the bars' geometry, and the
// summaries the search page lists. app.mjs draws what this computes.
//
// A Jaeger trace: { traceID, spans: [{ traceID, spanID, operationName,
// references: [{ refType, traceID, spanID }], startTime, duration (both
// microseconds), tags: [{ key, type, value }], logs: [{ timestamp, fields }],
// processID, warnings }], processes: { <id>: { serviceName, tags } } }.
// Spans sent over OTLP keep their parent as the CHILD_OF reference and their
// links as FOLLOWS_FROM ones, and their instrumentation scope as the tag
// otel.scope.name: a daprd's spans carry dapr-diagnostics, and the same
// service name as their app.

/** The instrumentation scope of every span a Dapr sidecar makes. */
export const DAPR_SCOPE = 'dapr-diagnostics';

/** Service colours, picked in order of the sorted service names. */
export const PALETTE = [
  '#1f77b4', '#e6550d', '#2ca02c', '#9467bd', '#8c564b', '#d6338a',
  '#17becf', '#7f7f00', '#3b3eac', '#b5651d', '#0b8457', '#6b6ecf',
];

/** The value of the first tag named key, or undefined. */
export function tagValue(tags, key) {
  if (!Array.isArray(tags)) return undefined;
  for (const t of tags) {
    if (t && t.key === key) return t.value;
  }
  return undefined;
}

function truthy(v) {
  return v === true || v === 'true';
}

/**
 * indexTrace normalises one trace of the query API: a span list sorted by
 * start time, each span with its service, scope, kind, whether it is a
 * sidecar's or failed, its parent's id and its other references (links).
 * Spans that share an id (Jaeger can return a span twice) get distinct keys;
 * byId holds the first of them, the one children attach to.
 */
export function indexTrace(trace) {
  const processes = (trace && trace.processes) || {};
  const raw = (trace && Array.isArray(trace.spans)) ? trace.spans : [];
  const traceID = (trace && trace.traceID) || (raw[0] && raw[0].traceID) || '';
  const seen = new Map();
  const spans = raw.map((s, i) => {
    const proc = processes[s.processID] || {};
    const tags = Array.isArray(s.tags) ? s.tags : [];
    const refs = Array.isArray(s.references) ? s.references : [];
    const id = String(s.spanID || '');
    const n = seen.get(id) || 0;
    seen.set(id, n + 1);
    // The parent: the CHILD_OF reference in this trace (a reference to
    // another trace is a link, even when it says CHILD_OF).
    const parentRef = refs.find(r => r && r.refType === 'CHILD_OF' && (!r.traceID || r.traceID === (s.traceID || traceID)));
    const kind = tagValue(tags, 'span.kind');
    const statusCode = tagValue(tags, 'otel.status_code');
    const start = Number(s.startTime) || 0;
    const duration = Math.max(0, Number(s.duration) || 0);
    return {
      key: n === 0 ? id : `${id}#${n}`,
      id,
      index: i,
      traceID: s.traceID || traceID,
      operation: String(s.operationName || ''),
      service: String(proc.serviceName || s.processID || '?'),
      processTags: Array.isArray(proc.tags) ? proc.tags : [],
      tags,
      logs: Array.isArray(s.logs) ? s.logs : [],
      warnings: Array.isArray(s.warnings) ? s.warnings : [],
      references: refs,
      links: refs.filter(r => r !== parentRef),
      parentId: parentRef ? String(parentRef.spanID || '') : '',
      start,
      duration,
      end: start + duration,
      scope: String(tagValue(tags, 'otel.scope.name') || ''),
      sidecar: tagValue(tags, 'otel.scope.name') === DAPR_SCOPE,
      kind: kind ? String(kind) : '',
      error: truthy(tagValue(tags, 'error')) || statusCode === 'ERROR',
      event: String(tagValue(tags, 'cloudevents.event_type') || tagValue(tags, 'messaging.destination.name') || ''),
    };
  });
  spans.sort((a, b) => a.start - b.start || a.index - b.index);
  const byId = new Map();
  const byKey = new Map();
  for (const s of spans) {
    if (!byId.has(s.id)) byId.set(s.id, s);
    byKey.set(s.key, s);
  }
  let start = Infinity;
  let end = -Infinity;
  for (const s of spans) {
    start = Math.min(start, s.start);
    end = Math.max(end, s.end);
  }
  if (!spans.length) {
    start = 0;
    end = 0;
  }
  const services = [...new Set(spans.map(s => s.service))].sort();
  return { traceID, spans, byId, byKey, services, start, end, duration: end - start };
}

/**
 * buildTree lays the spans out as rows in parent/child order: a parent
 * before its children, siblings by start time, each row with its depth.
 * Spans without a parent, and those whose parent is not in the trace
 * (orphan: true, "parent missing"), are at the top level. A chain of
 * parents that loops back is cut at its earliest span (cycle: true).
 * With hideSidecars, the sidecars' spans are left out and their children
 * hang from the nearest ancestor that is shown. collapsed: a Set of span
 * keys whose descendants are left out (the row stays, collapsed: true).
 *
 * Each row: { span, depth, parent (span or null), children (spans shown
 * under it, also when collapsed), descendants (their count, all levels),
 * orphan, cycle, collapsed, publisher (a consumer's parent span),
 * consumers (the consumer spans among its children) }.
 */
export function buildTree(model, { hideSidecars = false, collapsed = new Set() } = {}) {
  const shown = model.spans.filter(s => !(hideSidecars && s.sidecar));
  const shownKeys = new Set(shown.map(s => s.key));
  // The span a shown span hangs from: its parent, or with hidden sidecars
  // the parent's nearest shown ancestor. missing: the chain ends at an id
  // that is not in the trace.
  const anchor = new Map();
  for (const s of shown) {
    let id = s.parentId;
    let missing = false;
    let parent = null;
    const guard = new Set();
    while (id) {
      const p = model.byId.get(id);
      if (!p) {
        missing = true;
        break;
      }
      if (shownKeys.has(p.key)) {
        parent = p;
        break;
      }
      if (guard.has(id)) break; // a loop through hidden spans
      guard.add(id);
      id = p.parentId;
    }
    anchor.set(s.key, { parent: parent && parent.key !== s.key ? parent : null, missing });
  }
  const children = new Map(shown.map(s => [s.key, []]));
  const top = [];
  for (const s of shown) {
    const a = anchor.get(s.key);
    if (a.parent) children.get(a.parent.key).push(s);
    else top.push(s);
  }
  // shown is sorted by start already, so every children list is too.
  const rows = [];
  const placed = new Set();
  const counts = new Map();
  const countDescendants = (s) => {
    // Iterative post-order: a trace may be deep.
    const stack = [[s, false]];
    const onPath = new Set();
    while (stack.length) {
      const [x, done] = stack.pop();
      if (done) {
        onPath.delete(x.key);
        let n = 0;
        for (const c of children.get(x.key)) n += 1 + (counts.get(c.key) || 0);
        counts.set(x.key, n);
        continue;
      }
      if (counts.has(x.key) || onPath.has(x.key)) continue;
      onPath.add(x.key);
      stack.push([x, true]);
      for (const c of children.get(x.key)) stack.push([c, false]);
    }
  };
  const walk = (root, flags) => {
    const stack = [{ span: root, depth: 0, parent: null, ...flags }];
    while (stack.length) {
      const item = stack.pop();
      const s = item.span;
      if (placed.has(s.key)) continue;
      placed.add(s.key);
      countDescendants(s);
      const kids = children.get(s.key).filter(c => !placed.has(c.key) || false);
      const isCollapsed = collapsed.has(s.key) && kids.length > 0;
      const publisher = s.kind === 'consumer' && item.parent ? item.parent : null;
      rows.push({
        span: s,
        depth: item.depth,
        parent: item.parent,
        children: children.get(s.key),
        descendants: counts.get(s.key) || 0,
        orphan: !!item.orphan,
        cycle: !!item.cycle,
        collapsed: isCollapsed,
        publisher,
        consumers: children.get(s.key).filter(c => c.kind === 'consumer'),
      });
      if (isCollapsed) {
        // Mark the hidden descendants placed, so a loop cannot bring them back.
        const hide = [...kids];
        while (hide.length) {
          const h = hide.pop();
          if (placed.has(h.key)) continue;
          placed.add(h.key);
          hide.push(...children.get(h.key));
        }
        continue;
      }
      for (let i = kids.length - 1; i >= 0; i--) {
        stack.push({ span: kids[i], depth: item.depth + 1, parent: s });
      }
    }
  };
  for (const s of top) walk(s, { orphan: anchor.get(s.key).missing });
  // Whatever is left sits on a loop of parents: cut it at its earliest span.
  for (const s of shown) {
    if (!placed.has(s.key)) walk(s, { cycle: true });
  }
  return { rows, top };
}

/**
 * The trace's root: its earliest span without a parent, else (a trace that
 * continues a caller's, or is incomplete) its earliest span whose parent is
 * missing, else its earliest span.
 */
export function rootSpan(model) {
  const spans = model.spans;
  return spans.find(s => !s.parentId) ||
    spans.find(s => !model.byId.has(s.parentId)) ||
    spans[0] || null;
}

/** The spans whose parent is not in the trace. */
export function orphans(model) {
  return model.spans.filter(s => s.parentId && !model.byId.has(s.parentId));
}

/**
 * summarize: what the search page lists for one trace of the query API.
 */
export function summarize(trace) {
  const model = indexTrace(trace);
  const root = rootSpan(model);
  const perService = new Map();
  for (const s of model.spans) {
    const c = perService.get(s.service) || { name: s.service, spans: 0, sidecar: 0, errors: 0 };
    c.spans++;
    if (s.sidecar) c.sidecar++;
    if (s.error) c.errors++;
    perService.set(s.service, c);
  }
  return {
    traceID: model.traceID,
    rootService: root ? root.service : '',
    rootOperation: root ? root.operation : '',
    start: model.start,
    duration: model.duration,
    spanCount: model.spans.length,
    services: [...perService.values()].sort((a, b) => a.name.localeCompare(b.name)),
    errorCount: model.spans.filter(s => s.error).length,
    orphanCount: orphans(model).length,
    sidecarCount: model.spans.filter(s => s.sidecar).length,
  };
}

/** The traces newest first (by their earliest span), ties by id. */
export function sortTraces(summaries, by = 'newest') {
  const out = [...summaries];
  const cmp = {
    newest: (a, b) => b.start - a.start,
    oldest: (a, b) => a.start - b.start,
    longest: (a, b) => b.duration - a.duration,
    shortest: (a, b) => a.duration - b.duration,
    spans: (a, b) => b.spanCount - a.spanCount,
  }[by] || ((a, b) => b.start - a.start);
  return out.sort((a, b) => cmp(a, b) || (a.traceID < b.traceID ? -1 : a.traceID > b.traceID ? 1 : 0));
}

/**
 * The newest of a search's traces (the query API's data array), or null.
 * complete: only a trace in which every span's parent is (a trace whose
 * spans are still arriving has holes; a trace that continues a caller's
 * is never complete).
 */
export function newestTrace(traces, { complete = false } = {}) {
  let list = (traces || []).map(t => ({ t, s: summarize(t) }));
  if (complete) list = list.filter(x => x.s.orphanCount === 0);
  if (!list.length) return null;
  list.sort((a, b) => b.s.start - a.s.start);
  return list[0].t;
}

/** Colours per service: a Map from name to a PALETTE entry, by sorted name. */
export function serviceColors(names) {
  const sorted = [...new Set(names)].sort();
  return new Map(sorted.map((n, i) => [n, PALETTE[i % PALETTE.length]]));
}

/**
 * bar: where a span's bar goes on the trace's time axis, as fractions of its
 * width: left, width, and where its duration label fits: right of the bar,
 * inside it (a bar that reaches the end and is wide), or left of it.
 */
export function bar(span, axis) {
  const total = axis.end - axis.start;
  if (!(total > 0)) return { left: 0, width: 0, label: 'right' };
  const clamp = x => Math.min(1, Math.max(0, x));
  const left = clamp((span.start - axis.start) / total);
  const width = Math.min(1 - left, Math.max(0, span.duration / total));
  let label = 'right';
  if (left + width > 0.8) label = width >= 0.12 ? 'inside' : 'left';
  return { left, width, label };
}

/**
 * ticks: evenly spaced marks for an axis of duration microseconds, at the
 * round step (1, 2 or 5 times a power of ten) closest to count intervals:
 * [{ at (µs from the start), fraction, label }], from 0 to at most the end.
 */
export function ticks(duration, count = 5) {
  const step = tickStep(duration, count);
  if (!step) return [{ at: 0, fraction: 0, label: '0' }];
  const out = [];
  for (let i = 0; i * step <= duration + 1e-9; i++) {
    const at = i * step;
    out.push({ at, fraction: at / duration, label: i === 0 ? '0' : formatDuration(at) });
  }
  return out;
}

/** The ticks' step in microseconds for duration, 0 for an empty axis. */
export function tickStep(duration, count = 5) {
  if (!(duration > 0) || !(count > 0)) return 0;
  const raw = duration / count;
  const pow = Math.pow(10, Math.floor(Math.log10(raw)));
  let best = pow;
  for (const m of [2, 5, 10]) {
    if (Math.abs(Math.log(m * pow / raw)) < Math.abs(Math.log(best / raw))) best = m * pow;
  }
  return Math.max(1, best);
}

/** A duration in microseconds for people: 850µs, 12.3ms, 1.25s, 2m 5s. */
export function formatDuration(us) {
  const v = Number(us) || 0;
  const trim = (x, digits) => String(Number(x.toFixed(digits)));
  if (v < 1000) return `${trim(v, 0)}µs`;
  if (v < 1e6) return `${trim(v / 1000, v < 10000 ? 2 : 1)}ms`;
  if (v < 60e6) return `${trim(v / 1e6, 2)}s`;
  const m = Math.floor(v / 60e6);
  return `${m}m ${trim((v - m * 60e6) / 1e6, 0)}s`;
}

/**
 * A start time (microseconds since the epoch) as "2026-12-07 15:30:12.345",
 * in the browser's time zone or the one given (e.g. "UTC").
 */
export function formatTimestamp(us, timeZone) {
  const d = new Date(Math.floor(Number(us) / 1000));
  if (Number.isNaN(d.getTime())) return '';
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(d).map(p => [p.type, p.value]));
  const ms = String(d.getUTCMilliseconds()).padStart(3, '0');
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}.${ms}`;
}

/** A tag's value as text (objects as JSON). */
export function formatValue(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * parseLocation reads what the page should show from its URL: the Jaeger
 * UI's /trace/<id>, ?trace=<id>, #/trace/<id>, the newest trace of a
 * service and operation (?service=…&operation=…&latest=1, with &complete=1
 * the newest with no span's parent missing; or the same after #/search), or
 * a search (#/search?… or ?service=…). A hash wins over the
 * query string, which wins over the path.
 */
export function parseLocation({ pathname = '/', search = '', hash = '' } = {}) {
  const fromParams = (p) => {
    const trace = p.get('trace');
    if (trace) return { view: 'trace', traceID: trace };
    const q = {
      service: p.get('service') || '',
      operation: p.get('operation') || '',
      lookback: p.get('lookback') || '',
      limit: p.get('limit') || '',
    };
    if (p.get('latest') === '1' || p.get('latest') === 'true') {
      return { view: 'latest', query: q, complete: p.get('complete') === '1' || p.get('complete') === 'true' };
    }
    return { view: 'search', query: q };
  };
  const h = hash.replace(/^#/, '');
  if (h) {
    const m = /^\/?trace\/([^/?]+)/.exec(h);
    if (m) return { view: 'trace', traceID: safeDecode(m[1]) };
    const qs = h.indexOf('?');
    if (qs >= 0) return fromParams(new URLSearchParams(h.slice(qs + 1)));
    if (/^\/?search\/?$/.test(h)) return { view: 'search', query: {} };
  }
  const params = new URLSearchParams(search);
  if ([...params.keys()].length) return fromParams(params);
  const p = /^\/trace\/([^/]+)/.exec(pathname);
  if (p) return { view: 'trace', traceID: safeDecode(p[1]) };
  return { view: 'search', query: {} };
}

function safeDecode(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Lookback choices for the search form: label and microseconds. */
export const LOOKBACKS = [
  ['5m', 5 * 60e6], ['15m', 15 * 60e6], ['1h', 3600e6], ['3h', 3 * 3600e6],
  ['12h', 12 * 3600e6], ['24h', 24 * 3600e6], ['2d', 48 * 3600e6],
];

/**
 * searchURL: the query API's URL for a search (lookback as in LOOKBACKS, a
 * limit). now: milliseconds since the epoch.
 */
export function searchURL({ service, operation, lookback = '1h', limit = 20 }, now) {
  const p = new URLSearchParams();
  p.set('service', service);
  if (operation) p.set('operation', operation);
  const lb = LOOKBACKS.find(([l]) => l === lookback) || LOOKBACKS[2];
  // The API reads start and end (µs), not lookback: start is enough, end
  // defaults to the server's now.
  p.set('start', String(Math.floor(now * 1000 - lb[1])));
  p.set('lookback', lb[0]);
  p.set('limit', String(Math.max(1, Math.min(1000, Number(limit) || 20))));
  return `/api/traces?${p.toString()}`;
}

/** Whether s looks like a trace id (hex, 1 to 32 digits). */
export function isTraceID(s) {
  return /^[0-9a-fA-F]{1,32}$/.test(String(s || '').trim());
}
