// The console page: plain ES modules, preact + htm for the views, uPlot for the images/s chart.
import { h, render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import uPlot from 'uplot';
const html = htm.bind(h);
const get = (p) => fetch(p).then((r) => r.json());

// One EventSource for the page: the server says what changed, views re-read it.
const listeners = new Set();
new EventSource('/events').addEventListener('changed', (e) => {
  const { what } = JSON.parse(e.data);
  listeners.forEach((l) => l(what));
});
function useLive(path, topic, deps = []) {
  const [data, setData] = useState(null);
  useEffect(() => {
    let alive = true;
    const load = () => path && get(path).then((d) => alive && setData(d));
    load();
    const l = (what) => what === topic && load();
    listeners.add(l);
    return () => {
      alive = false;
      listeners.delete(l);
    };
  }, [path, ...deps]);
  return data;
}

// the split in the versions' order (oldest first), not the map's
const trafficOrder = (m) => Object.entries(m.traffic).sort(([a], [b]) => m.versions.findIndex((v) => v.version === a) - m.versions.findIndex((v) => v.version === b));

function Models() {
  const models = useLive('/api/models', 'models');
  if (!models) return html`<p>loading…</p>`;
  if (models.length === 0) return html`<p>no models yet</p>`;
  return models.map(
    (m) => html`<section class="model"><h2>${m.model}</h2>
    <p>endpoint: ${m.endpoint ?? '(none yet)'} · traffic: ${
      trafficOrder(m)
        .map(([v, p]) => `${v} ${p}%`)
        .join(', ') || 'none'
    }</p>
    <table><tr><th>version</th><th>state</th><th>traffic</th><th>timeline</th><th>spec / details</th></tr>
    ${m.versions.map(
      (v) => html`<tr class="version" data-version=${v.version}><td>${v.version}</td><td class="state">${v.state}</td><td>${m.traffic[v.version] ?? 0}%</td>
      <td class="tl">${(v.history ?? []).map((e) => html`<span title=${e.reason ?? ''}>${e.to} ${String(e.at).slice(11, 19)}</span>`)}</td>
      <td>${v.error ? html`<div class="err">${v.error}</div>` : ''}${v.spec ? html`<details><summary>deploy spec</summary><pre>${JSON.stringify(v.spec, null, 2)}</pre></details>` : ''}
      ${v.rollout || v.analysis ? html`<details open><summary>rollout analysis</summary><pre>${JSON.stringify(v.rollout ?? v.analysis, null, 2)}</pre></details>` : ''}</td></tr>`,
    )}
    </table></section>`,
  );
}

function Jobs({ go }) {
  const jobs = useLive('/api/jobs', 'jobs');
  if (!jobs) return html`<p>loading…</p>`;
  return html`<table><tr><th>job</th><th>model</th><th>state</th><th>OK</th><th>ERROR</th></tr>
    ${jobs.map((j) => html`<tr><td><a href="#job/${j.job}" onClick=${() => go('job/' + j.job)}>${j.job}</a></td><td>${j.model}</td><td>${j.state}</td><td>${j.counts?.ok ?? 0}</td><td>${j.counts?.error ?? 0}</td></tr>`)}</table>`;
}

function RateChart({ points }) {
  const el = useRef(null),
    plot = useRef(null);
  useEffect(() => {
    if (points.length < 2) return;
    const xs = points.map((p) => p[0]),
      ys = points.map((p, i) => (i === 0 ? 0 : (p[1] - points[i - 1][1]) / Math.max(p[0] - points[i - 1][0], 0.001)));
    if (!plot.current) plot.current = new uPlot({ width: 600, height: 180, series: [{}, { label: 'images/s', stroke: '#2a8a4a' }], axes: [{}, {}] }, [xs, ys], el.current);
    else plot.current.setData([xs, ys]);
  }, [points.length]);
  return html`<div ref=${el} class="chart"></div>`;
}

// a small image (a 28x28 digit) is shown large with its pixels as they are, not blurred
const pixelateSmall = (e) => {
  if (e.target.naturalWidth < 280) e.target.style.imageRendering = 'pixelated';
};

function Job({ job }) {
  const summary = useLive(`/api/jobs/${encodeURIComponent(job)}`, 'jobs', [job]);
  const [points, setPoints] = useState([]);
  useEffect(() => {
    if (summary) setPoints((p) => [...p, [Date.now() / 1000, summary.counts.ok + summary.counts.error]]);
  }, [summary]);
  const [filter, setFilter] = useState({ status: '', label: '', minConfidence: '' });
  const [cursors, setCursors] = useState([null]);
  const qs = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== ''));
  const after = cursors[cursors.length - 1];
  if (after) qs.set('after', after);
  const page = useLive(`/api/jobs/${encodeURIComponent(job)}/results?${qs}`, 'jobs', [job]);
  const [open, setOpen] = useState(null);
  const detail = useLive(open ? `/api/jobs/${encodeURIComponent(job)}/results/${open}` : null, '', [open]);
  if (!summary) return html`<p>loading…</p>`;
  const done = summary.counts.ok + summary.counts.error;
  const pct = summary.expected ? Math.min(100, Math.round((100 * done) / summary.expected)) : null;
  const set = (k) => (e) => {
    setCursors([null]);
    setFilter({ ...filter, [k]: e.target.value });
  };
  return html`<h2>job ${job}</h2>
    <p>model ${summary.model} · ${summary.state ?? 'RUNNING'} · <span class="bar"><div style=${`width:${pct ?? 0}%`}></div></span>
      <span class="progress">${pct === null ? `${done} results` : `${pct}%`}</span> (${done}${summary.expected ? ` of ${summary.expected}` : ''}) ·
      <span class="ok">${summary.counts.ok} OK</span>, <span class="error">${summary.counts.error} ERROR</span></p>
    <${RateChart} points=${points} />
    ${Object.keys(summary.errorsByReason).length ? html`<table class="reasons"><tr><th>reason</th><th>count</th><th>example</th></tr>${Object.entries(summary.errorsByReason).map(([r, e]) => html`<tr><td>${r}</td><td>${e.count}</td><td class="err">${e.example}</td></tr>`)}</table>` : ''}
    <p>status <select class="f-status" onChange=${set('status')}><option value="">any</option><option>OK</option><option>ERROR</option></select>
      label <input class="f-label" size="8" onChange=${set('label')} />
      confidence ≥ <input class="f-confidence" size="4" onChange=${set('minConfidence')} />
      ${cursors.length > 1 ? html`<button onClick=${() => setCursors(cursors.slice(0, -1))}>previous</button>` : ''}
      ${page?.next ? html`<button class="next" onClick=${() => setCursors([...cursors, page.next])}>next page</button>` : ''}</p>
    <div class="grid">${(page?.results ?? []).map(
      (r) => html`<div class="cell" data-label=${r.label} onClick=${() => setOpen(r.id)}>
      <img class="thumb" src="/thumb/${encodeURIComponent(job)}/${r.id}" alt=${r.imageUri} /><div>${r.status === 'OK' ? `${r.label} (${Number(r.confidence).toFixed(3)})` : `ERROR ${r.reason}`}</div></div>`,
    )}</div>
    ${
      detail?.result
        ? html`<div class="detail"><h3>${detail.result.imageUri}</h3><img src="/thumb/${encodeURIComponent(job)}/${open}?size=800" class="big" onLoad=${pixelateSmall} />
      <pre>${JSON.stringify(detail.result, null, 2)}</pre><h4>answered by</h4><pre>${detail.answeredBy ? JSON.stringify({ version: detail.answeredBy.version, state: detail.answeredBy.state, deployedModelId: detail.answeredBy.deployedModelId, vertexModel: detail.answeredBy.vertexModel, endpoint: detail.answeredBy.endpoint }, null, 2) : '(no version record carries that deployed model)'}</pre></div>`
        : ''
    }`;
}

function App() {
  const [route, setRoute] = useState(location.hash.slice(1) || 'models');
  const target = useLive('/api/target', '');
  useEffect(() => {
    const f = () => setRoute(location.hash.slice(1) || 'models');
    addEventListener('hashchange', f);
    return () => removeEventListener('hashchange', f);
  }, []);
  const go = (r) => setRoute(r);
  return html`<header><b>dropship</b><a href="#models">Models</a><a href="#jobs">Jobs</a><span>${target ? `${target.kind} · ${target.project}` : ''}</span></header>
    <main>${route === 'jobs' ? html`<${Jobs} go=${go} />` : route.startsWith('job/') ? html`<${Job} job=${decodeURIComponent(route.slice(4))} />` : html`<${Models} />`}</main>`;
}
render(html`<${App} />`, document.getElementById('app'));
