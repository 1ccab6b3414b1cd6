// ML Explorables: live charts drawn in place on canvases.
//
// ui/livechart.py mounts one Streamlit Components v2 element per live view
// and sends, on every fragment tick, plain JSON: a list of charts, each a
// Plotly figure (data + layout, as the figure builders in core/plots make
// them). This module draws the subset of Plotly those builders use (lines,
// markers, text, bars, error bars, heatmaps, shapes, annotations, log and
// category axes, subplots by axis domain, a second y axis, equal scales) on
// a canvas that stays mounted: no remount, no blank frame, no Plotly.js
// (4.6 MB) in the page. Hover shows the nearest point.
//
// Served once as a static file (server.enableStaticServing); the inline
// loader in ui/livechart.py imports it. Per-element state lives in a
// WeakMap keyed on the element the component is mounted in.

const STATES = new WeakMap();
const FALLBACK_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#999999"];
const NAMED_SCALES = {
  Greys: [[0, "#ffffff"], [1, "#000000"]],
  Viridis: [[0, "#440154"], [0.25, "#3b528b"], [0.5, "#21918c"], [0.75, "#5ec962"], [1, "#fde725"]],
  Blues: [[0, "#f7fbff"], [1, "#08306b"]],
  RdBu: [[0, "#67001f"], [0.5, "#f7f7f7"], [1, "#053061"]],
};
const DASHES = { dot: [2, 3], dash: [7, 4], dashdot: [7, 3, 2, 3], longdash: [12, 4] };

// ---------------------------------------------------------------- entry point

export function draw(component, data) {
  // ``data``: the element's data, parsed by the loader (ui/static_module.py) from the JSON text it received
  const { parentElement } = component;
  let state = STATES.get(parentElement);
  if (!state) {
    state = createState(parentElement);
    STATES.set(parentElement, state);
  }
  state.data = data;
  state.component = component;
  state.theme = readTheme(parentElement);
  layoutCharts(state);
  state.frames += 1;
  state.root.dataset.updates = String(state.frames);
  if (data.step !== undefined && data.step !== null) state.root.dataset.step = String(data.step);
}

export function cleanup(parentElement) {
  const state = STATES.get(parentElement);
  if (!state) return;
  state.observer.disconnect();
  STATES.delete(parentElement);
}

function createState(parentElement) {
  const root = document.createElement("div");
  root.className = "lc-root";
  parentElement.appendChild(root);
  const state = { root, charts: new Map(), data: null, theme: null, frames: 0, width: 0 };
  state.observer = new ResizeObserver(() => {
    const w = root.clientWidth;
    if (w && Math.abs(w - state.width) > 1 && state.data) {
      state.width = w;
      layoutCharts(state);
    }
  });
  state.observer.observe(root);
  return state;
}

function readTheme(el) {
  const host = el instanceof ShadowRoot ? el.host : el;
  const css = getComputedStyle(host);
  const get = (name, fallback) => (css.getPropertyValue(name) || "").trim() || fallback;
  const text = get("--st-text-color", "#31333F");
  const background = get("--st-background-color", "#ffffff");
  let categorical = FALLBACK_COLOURS;
  const raw = get("--st-chart-categorical-colors", "");
  if (raw) {
    const parsed = raw.split(",").map((s) => s.trim().replace(/^["']|["']$/g, "")).filter(Boolean);
    if (parsed.length >= 3) categorical = parsed;
  }
  const font = get("--st-font", css.fontFamily || "sans-serif");
  return { text, background, dark: luminance(background) < 0.4, categorical, font, border: get("--st-border-color", "") };
}

// ---------------------------------------------------------------- layout of the grid

function layoutCharts(state) {
  const { root, data } = state;
  const wide = root.clientWidth || 800;
  const columns = wide < 640 ? 1 : Math.max(1, data.columns || 1);
  root.style.display = "grid";
  root.style.gridTemplateColumns = `repeat(${columns}, minmax(0, 1fr))`;
  root.style.gap = "12px 20px";
  const seen = new Set();
  for (const spec of data.charts || []) {
    seen.add(spec.id);
    let chart = state.charts.get(spec.id);
    if (!chart) {
      chart = createChart(spec.id, state);
      state.charts.set(spec.id, chart);
    }
    root.appendChild(chart.box); // keeps the order of data.charts
    chart.box.style.gridColumn = spec.span && columns > 1 ? `span ${Math.min(spec.span, columns)}` : "auto";
    chart.spec = spec;
    try {
      drawChart(chart, state.theme, data.markers || []);
      chart.box.dataset.error = "";
    } catch (err) {
      chart.box.dataset.error = String(err);
      console.warn("livechart: could not draw", spec.id, err);
    }
  }
  for (const [id, chart] of state.charts) {
    if (!seen.has(id)) {
      chart.box.remove();
      state.charts.delete(id);
    }
  }
}

function createChart(id, state) {
  const box = document.createElement("div");
  box.className = "lc-chart";
  box.dataset.chart = id;
  box.style.position = "relative";
  box.style.minWidth = "0";
  const canvas = document.createElement("canvas");
  canvas.style.width = "100%";
  canvas.style.display = "block";
  canvas.setAttribute("role", "img");
  const tip = document.createElement("div");
  tip.className = "lc-tip";
  tip.style.cssText = "position:absolute;pointer-events:none;display:none;padding:4px 8px;border-radius:4px;" +
    "font-size:12px;line-height:1.35;white-space:nowrap;z-index:2;box-shadow:0 1px 4px rgba(0,0,0,.3)";
  box.append(canvas, tip);
  const chart = { id, box, canvas, tip, spec: null, hits: [] };
  canvas.addEventListener("mousemove", (e) => hover(chart, e));
  canvas.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  canvas.addEventListener("click", (e) => click(chart, state, e));
  return chart;
}

// ---------------------------------------------------------------- one chart

function drawChart(chart, theme, markers) {
  const fig = chart.spec.fig || { data: [], layout: {} };
  const layout = fig.layout || {};
  const traces = (fig.data || []).filter((t) => t.visible !== false);
  const width = Math.max(200, chart.box.clientWidth || 600);
  const canvas = chart.canvas;
  const ctx = canvas.getContext("2d");
  shareColourAxes(traces, layout);
  const colours = (layout.colorway && layout.colorway.length) ? layout.colorway : theme.categorical;
  traces.forEach((t, i) => { t._colour = traceColour(t, colours[i % colours.length], theme); });

  const font = theme.font;
  const title = textOf(layout.title);
  canvas.setAttribute("aria-label", title || chart.id);
  // Title: wrapped to the width, bold, top left (like the Plotly look of core.plots.common).
  ctx.font = `600 15px ${font}`;
  const titleLines = title ? wrap(ctx, stripTags(title), width - 16) : [];
  let top = 8 + titleLines.length * 19;
  // Legend entries, wrapped into rows above the plot (or below when the figure puts it below).
  const entries = legendEntries(traces, layout);
  ctx.font = `12px ${font}`;
  const legendRows = entries.length ? legendLayout(ctx, entries, width - 16) : [];
  const legendBelow = !!(layout.legend && typeof layout.legend.y === "number" && layout.legend.y < 0.5);
  if (legendRows.length && !legendBelow) top += 4 + legendRows.length * 18;
  top += 8;
  const axes = buildAxes(layout, traces);
  const hasY2 = Object.values(axes.y).some((a) => a.side === "right");
  const bar = traces.find((t) => t.type === "heatmap" && t.showscale !== false);
  const right = 12 + (hasY2 ? 56 : 0) + (bar ? 70 : 0);
  const hasXTitle = Object.values(axes.x).some((a) => a.title);
  let bottom = 24 + (hasXTitle ? 20 : 0);
  if (legendRows.length && legendBelow) bottom += 6 + legendRows.length * 18;
  const left = 64;
  // Size the canvas: the figure's height, or less for an equal-scale plot in a narrow column
  // (a square plane 400 px wide needs no 600 px of height).
  let height = layout.height || 360;
  const anchored = Object.values(axes.y).find((a) => a.spec.scaleanchor && axes.x[a.spec.scaleanchor]);
  if (anchored) {
    const xa = axes.x[anchored.spec.scaleanchor];
    const plotW = Math.max(40, width - left - right) * (xa.domain[1] - xa.domain[0]);
    const ratio = Math.abs(anchored.range[1] - anchored.range[0]) / Math.abs(xa.range[1] - xa.range[0]) *
      (anchored.spec.scaleratio || 1);
    height = Math.min(height, Math.ceil(top + bottom + plotW * ratio / (anchored.domain[1] - anchored.domain[0])) + 4);
  }
  const dpr = window.devicePixelRatio || 1;
  canvas.style.height = `${height}px`;
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const plot = { x: left, y: top, w: Math.max(40, width - left - right), h: Math.max(40, height - top - bottom) };
  placeAxes(axes, plot, layout);
  chart.axes = axes;
  canvas.style.cursor = (chart.spec.clickable ? "crosshair" : "default");
  for (const ax of [...Object.values(axes.x), ...Object.values(axes.y)]) ticksFor(ax);

  // Grid, then data (shapes below data first), then axes and labels on top.
  ctx.save();
  drawGrid(ctx, axes, theme);
  drawShapes(ctx, layout.shapes || [], axes, plot, theme, "below");
  chart.hits = [];
  const bars = traces.filter((t) => t.type === "bar");
  for (const t of traces) {
    const xa = axes.x[axisKey(t.xaxis, "x")];
    const ya = axes.y[axisKey(t.yaxis, "y")];
    if (!xa || !ya) continue;
    clipTo(ctx, xa, ya);
    if (t.type === "heatmap") drawHeatmap(ctx, t, xa, ya, chart);
    else if (t.type === "bar") drawBars(ctx, t, xa, ya, bars, layout, chart, theme);
    else drawScatter(ctx, t, xa, ya, chart, theme);
    ctx.restore();
    ctx.save();
  }
  drawShapes(ctx, layout.shapes || [], axes, plot, theme, "above");
  drawMarkers(ctx, chart.spec.history ? markers : [], axes, theme);
  ctx.restore();
  drawAxes(ctx, axes, theme, font);
  drawAnnotations(ctx, layout.annotations || [], axes, plot, theme, font);
  if (bar) drawColourBar(ctx, bar, plot, width, theme, font, hasY2);

  ctx.fillStyle = theme.text;
  ctx.font = `600 15px ${font}`;
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  titleLines.forEach((line, i) => ctx.fillText(line, 8, 6 + i * 19));
  if (legendRows.length) {
    const y0 = legendBelow ? height - legendRows.length * 18 - 4 : 8 + titleLines.length * 19 + 4;
    drawLegend(ctx, legendRows, y0, theme, font);
  }
}

function shareColourAxes(traces, layout) {
  // Heatmaps on one layout.coloraxis share its scale, limits and colour bar (one bar for all).
  const groups = new Map();
  for (const t of traces) {
    if (t.type !== "heatmap" || !t.coloraxis || !layout[t.coloraxis]) continue;
    if (!groups.has(t.coloraxis)) groups.set(t.coloraxis, []);
    groups.get(t.coloraxis).push(t);
  }
  for (const [name, members] of groups) {
    const ca = layout[name];
    let lo = ca.cmin;
    let hi = ca.cmax;
    if (lo === undefined || lo === null || hi === undefined || hi === null) {
      const all = members.map((t) => heatRange({ z: t.z }));
      if (lo === undefined || lo === null) lo = Math.min(...all.map((r) => r[0]));
      if (hi === undefined || hi === null) hi = Math.max(...all.map((r) => r[1]));
    }
    members.forEach((t, i) => {
      if (ca.colorscale) t.colorscale = ca.colorscale;
      t.zmin = lo;
      t.zmax = hi;
      t.zmid = undefined;
      t.showscale = i === 0 && ca.showscale !== false;
      if (ca.colorbar) t.colorbar = ca.colorbar;
    });
  }
}

function traceColour(t, fallback, theme) {
  const m = t.marker || {};
  const l = t.line || {};
  let c = (typeof m.color === "string" && t.type !== "scatter") ? m.color
    : l.color || (typeof m.color === "string" ? m.color : null) || fallback;
  return fixColour(c, theme);
}

function fixColour(c, theme) {
  if (typeof c !== "string") return c;
  const v = c.trim().toLowerCase();
  if (v === "black" || v === "#000" || v === "#000000") return theme.text;
  return c;
}

// ---------------------------------------------------------------- axes

function axisKey(ref, base) {
  if (!ref) return base;
  return ref; // "x", "x2", "y3" ...
}

function layoutAxisName(key) {
  // "x" -> "xaxis", "x2" -> "xaxis2"
  return key[0] + "axis" + key.slice(1);
}

function buildAxes(layout, traces) {
  const axes = { x: {}, y: {} };
  const ensure = (key) => {
    const kind = key[0];
    if (!axes[kind][key]) {
      const spec = layout[layoutAxisName(key)] || {};
      axes[kind][key] = {
        key, kind, spec, title: textOf(spec.title), type: spec.type || null, domain: spec.domain || [0, 1],
        overlaying: spec.overlaying || null, side: spec.side || (kind === "x" ? "bottom" : "left"),
        anchor: spec.anchor || null, values: [], categories: null, showticklabels: spec.showticklabels !== false,
        showgrid: spec.showgrid !== false, traces: [],
      };
    }
    return axes[kind][key];
  };
  ensure("x");
  ensure("y");
  for (const name of Object.keys(layout)) {
    const m = /^([xy])axis(\d*)$/.exec(name);
    if (m) ensure(m[1] + m[2]);
  }
  for (const t of traces) {
    const xa = ensure(axisKey(t.xaxis, "x"));
    const ya = ensure(axisKey(t.yaxis, "y"));
    xa.traces.push(t);
    ya.traces.push(t);
  }
  for (const kind of ["x", "y"]) {
    for (const ax of Object.values(axes[kind])) {
      if (ax.overlaying) {
        const base = axes[kind][ax.overlaying];
        if (base) ax.domain = base.domain;
      }
      resolveRange(ax, layout);
    }
  }
  // Shared x axes (make_subplots(shared_xaxes=True)) use "matches".
  for (const ax of Object.values(axes.x)) {
    const m = ax.spec.matches;
    if (m && axes.x[m] && !ax.spec.range) {
      ax.range = axes.x[m].range.slice();
      ax.type = axes.x[m].type;
      ax.categories = axes.x[m].categories;
    }
  }
  for (const ax of Object.values(axes.x)) {
    const base = axes.x[ax.key];
    for (const other of Object.values(axes.x)) {
      if (other.spec.matches === ax.key && !ax.spec.range) {
        const lo = Math.min(base.range[0], other.range[0]);
        const hi = Math.max(base.range[1], other.range[1]);
        base.range = [lo, hi];
        other.range = [lo, hi];
      }
    }
  }
  return axes;
}

function isCategoryValues(values) {
  return values.some((v) => typeof v === "string" && !isFinite(Number(v)));
}

function resolveRange(ax, layout) {
  const spec = ax.spec;
  const values = [];
  let bars = false;
  let heat = false;
  for (const t of ax.traces) {
    const v = ax.kind === "x" ? t.x : t.y;
    if (t.type === "heatmap") {
      heat = true;
      const n = ax.kind === "x" ? ((t.z && t.z[0]) ? t.z[0].length : 0) : (t.z ? t.z.length : 0);
      const arr = v && v.length ? v : [...Array(n).keys()];
      if (arr.length) {
        const step = arr.length > 1 ? (arr[1] - arr[0]) : 1;
        values.push(arr[0] - step / 2, arr[arr.length - 1] + step / 2);
      }
      continue;
    }
    if (!v) continue;
    if (t.type === "bar") bars = true;
    if (ax.kind === "y" && t.type === "bar") {
      values.push(0);
      const e = t.error_y;
      v.forEach((y, i) => {
        if (y === null || y === undefined) return;
        values.push(y);
        if (e && e.array) values.push(y + (e.array[i] || 0));
        if (e && e.arrayminus) values.push(y - (e.arrayminus[i] || 0));
      });
      continue;
    }
    for (const x of v) values.push(x);
  }
  if (!ax.type) ax.type = isCategoryValues(values) ? "category" : "linear";
  if (ax.type === "category") {
    const cats = [];
    for (const t of ax.traces) {
      const v = ax.kind === "x" ? t.x : t.y;
      for (const c of v || []) if (!cats.includes(String(c))) cats.push(String(c));
    }
    if (spec.tickvals) for (const c of spec.tickvals) if (!cats.includes(String(c))) cats.push(String(c));
    ax.categories = cats;
    ax.range = spec.range ? spec.range.slice() : [-0.5, Math.max(0, cats.length - 1) + 0.5];
    if (!spec.range && spec.autorange === "reversed") ax.range.reverse();
    return;
  }
  const log = ax.type === "log";
  let nums = values.map(Number).filter((v) => isFinite(v) && (!log || v > 0));
  if (spec.range && spec.range.length === 2 && spec.range[0] !== null && spec.range[1] !== null) {
    ax.range = spec.range.slice(); // Plotly gives a log axis's range in log10 units already
    if (!log) ax.range = ax.range.map(Number);
    return;
  }
  if (log) nums = nums.map((v) => Math.log10(v));
  let lo = nums.length ? Math.min(...nums) : 0;
  let hi = nums.length ? Math.max(...nums) : 1;
  if (spec.rangemode === "tozero" && !log) { lo = Math.min(lo, 0); hi = Math.max(hi, 0); }
  if (lo === hi) { lo -= log ? 0.5 : (Math.abs(lo) * 0.1 || 1); hi += log ? 0.5 : (Math.abs(hi) * 0.1 || 1); }
  if (!heat) {
    const pad = (hi - lo) * (bars && ax.kind === "x" ? 0.0 : 0.05);
    const barPad = bars && ax.kind === "x" ? 0.5 * Math.min(...ax.traces.filter((t) => t.type === "bar").map(
      (t) => (t.width !== undefined && !Array.isArray(t.width) ? Number(t.width) / 0.8 : smallestGap((t.x || []).map(Number))))) : 0;
    lo -= pad + barPad;
    hi += pad + barPad;
    if (bars && ax.kind === "y" && lo >= -1e-12 && !log) lo = 0;
  }
  ax.range = spec.autorange === "reversed" ? [hi, lo] : [lo, hi];
}

function placeAxes(axes, plot, layout) {
  for (const ax of Object.values(axes.x)) {
    ax.p0 = plot.x + ax.domain[0] * plot.w;
    ax.p1 = plot.x + ax.domain[1] * plot.w;
  }
  for (const ax of Object.values(axes.y)) {
    ax.p0 = plot.y + (1 - ax.domain[0]) * plot.h; // pixel of the range's low end (bottom)
    ax.p1 = plot.y + (1 - ax.domain[1]) * plot.h;
  }
  // Equal scales (scaleanchor): shrink the longer side so one unit is as long on both axes.
  for (const ya of Object.values(axes.y)) {
    const anchor = ya.spec.scaleanchor;
    if (!anchor || !axes.x[anchor]) continue;
    const xa = axes.x[anchor];
    const ratio = ya.spec.scaleratio || 1;
    const xSpan = Math.abs(xa.range[1] - xa.range[0]);
    const ySpan = Math.abs(ya.range[1] - ya.range[0]);
    const xPer = (xa.p1 - xa.p0) / xSpan;
    const yPer = (ya.p0 - ya.p1) / ySpan / ratio;
    if (xPer > yPer) {
      const w = yPer * xSpan;
      const mid = (xa.p0 + xa.p1) / 2;
      xa.p0 = mid - w / 2;
      xa.p1 = mid + w / 2;
    } else {
      const h = xPer * ratio * ySpan;
      const mid = (ya.p0 + ya.p1) / 2;
      ya.p0 = mid + h / 2;
      ya.p1 = mid - h / 2;
    }
  }
  // A y axis spans the x pixels of the x axis it is anchored to, and vice versa.
  for (const ya of Object.values(axes.y)) {
    const xa = axes.x[ya.anchor && ya.anchor !== "free" ? ya.anchor : "x" + ya.key.slice(1)] || axes.x.x;
    ya.cross = ya.side === "right" ? xa.p1 : xa.p0;
    ya.span = [xa.p0, xa.p1];
  }
  for (const xa of Object.values(axes.x)) {
    const ya = axes.y[xa.anchor && xa.anchor !== "free" ? xa.anchor : "y" + xa.key.slice(1)] || axes.y.y;
    xa.cross = ya.p0;
    xa.span = [ya.p1, ya.p0];
  }
}

function toPixel(ax, v) {
  let u;
  if (ax.type === "category") {
    const i = ax.categories.indexOf(String(v));
    u = i >= 0 ? i : Number(v);
  } else if (ax.type === "log") {
    u = v > 0 ? Math.log10(v) : NaN;
  } else {
    u = Number(v);
  }
  if (v === null || v === undefined || !isFinite(u)) return NaN;
  return ax.p0 + (u - ax.range[0]) / (ax.range[1] - ax.range[0]) * (ax.p1 - ax.p0);
}

function fromPixel(ax, p) {
  const u = ax.range[0] + (p - ax.p0) / (ax.p1 - ax.p0) * (ax.range[1] - ax.range[0]);
  return ax.type === "log" ? 10 ** u : u;
}

function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

function ticksFor(ax) {
  const spec = ax.spec;
  const length = Math.abs(ax.p1 - ax.p0);
  ax.ticks = [];
  if (spec.tickvals && spec.tickvals.length) {
    spec.tickvals.forEach((v, i) => {
      const label = spec.ticktext ? spec.ticktext[i] : formatTick(v, ax, 1);
      ax.ticks.push({ v, label: label === undefined ? String(v) : String(label) });
    });
    return;
  }
  if (ax.type === "category") {
    const every = Math.max(1, Math.ceil(ax.categories.length / Math.max(1, length / 28)));
    ax.categories.forEach((c, i) => { if (i % every === 0) ax.ticks.push({ v: c, label: c }); });
    return;
  }
  const [lo, hi] = ax.range;
  if (ax.type === "log") {
    const a = Math.ceil(lo - 1e-9);
    const b = Math.floor(hi + 1e-9);
    const decades = b - a + 1;
    const stride = Math.max(1, Math.ceil(decades / Math.max(2, length / (ax.kind === "x" ? 70 : 40))));
    for (let e = a; e <= b; e += stride) ax.ticks.push({ v: 10 ** e, label: formatPower(e) });
    if (decades <= 2) {
      for (let e = Math.floor(lo); e <= b; e++) for (const m of [2, 5]) {
        const u = e + Math.log10(m);
        if (u >= lo && u <= hi) ax.ticks.push({ v: 10 ** u, label: formatTick(10 ** u, ax, 10 ** u) });
      }
    }
    if (!ax.ticks.length) ax.ticks.push({ v: 10 ** ((lo + hi) / 2), label: formatTick(10 ** ((lo + hi) / 2), ax, 1) });
    return;
  }
  const step = spec.dtick && Number(spec.dtick) > 0 && (hi - lo) / Number(spec.dtick) < 60
    ? Number(spec.dtick) : niceStep(hi - lo, Math.max(2, length / (ax.kind === "x" ? 90 : 45)));
  const first = Math.ceil((lo - 1e-9 * step) / step) * step;
  for (let v = first; v <= hi + 1e-9 * step; v += step) {
    const r = Math.abs(v) < step * 1e-9 ? 0 : v;
    ax.ticks.push({ v: r, label: formatTick(r, ax, step) });
  }
}

function formatPower(e) {
  if (e >= -3 && e <= 4) return formatNumber(10 ** e, 10 ** Math.min(0, e));
  const sup = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };
  return "10" + String(e).split("").map((c) => sup[c] || c).join("");
}

function formatTick(v, ax, step) {
  return formatNumber(v, step);
}

function formatNumber(v, step) {
  if (!isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e4 && Math.abs(step) >= 1000) {
    if (a >= 1e6) return trimZeros((v / 1e6).toFixed(step >= 1e6 ? 0 : 1)) + "M";
    return trimZeros((v / 1e3).toFixed(step >= 1e3 ? 0 : 1)) + "k";
  }
  if (a >= 1000 && Number.isInteger(v)) return v.toLocaleString("en-US");
  const decimals = Math.max(0, Math.min(8, -Math.floor(Math.log10(Math.abs(step) || 1) + 1e-9)));
  if (a !== 0 && (a < 1e-4 || a >= 1e7)) return v.toExponential(1);
  return v.toFixed(decimals);
}

function trimZeros(s) {
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

function drawGrid(ctx, axes, theme) {
  ctx.lineWidth = 1;
  ctx.strokeStyle = withAlpha(theme.text, 0.12);
  for (const ax of Object.values(axes.x)) {
    if (!ax.showgrid || ax.overlaying) continue;
    for (const t of ax.ticks) {
      const p = Math.round(toPixel(ax, t.v)) + 0.5;
      if (!isFinite(p)) continue;
      line(ctx, p, ax.span[0], p, ax.span[1]);
    }
  }
  for (const ax of Object.values(axes.y)) {
    if (!ax.showgrid || ax.overlaying) continue;
    for (const t of ax.ticks) {
      const p = Math.round(toPixel(ax, t.v)) + 0.5;
      if (!isFinite(p)) continue;
      line(ctx, ax.span[0], p, ax.span[1], p);
    }
  }
  // Zero lines where a linear axis crosses 0.
  ctx.strokeStyle = withAlpha(theme.text, 0.3);
  for (const ax of Object.values(axes.y)) {
    if (ax.type !== "linear" || ax.spec.zeroline === false || ax.overlaying) continue;
    if (ax.range[0] < 0 && ax.range[1] > 0) {
      const p = Math.round(toPixel(ax, 0)) + 0.5;
      line(ctx, ax.span[0], p, ax.span[1], p);
    }
  }
}

function drawAxes(ctx, axes, theme, font) {
  ctx.fillStyle = withAlpha(theme.text, 0.85);
  ctx.strokeStyle = withAlpha(theme.text, 0.35);
  ctx.font = `11px ${font}`;
  for (const ax of Object.values(axes.x)) {
    if (ax.showticklabels) {
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      let lastRight = -Infinity;
      for (const t of ax.ticks) {
        const p = toPixel(ax, t.v);
        if (!isFinite(p) || p < ax.p0 - 1 || p > ax.p1 + 1) continue;
        const label = stripTags(t.label);
        const w = ctx.measureText(label).width;
        if (p - w / 2 < lastRight + 4) continue; // no overlapping tick labels
        ctx.font = /<b>/.test(t.label) ? `700 11px ${font}` : `11px ${font}`;
        ctx.fillText(label, p, ax.cross + 5);
        ctx.font = `11px ${font}`;
        lastRight = p + w / 2;
      }
    }
    if (ax.title) {
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      ctx.font = `12px ${font}`;
      ctx.fillText(fit(ctx, stripTags(ax.title), ax.p1 - ax.p0), (ax.p0 + ax.p1) / 2, ax.cross + (ax.showticklabels ? 21 : 6));
      ctx.font = `11px ${font}`;
    }
  }
  for (const ax of Object.values(axes.y)) {
    const right = ax.side === "right";
    if (ax.showticklabels) {
      ctx.textAlign = right ? "left" : "right";
      ctx.textBaseline = "middle";
      for (const t of ax.ticks) {
        const p = toPixel(ax, t.v);
        if (!isFinite(p) || p > ax.p0 + 1 || p < ax.p1 - 1) continue;
        ctx.fillText(fit(ctx, stripTags(t.label), 50), ax.cross + (right ? 5 : -5), p);
      }
    }
    if (ax.title) {
      ctx.save();
      ctx.font = `12px ${font}`;
      ctx.translate(right ? ax.cross + 50 : ax.cross - 50, (ax.p0 + ax.p1) / 2);
      ctx.rotate(right ? Math.PI / 2 : -Math.PI / 2);
      ctx.textAlign = "center";
      ctx.textBaseline = right ? "top" : "bottom";
      ctx.fillText(fit(ctx, stripTags(ax.title), Math.abs(ax.p0 - ax.p1) + 20), 0, 0);
      ctx.restore();
    }
  }
}

function clipTo(ctx, xa, ya) {
  ctx.save();
  ctx.beginPath();
  ctx.rect(Math.min(xa.p0, xa.p1) - 1, Math.min(ya.p0, ya.p1) - 1, Math.abs(xa.p1 - xa.p0) + 2, Math.abs(ya.p0 - ya.p1) + 2);
  ctx.clip();
}

// ---------------------------------------------------------------- traces

function drawScatter(ctx, t, xa, ya, chart, theme) {
  const xs = t.x || [];
  const ys = t.y || [];
  const n = Math.min(xs.length, ys.length);
  const mode = t.mode || (n > 20 ? "lines" : "lines+markers");
  const colour = t._colour;
  const px = new Float64Array(n);
  const py = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    px[i] = toPixel(xa, xs[i]);
    py[i] = toPixel(ya, ys[i]);
  }
  const opacity = t.opacity === undefined ? 1 : t.opacity;
  ctx.globalAlpha = opacity;
  if (t.fill && t.fill !== "none") {
    ctx.fillStyle = fixColour(t.fillcolor, theme) || withAlpha(colour, 0.25);
    ctx.beginPath();
    let started = false;
    for (let i = 0; i < n; i++) {
      if (!isFinite(px[i]) || !isFinite(py[i])) continue;
      if (!started) { ctx.moveTo(px[i], t.fill === "tozeroy" ? ya.p0 : py[i]); started = true; }
      ctx.lineTo(px[i], py[i]);
    }
    if (started && t.fill === "tozeroy") {
      ctx.lineTo(px[n - 1], ya.p0);
    }
    ctx.closePath();
    ctx.fill();
  }
  if (mode.includes("lines")) {
    const l = t.line || {};
    ctx.strokeStyle = colour;
    ctx.lineWidth = l.width === undefined ? 2 : l.width;
    ctx.setLineDash(DASHES[l.dash] || []);
    ctx.lineJoin = "round";
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < n; i++) {
      if (!isFinite(px[i]) || !isFinite(py[i])) { pen = false; continue; }
      if (!pen) { ctx.moveTo(px[i], py[i]); pen = true; continue; }
      if (l.shape === "hv") ctx.lineTo(px[i], py[i - 1]);
      else if (l.shape === "vh") ctx.lineTo(px[i - 1], py[i]);
      ctx.lineTo(px[i], py[i]);
    }
    ctx.stroke();
    ctx.setLineDash([]);
  }
  const m = t.marker || {};
  if (mode.includes("markers")) {
    const sizes = Array.isArray(m.size) ? m.size : null;
    const size = sizes ? 6 : (m.size === undefined ? 6 : m.size);
    const colours = Array.isArray(m.color) ? m.color.map((c) => fixColour(c, theme)) : null;
    const mo = m.opacity === undefined ? 1 : m.opacity;
    ctx.globalAlpha = opacity * mo;
    const symbols = Array.isArray(m.symbol) ? m.symbol : null;
    const symbol = symbols ? "circle" : (m.symbol || "circle");
    const edge = m.line && m.line.width ? m.line : null;
    if (!colours && !sizes && !symbols && symbol === "circle" && !edge) {
      ctx.fillStyle = colour;
      ctx.beginPath();
      const r = size / 2;
      for (let i = 0; i < n; i++) {
        if (!isFinite(px[i]) || !isFinite(py[i])) continue;
        ctx.moveTo(px[i] + r, py[i]);
        ctx.arc(px[i], py[i], r, 0, 2 * Math.PI);
      }
      ctx.fill();
    } else {
      for (let i = 0; i < n; i++) {
        if (!isFinite(px[i]) || !isFinite(py[i])) continue;
        marker(ctx, symbols ? symbols[i % symbols.length] : symbol, px[i], py[i], sizes ? sizes[i % sizes.length] : size,
          colours ? colours[i % colours.length] : colour,
          edge ? (fixColour(edge.color, theme) || (colours ? colours[i % colours.length] : colour)) : null, edge ? edge.width : 0);
      }
    }
    ctx.globalAlpha = 1;
  }
  if (mode.includes("text") && t.text) {
    const tf = t.textfont || {};
    const textColours = Array.isArray(tf.color) ? tf.color.map((c) => fixColour(c, theme)) : null;
    ctx.fillStyle = textColours ? colour : (fixColour(tf.color, theme) || colour);
    ctx.font = `${tf.size || 12}px ${ctx.font.split("px ").pop()}`;
    ctx.textAlign = "center";
    const pos = t.textposition || "middle center";
    ctx.textBaseline = pos.startsWith("top") ? "bottom" : pos.startsWith("bottom") ? "top" : "middle";
    for (let i = 0; i < n; i++) {
      const s = Array.isArray(t.text) ? t.text[i] : t.text;
      if (s === undefined || s === null || !isFinite(px[i]) || !isFinite(py[i])) continue;
      if (textColours) ctx.fillStyle = textColours[i % textColours.length] || colour;
      ctx.fillText(stripTags(String(s)), px[i], py[i] + (pos.startsWith("top") ? -3 : pos.startsWith("bottom") ? 3 : 0));
    }
  }
  ctx.globalAlpha = 1;
  drawErrorBars(ctx, t, px, py, ya, colour, n);
  if (t.hoverinfo !== "skip" && !(t.hovertemplate === "" || t.hoverinfo === "none")) {
    chart.hits.push({ kind: "points", t, px, py, n });
  }
}

function drawErrorBars(ctx, t, px, py, ya, colour, n) {
  const e = t.error_y;
  if (!e || e.visible === false || !(e.array || e.value)) return;
  ctx.strokeStyle = e.color || colour;
  ctx.lineWidth = e.thickness || 1.5;
  ctx.setLineDash([]);
  ctx.beginPath();
  for (let i = 0; i < n; i++) {
    const y = t.y[i];
    if (!isFinite(px[i]) || y === null) continue;
    const up = e.array ? (e.array[i] || 0) : e.value;
    const down = e.symmetric === false ? (e.arrayminus ? (e.arrayminus[i] || 0) : 0) : up;
    const top = toPixel(ya, y + up);
    const bottom = toPixel(ya, y - down);
    if (!isFinite(top) || !isFinite(bottom)) continue;
    const w = e.width === undefined ? 4 : e.width;
    ctx.moveTo(px[i], top); ctx.lineTo(px[i], bottom);
    if (up) { ctx.moveTo(px[i] - w, top); ctx.lineTo(px[i] + w, top); }
    if (down) { ctx.moveTo(px[i] - w, bottom); ctx.lineTo(px[i] + w, bottom); }
  }
  ctx.stroke();
}

function marker(ctx, symbol, x, y, size, fill, edgeColour, edgeWidth) {
  const r = size / 2;
  const open = symbol.endsWith("-open");
  const shape = symbol.replace("-open", "");
  ctx.beginPath();
  if (shape === "diamond") {
    ctx.moveTo(x, y - r * 1.2); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r * 1.2); ctx.lineTo(x - r, y); ctx.closePath();
  } else if (shape === "square") {
    ctx.rect(x - r, y - r, size, size);
  } else if (shape === "line-ew") {
    ctx.moveTo(x - r, y); ctx.lineTo(x + r, y);
    ctx.strokeStyle = fill;
    ctx.lineWidth = edgeWidth || 2;
    ctx.stroke();
    return;
  } else if (shape === "x" || shape === "cross") {
    ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r); ctx.moveTo(x + r, y - r); ctx.lineTo(x - r, y + r);
    ctx.strokeStyle = fill;
    ctx.lineWidth = edgeWidth || 2;
    ctx.stroke();
    return;
  } else if (shape.startsWith("triangle")) {
    const up = !shape.includes("down");
    const s = up ? 1 : -1;
    ctx.moveTo(x, y - s * r * 1.15); ctx.lineTo(x + r, y + s * r * 0.85); ctx.lineTo(x - r, y + s * r * 0.85); ctx.closePath();
  } else {
    ctx.arc(x, y, r, 0, 2 * Math.PI);
  }
  if (open) {
    ctx.strokeStyle = edgeColour || fill;
    ctx.lineWidth = edgeWidth || 1.5;
    ctx.stroke();
    return;
  }
  ctx.fillStyle = fill;
  ctx.fill();
  if (edgeColour && edgeWidth) {
    ctx.strokeStyle = edgeColour;
    ctx.lineWidth = edgeWidth;
    ctx.stroke();
  }
}

function drawBars(ctx, t, xa, ya, bars, layout, chart, theme) {
  const xs = t.x || [];
  const ys = t.y || [];
  const n = Math.min(xs.length, ys.length);
  const group = layout.barmode === "group" ? bars.filter((b) => (b.xaxis || "x") === (t.xaxis || "x")) : [t];
  const slot = Math.max(0, group.indexOf(t));
  const centres = xs.map((x) => (xa.type === "category" ? xa.categories.indexOf(String(x)) : Number(x)));
  const gap = smallestGap(centres);
  const full = t.width !== undefined && !Array.isArray(t.width) ? Number(t.width) : gap * 0.8;
  const each = layout.barmode === "group" ? full / group.length : full;
  const colours = Array.isArray((t.marker || {}).color) ? t.marker.color.map((c) => fixColour(c, theme)) : null;
  ctx.globalAlpha = t.opacity === undefined ? 1 : t.opacity;
  const rects = [];
  const toPx = (u) => xa.p0 + (u - xa.range[0]) / (xa.range[1] - xa.range[0]) * (xa.p1 - xa.p0);
  const base = ya.type === "log" ? ya.p0 : toPixel(ya, 0);
  for (let i = 0; i < n; i++) {
    if (ys[i] === null || !isFinite(centres[i])) continue;
    const left = centres[i] - full / 2 + slot * each;
    const x0 = toPx(left);
    const x1 = toPx(left + each);
    const y1 = toPixel(ya, ys[i]);
    if (!isFinite(y1)) continue;
    ctx.fillStyle = colours ? colours[i % colours.length] : t._colour;
    const top = Math.min(base, y1);
    const h = Math.max(1, Math.abs(base - y1));
    ctx.fillRect(Math.min(x0, x1), top, Math.max(1, Math.abs(x1 - x0) - 0.5), h);
    rects.push([Math.min(x0, x1), top, Math.abs(x1 - x0), h, i]);
    if (Array.isArray(t.text) && t.text[i] !== undefined && Math.abs(x1 - x0) > 14 && h > 16) {
      ctx.save();
      ctx.globalAlpha = 1;
      ctx.fillStyle = luminance(ctx.fillStyle) > 0.5 ? "#000" : "#fff";
      ctx.font = "11px sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      ctx.fillText(String(t.text[i]), (x0 + x1) / 2, top + 3);
      ctx.restore();
    }
  }
  ctx.globalAlpha = 1;
  const px = Float64Array.from(centres.map((c) => toPx(c - full / 2 + slot * each + each / 2)));
  const py = Float64Array.from(ys.map((y) => toPixel(ya, y)));
  drawErrorBars(ctx, t, px, py, ya, fixColour((t.error_y || {}).color, theme) || t._colour, n);
  if (t.hoverinfo !== "skip") chart.hits.push({ kind: "bars", t, rects });
}

function smallestGap(values) {
  const sorted = values.filter(isFinite).slice().sort((a, b) => a - b);
  let gap = Infinity;
  for (let i = 1; i < sorted.length; i++) {
    const d = sorted[i] - sorted[i - 1];
    if (d > 0 && d < gap) gap = d;
  }
  return isFinite(gap) ? gap : 1;
}

function colourScale(t) {
  const s = t.colorscale;
  if (Array.isArray(s) && s.length) return s.map(([p, c]) => [Number(p), parseColour(c)]);
  return (NAMED_SCALES[s] || NAMED_SCALES.Viridis).map(([p, c]) => [p, parseColour(c)]);
}

function heatRange(t) {
  const flat = [];
  for (const row of t.z || []) for (const v of row) if (v !== null && isFinite(v)) flat.push(v);
  let lo = t.zmin ?? (flat.length ? Math.min(...flat) : 0);
  let hi = t.zmax ?? (flat.length ? Math.max(...flat) : 1);
  if (t.zmid !== undefined && t.zmid !== null && t.zmin == null && t.zmax == null) {
    const half = Math.max(Math.abs(hi - t.zmid), Math.abs(t.zmid - lo)) || 1;
    lo = t.zmid - half;
    hi = t.zmid + half;
  }
  if (hi === lo) hi = lo + 1;
  return [lo, hi];
}

function sampleScale(scale, f) {
  const v = Math.min(1, Math.max(0, f));
  for (let i = 1; i < scale.length; i++) {
    if (v <= scale[i][0]) {
      const [p0, c0] = scale[i - 1];
      const [p1, c1] = scale[i];
      const k = p1 > p0 ? (v - p0) / (p1 - p0) : 0;
      return [0, 1, 2, 3].map((j) => c0[j] + k * (c1[j] - c0[j]));
    }
  }
  return scale[scale.length - 1][1];
}

function drawHeatmap(ctx, t, xa, ya, chart) {
  const z = t.z || [];
  const ny = z.length;
  const nx = ny ? z[0].length : 0;
  if (!nx || !ny) return;
  const scale = colourScale(t);
  const [lo, hi] = heatRange(t);
  const xs = t.x && t.x.length === nx ? t.x.map(Number) : [...Array(nx).keys()];
  const ys = t.y && t.y.length === ny ? t.y.map(Number) : [...Array(ny).keys()];
  // Row r sits at ys[r]: whether row 0 is drawn at the bottom or the top (a reversed axis)
  // follows the axes, and so does the order of the columns.
  const rowsUp = ny < 2 || toPixel(ya, ys[ny - 1]) < toPixel(ya, ys[0]);
  const colsRight = nx < 2 || toPixel(xa, xs[nx - 1]) > toPixel(xa, xs[0]);
  const off = document.createElement("canvas");
  off.width = nx;
  off.height = ny;
  const octx = off.getContext("2d");
  const img = octx.createImageData(nx, ny);
  for (let r = 0; r < ny; r++) {
    for (let c = 0; c < nx; c++) {
      const v = z[r][c];
      const k = ((rowsUp ? ny - 1 - r : r) * nx + (colsRight ? c : nx - 1 - c)) * 4;
      if (v === null || !isFinite(v)) { img.data[k + 3] = 0; continue; }
      const [R, G, B, A] = sampleScale(scale, (v - lo) / (hi - lo));
      img.data[k] = R; img.data[k + 1] = G; img.data[k + 2] = B; img.data[k + 3] = Math.round(255 * A);
    }
  }
  octx.putImageData(img, 0, 0);
  const dx = nx > 1 ? xs[1] - xs[0] : 1;
  const dy = ny > 1 ? ys[1] - ys[0] : 1;
  const x0 = toPixel(xa, xs[0] - dx / 2);
  const x1 = toPixel(xa, xs[nx - 1] + dx / 2);
  const y0 = toPixel(ya, ys[0] - dy / 2);
  const y1 = toPixel(ya, ys[ny - 1] + dy / 2);
  ctx.imageSmoothingEnabled = !!t.zsmooth;
  ctx.drawImage(off, Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
  ctx.imageSmoothingEnabled = true;
  if (t.hoverinfo !== "skip") chart.hits.push({ kind: "heat", t, xs, ys, dx, dy, xa, ya });
}

function drawColourBar(ctx, t, plot, width, theme, font, hasY2) {
  const scale = colourScale(t);
  const [lo, hi] = heatRange(t);
  const x = width - 62 - (hasY2 ? 0 : 0);
  const h = plot.h * 0.8;
  const y = plot.y + (plot.h - h) / 2;
  const grad = ctx.createLinearGradient(0, y + h, 0, y);
  for (const [p, c] of scale) grad.addColorStop(p, `rgba(${c[0]},${c[1]},${c[2]},${c[3]})`);
  ctx.fillStyle = grad;
  ctx.fillRect(x, y, 12, h);
  ctx.strokeStyle = withAlpha(theme.text, 0.4);
  ctx.strokeRect(x + 0.5, y + 0.5, 12, h);
  ctx.fillStyle = theme.text;
  ctx.font = `11px ${font}`;
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  const step = niceStep(hi - lo, 4);
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) {
    ctx.fillText(formatNumber(v, step), x + 16, y + h - (v - lo) / (hi - lo) * h);
  }
  const title = textOf((t.colorbar || {}).title) || t.name;
  if (title) {
    ctx.save();
    ctx.translate(x - 4, y + h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillText(fit(ctx, stripTags(title), h), 0, 0);
    ctx.restore();
  }
}

// ---------------------------------------------------------------- shapes, annotations, markers

function refPixel(ref, v, axes, plot, kind) {
  ref = ref || kind;
  if (ref === "paper") return kind === "x" ? plot.x + v * plot.w : plot.y + (1 - v) * plot.h;
  const domain = / domain$/.test(ref);
  const key = ref.replace(" domain", "");
  const ax = axes[kind][key];
  if (!ax) return NaN;
  if (domain) return ax.p0 + v * (ax.p1 - ax.p0);
  return toPixel(ax, v);
}

function drawShapes(ctx, shapes, axes, plot, theme, layer) {
  for (const s of shapes) {
    if ((s.layer === "below" ? "below" : "above") !== layer) continue;
    const x0 = refPixel(s.xref, s.x0, axes, plot, "x");
    const x1 = refPixel(s.xref, s.x1, axes, plot, "x");
    const y0 = refPixel(s.yref, s.y0, axes, plot, "y");
    const y1 = refPixel(s.yref, s.y1, axes, plot, "y");
    if (![x0, x1, y0, y1].every(isFinite)) continue;
    const l = s.line || {};
    ctx.globalAlpha = s.opacity === undefined ? 1 : s.opacity;
    ctx.setLineDash(DASHES[l.dash] || []);
    ctx.lineWidth = l.width === undefined ? 2 : l.width;
    ctx.strokeStyle = fixColour(l.color, theme) || theme.text;
    if (s.type === "rect") {
      if (s.fillcolor) {
        ctx.fillStyle = fixColour(s.fillcolor, theme);
        ctx.fillRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
      }
      if (l.width !== 0) ctx.strokeRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
    } else if (s.type === "circle") {
      ctx.beginPath();
      ctx.ellipse((x0 + x1) / 2, (y0 + y1) / 2, Math.abs(x1 - x0) / 2, Math.abs(y1 - y0) / 2, 0, 0, 2 * Math.PI);
      if (s.fillcolor) { ctx.fillStyle = fixColour(s.fillcolor, theme); ctx.fill(); }
      ctx.stroke();
    } else {
      line(ctx, x0, y0, x1, y1);
    }
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
  }
}

function drawAnnotations(ctx, notes, axes, plot, theme, font) {
  for (const a of notes) {
    if (a.text === undefined || a.text === null) continue;
    const x = refPixel(a.xref, a.x ?? 0.5, axes, plot, "x");
    const y = refPixel(a.yref, a.y ?? 0.5, axes, plot, "y");
    if (!isFinite(x) || !isFinite(y)) continue;
    const f = a.font || {};
    const bold = /<b>/.test(a.text);
    ctx.font = `${bold ? "600 " : ""}${f.size || 12}px ${font}`;
    ctx.fillStyle = fixColour(f.color, theme) || theme.text;
    const anchorX = a.xanchor || "center";
    ctx.textAlign = anchorX === "auto" ? "center" : anchorX;
    const anchorY = a.yanchor || "middle";
    ctx.textBaseline = anchorY === "auto" ? "middle" : (anchorY === "middle" ? "middle" : anchorY);
    const lines = String(a.text).split(/<br\s*\/?>/i).map(stripTags);
    const dy = (f.size || 12) + 3;
    const start = ctx.textBaseline === "bottom" ? y - (lines.length - 1) * dy : ctx.textBaseline === "middle" ? y - (lines.length - 1) * dy / 2 : y;
    lines.forEach((s, i) => ctx.fillText(s, x + (a.xshift || 0), start + i * dy - (a.yshift || 0)));
  }
}

function drawMarkers(ctx, markers, axes, theme) {
  const xa = axes.x.x;
  const ya = axes.y.y;
  if (!xa || !ya || !markers.length) return;
  ctx.setLineDash([3, 3]);
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = withAlpha(theme.text, 0.6);
  ctx.fillStyle = withAlpha(theme.text, 0.75);
  ctx.font = "11px sans-serif";
  ctx.textAlign = "left";
  ctx.textBaseline = "top";
  for (const [step, text] of markers) {
    const p = toPixel(xa, step);
    if (!isFinite(p) || p < xa.p0 || p > xa.p1) continue;
    line(ctx, p, ya.p1, p, ya.p0);
    ctx.fillText("⚙", p + 3, ya.p1 + 2);
  }
  ctx.setLineDash([]);
}

// ---------------------------------------------------------------- legend

function legendEntries(traces, layout) {
  if (layout.showlegend === false) return [];
  const shown = traces.filter((t) => t.name && t.showlegend !== false && t.type !== "heatmap");
  if (layout.showlegend !== true && shown.length < 2) return [];
  return shown.map((t) => ({ t, label: stripTags(String(t.name)) }));
}

function legendLayout(ctx, entries, width) {
  const rows = [];
  let row = [];
  let x = 0;
  for (const e of entries) {
    const label = fit(ctx, e.label, width - 30);
    const w = 30 + ctx.measureText(label).width + 14;
    if (row.length && x + w > width) { rows.push(row); row = []; x = 0; }
    row.push({ ...e, label, x, w });
    x += w;
  }
  if (row.length) rows.push(row);
  return rows;
}

function drawLegend(ctx, rows, y0, theme, font) {
  ctx.font = `12px ${font}`;
  ctx.textBaseline = "middle";
  ctx.textAlign = "left";
  rows.forEach((row, r) => {
    const y = y0 + r * 18 + 9;
    for (const e of row) {
      const x = 8 + e.x;
      const t = e.t;
      const mode = t.mode || "lines";
      if (t.type === "bar") {
        ctx.fillStyle = Array.isArray((t.marker || {}).color) ? fixColour(t.marker.color[0], theme) : t._colour;
        ctx.globalAlpha = t.opacity === undefined ? 1 : t.opacity;
        ctx.fillRect(x + 6, y - 6, 14, 12);
        ctx.globalAlpha = 1;
      } else {
        if (mode.includes("lines")) {
          const l = t.line || {};
          ctx.strokeStyle = t._colour;
          ctx.lineWidth = Math.min(3, l.width === undefined ? 2 : l.width);
          ctx.setLineDash(DASHES[l.dash] || []);
          line(ctx, x, y, x + 26, y);
          ctx.setLineDash([]);
        }
        if (mode.includes("markers")) {
          const m = t.marker || {};
          const c = Array.isArray(m.color) ? fixColour(m.color[0], theme) : t._colour;
          const sym = Array.isArray(m.symbol) ? m.symbol[0] : (m.symbol || "circle");
          const sz = Array.isArray(m.size) ? 6 : (m.size || 6);
          marker(ctx, sym, x + 13, y, Math.min(10, Math.max(6, sz)), c, m.line && m.line.width ? c : null, m.line ? m.line.width : 0);
        }
        if (mode === "text") {
          const sample = Array.isArray(t.text) ? t.text.find((v) => v !== null && v !== undefined) : t.text;
          ctx.fillStyle = t._colour;
          ctx.fillText(fit(ctx, stripTags(sample === undefined || sample === null ? "Aa" : String(sample)), 24), x + 4, y);
        }
      }
      ctx.fillStyle = theme.text;
      ctx.fillText(e.label, x + 30, y);
    }
  });
}

// ---------------------------------------------------------------- clicks

let clicks = 0;

function click(chart, state, event) {
  // A click on a clickable chart's plot area goes to Python as data coordinates.
  if (!chart.spec || !chart.spec.clickable || !chart.axes || !state.component) return;
  const xa = chart.axes.x.x;
  const ya = chart.axes.y.y;
  const rect = chart.canvas.getBoundingClientRect();
  const px = event.clientX - rect.left;
  const py = event.clientY - rect.top;
  if (px < Math.min(xa.p0, xa.p1) || px > Math.max(xa.p0, xa.p1) || py < Math.min(ya.p0, ya.p1) || py > Math.max(ya.p0, ya.p1)) return;
  clicks += 1;
  const value = { chart: chart.id, x: fromPixel(xa, px), y: fromPixel(ya, py), n: clicks, shift: event.shiftKey };
  state.root.dataset.clicks = String(clicks);
  try {
    state.component.setTriggerValue("click", value);
  } catch (err) {
    console.warn("livechart: click not sent", err);
  }
}

// ---------------------------------------------------------------- hover

function hover(chart, event) {
  const rect = chart.canvas.getBoundingClientRect();
  const mx = event.clientX - rect.left;
  const my = event.clientY - rect.top;
  let best = null;
  let bestD = 18 * 18;
  for (const h of chart.hits) {
    if (h.kind === "points") {
      const lineOnly = !(h.t.mode || "").includes("markers") && (h.t.mode || "").includes("lines");
      for (let i = 0; i < h.n; i++) {
        const dx = h.px[i] - mx;
        const dy = h.py[i] - my;
        const d = lineOnly ? dx * dx + dy * dy * 0.25 : dx * dx + dy * dy;
        if (d < bestD) { bestD = d; best = { h, i }; }
      }
    } else if (h.kind === "bars") {
      for (const [x, y, w, hh, i] of h.rects) {
        if (mx >= x && mx <= x + w && my >= y - 4 && my <= y + hh + 4) { best = { h, i }; bestD = 0; }
      }
    }
  }
  if (!best) {
    for (const h of chart.hits) {
      if (h.kind !== "heat") continue;
      const xv = fromPixel(h.xa, mx);
      const yv = fromPixel(h.ya, my);
      const c = Math.round((xv - h.xs[0]) / h.dx);
      const r = Math.round((yv - h.ys[0]) / h.dy);
      if (r >= 0 && r < h.t.z.length && c >= 0 && c < h.t.z[0].length) best = { h, i: [r, c] };
    }
  }
  const tip = chart.tip;
  if (!best) { tip.style.display = "none"; return; }
  const t = best.h.t;
  let text;
  if (best.h.kind === "heat") {
    const [r, c] = best.i;
    const cd = t.customdata && t.customdata[r] ? t.customdata[r][c] : undefined;
    text = hoverText(t, { x: best.h.xs[c], y: best.h.ys[r], z: t.z[r][c], customdata: cd });
  } else {
    const i = best.i;
    const cd = t.customdata ? t.customdata[i] : undefined;
    text = hoverText(t, { x: t.x[i], y: t.y[i], customdata: cd, text: Array.isArray(t.text) ? t.text[i] : t.text });
  }
  tip.innerHTML = text;
  const dark = luminance(getComputedStyle(chart.box).color || "#000") > 0.5;
  tip.style.background = dark ? "#262730" : "#ffffff";
  tip.style.color = dark ? "#fafafa" : "#31333F";
  tip.style.border = `1px solid ${t._colour}`;
  tip.style.display = "block";
  const tw = tip.offsetWidth;
  tip.style.left = `${Math.min(Math.max(0, mx + 12), rect.width - tw - 4)}px`;
  tip.style.top = `${Math.max(0, my - 36)}px`;
}

function hoverText(t, point) {
  const tpl = t.hovertemplate;
  if (tpl) {
    const body = tpl.replace(/<extra>.*?<\/extra>/g, "").replace(/%\{([^}:]+)(?::([^}]*))?\}/g, (_, name, format) => {
      let v = lookup(point, name.trim());
      return formatHover(v, format);
    });
    return sanitize(body);
  }
  const name = t.name ? `<b>${escapeHtml(stripTags(String(t.name)))}</b><br>` : "";
  if (point.z !== undefined) return `${name}x ${formatHover(point.x)} · y ${formatHover(point.y)} · value ${formatHover(point.z, ".3g")}`;
  return `${name}x ${formatHover(point.x)} · y ${formatHover(point.y)}`;
}

function lookup(point, name) {
  const m = /^(\w+)\[(\d+)\]$/.exec(name);
  if (m) {
    const base = point[m[1]];
    return Array.isArray(base) ? base[Number(m[2])] : undefined;
  }
  return point[name];
}

function formatHover(v, format) {
  if (v === undefined || v === null) return "";
  if (typeof v !== "number") return escapeHtml(String(v));
  if (format) {
    const m = /^(,)?\.(\d+)([fgep%])$/.exec(format);
    if (m) {
      const d = Number(m[2]);
      let s;
      if (m[3] === "f") s = v.toFixed(d);
      else if (m[3] === "%") s = (v * 100).toFixed(d) + "%";
      else if (m[3] === "e") s = v.toExponential(d);
      else s = trimZeros(Number(v.toPrecision(Math.max(1, d))).toString());
      if (m[1]) {
        const [a, b] = s.split(".");
        s = Number(a).toLocaleString("en-US") + (b ? "." + b : "");
      }
      return s;
    }
    if (format === ",") return Math.round(v).toLocaleString("en-US");
  }
  if (Number.isInteger(v)) return v.toLocaleString("en-US");
  return trimZeros(Number(v.toPrecision(4)).toString());
}

// ---------------------------------------------------------------- small helpers

function line(ctx, x0, y0, x1, y1) {
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1, y1);
  ctx.stroke();
}

function textOf(title) {
  if (!title) return "";
  if (typeof title === "string") return title;
  return title.text || "";
}

function stripTags(s) {
  return String(s).replace(/<br\s*\/?>/gi, " ").replace(/<[^>]+>/g, "");
}

function escapeHtml(s) {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function sanitize(html) {
  // Keep only <br>, <b>, </b> from a hover template; escape everything else.
  return escapeHtml(html).replace(/&lt;br\s*\/?&gt;/gi, "<br>").replace(/&lt;(\/?)b&gt;/gi, "<$1b>");
}

function wrap(ctx, text, width) {
  const words = text.split(/\s+/);
  const lines = [];
  let current = "";
  for (const w of words) {
    const next = current ? current + " " + w : w;
    if (ctx.measureText(next).width > width && current) {
      lines.push(current);
      current = w;
    } else {
      current = next;
    }
  }
  if (current) lines.push(current);
  return lines.slice(0, 3);
}

function fit(ctx, text, width) {
  if (ctx.measureText(text).width <= width) return text;
  let s = text;
  while (s.length > 1 && ctx.measureText(s + "…").width > width) s = s.slice(0, -1);
  return s + "…";
}

const COLOUR_CACHE = new Map();

function parseColour(c) {
  if (Array.isArray(c)) return c;
  if (COLOUR_CACHE.has(c)) return COLOUR_CACHE.get(c);
  const probe = document.createElement("canvas").getContext("2d");
  probe.fillStyle = "#000";
  probe.fillStyle = c;
  const v = probe.fillStyle; // normalised: "#rrggbb" or "rgba(r, g, b, a)"
  let rgb;
  if (v.startsWith("#")) rgb = [...[1, 3, 5].map((i) => parseInt(v.slice(i, i + 2), 16)), 1];
  else {
    const parts = (v.match(/[\d.]+/g) || [0, 0, 0]).map(Number);
    rgb = [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  }
  COLOUR_CACHE.set(c, rgb);
  return rgb;
}

function withAlpha(c, a) {
  const [r, g, b] = parseColour(c);
  return `rgba(${r},${g},${b},${a})`;
}

function luminance(c) {
  const [r, g, b] = parseColour(c);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}
