// ML Explorables: the convolution-arithmetic animation, played in the browser.
//
// ui/convanim.py sends, once per settings change, the whole animation made
// by core.conv.animation(): the grid the kernel sweeps (input, padding,
// inserted zeros), the grid it writes (output, cropped border), and for each
// frame the cells read and the cells written (compacted: one anchor cell per
// frame plus a shared offset pattern). This module plays it on two canvases:
// play / pause / step / speed / a frame slider, all here, no server rerun.
//
// Served once as a static file; the inline loader imports it. State per
// element lives in a WeakMap keyed on the element the component is mounted in.
// Drawing a frame = copying two pre-drawn base layers + the frame's
// highlights, so it stays cheap however long the animation is.

const STATES = new WeakMap();
const SPEEDS = [0.5, 1, 2, 4, 8, 15, 30]; // frames per second
const DEFAULT_SPEED = 2;
const MAX_CELL = 44;
const MAX_GRID_HEIGHT = 330; // px: keeps control and animation on one screen at 1280 x 800
const INPUT = 0, INSERTED = 1, PAD = 2, BEYOND = 3; // source roles (core.conv)
const CROPPED = 2, OUT_PAD = 1; // target roles

const ICONS = {
  first: '<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"><path d="M3 2h2v12H3zM14 2v12L6 8z" fill="currentColor"/></svg>',
  back: '<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"><path d="M12 2v12L4 8z" fill="currentColor"/></svg>',
  next: '<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"><path d="M4 2v12l8-6z" fill="currentColor"/></svg>',
  play: '<svg viewBox="0 0 16 16" width="13" height="13" aria-hidden="true"><path d="M4 2v12l10-6z" fill="currentColor"/></svg>',
  pause: '<svg viewBox="0 0 16 16" width="13" height="13" aria-hidden="true"><path d="M3 2h4v12H3zM9 2h4v12H9z" fill="currentColor"/></svg>',
};

// ---------------------------------------------------------------- entry points

export function draw(component, data) {
  // ``data``: the element's data, parsed by the loader (ui/static_module.py) from the JSON text it received
  const { parentElement } = component;
  let state = STATES.get(parentElement);
  try {
    if (!state) {
      state = createState(parentElement);
      STATES.set(parentElement, state);
    }
    update(state, data, parentElement);
  } catch (err) {
    showFailure(parentElement, state, err);
  }
}

export function cleanup(parentElement) {
  const state = STATES.get(parentElement);
  if (!state) return;
  state.playing = false;
  if (state.raf) cancelAnimationFrame(state.raf);
  state.observer.disconnect();
  STATES.delete(parentElement);
}

function showFailure(parentElement, state, err) {
  const host = state ? state.root : parentElement;
  let box = host.querySelector(".ca-error");
  if (!box) {
    box = document.createElement("div");
    box.className = "ca-error ca-problem";
    host.appendChild(box);
  }
  box.textContent = "The animation could not be drawn: " + err;
  console.error("convanim", err);
}

// ---------------------------------------------------------------- the element

function el(tag, cls, parent) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (parent) parent.appendChild(e);
  return e;
}

function button(parent, act, label, html) {
  const b = el("button", act === "play" ? "ca-play" : "", parent);
  b.type = "button";
  b.dataset.act = act;
  b.setAttribute("aria-label", label);
  b.title = label;
  b.innerHTML = html;
  return b;
}

function createState(parentElement) {
  const root = el("div", "ca-root", parentElement);
  root.dataset.frame = "0";
  root.dataset.draws = "0";
  const title = el("div", "ca-title", root);
  const problem = el("div", "ca-problem", root);
  problem.hidden = true;
  const body = el("div", "ca-body", root);
  const controls = el("div", "ca-controls", body); // above the grids: on screen with them at 1280 x 800
  const grids = el("div", "ca-grids", body);
  const panel = (cls) => {
    const fig = el("figure", `ca-panel ${cls}`, grids);
    const label = el("figcaption", "ca-label", fig);
    const canvas = el("canvas", "", fig);
    canvas.setAttribute("role", "img");
    return { fig, label, canvas };
  };
  const source = panel("ca-source");
  const kernel = panel("ca-kernel"); // numbers mode: the weights, as the frames use them
  const arrow = el("div", "ca-arrow", grids);
  arrow.textContent = "→";
  arrow.setAttribute("aria-hidden", "true");
  grids.insertBefore(arrow, kernel.fig.nextSibling);
  const target = panel("ca-target");
  const caption = el("div", "ca-caption", body);
  caption.setAttribute("aria-live", "polite");
  const buttons = {
    first: button(controls, "first", "First frame", ICONS.first),
    back: button(controls, "back", "Step back", ICONS.back),
    play: button(controls, "play", "Pause", `${ICONS.pause} Pause`),
    next: button(controls, "next", "Step forward", ICONS.next),
  };
  const slider = el("input", "ca-slider", controls);
  slider.type = "range";
  slider.min = "0";
  slider.step = "1";
  slider.setAttribute("aria-label", "Frame");
  const counter = el("span", "ca-counter", controls);
  const speed = el("select", "ca-speed", controls);
  speed.title = "Speed";
  speed.setAttribute("aria-label", "Speed (frames per second)");
  for (const s of SPEEDS) {
    const o = el("option", "", speed);
    o.value = String(s);
    o.textContent = `${s} frames/s`;
  }
  speed.value = String(DEFAULT_SPEED);
  const legend = el("div", "ca-legend", body);

  const reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const state = {
    root, title, problem, body, grids, arrow, source, kernel, target, caption, controls, buttons, slider, counter,
    speed, legend, sig: null, anim: null, numbers: false, frame: 0, playing: false, wantPlay: !reduced,
    fps: DEFAULT_SPEED, raf: 0, last: 0, draws: 0, theme: null, themeKey: "", width: 0, geom: null,
  };
  buttons.first.addEventListener("click", () => act(state, () => { state.frame = 0; }));
  buttons.back.addEventListener("click", () => act(state, () => { state.frame = Math.max(0, state.frame - 1); }));
  buttons.next.addEventListener("click", () => act(state, () => { state.frame = Math.min(state.n - 1, state.frame + 1); }));
  buttons.play.addEventListener("click", () => safely(state, () => setPlaying(state, !state.playing)));
  setPlaying(state, state.wantPlay);
  slider.addEventListener("input", () => act(state, () => { state.frame = Number(slider.value) || 0; }));
  speed.addEventListener("change", () => safely(state, () => { state.fps = Number(speed.value) || DEFAULT_SPEED; }));
  state.observer = new ResizeObserver(() => safely(state, () => {
    const w = root.clientWidth;
    if (w && Math.abs(w - state.width) > 1 && state.anim) {
      relayout(state);
      drawFrame(state);
    }
  }));
  state.observer.observe(root);
  return state;
}

function safely(state, fn) {
  try {
    fn();
  } catch (err) {
    showFailure(state.root.parentNode, state, err);
  }
}

// A step control pauses the animation and shows the chosen frame.
function act(state, move) {
  safely(state, () => {
    if (!state.anim) return;
    setPlaying(state, false);
    move();
    drawFrame(state);
  });
}

// ``want`` is the viewer's wish (kept across settings changes); it plays when there is more than one frame.
function setPlaying(state, want) {
  state.wantPlay = want;
  state.playing = want && !!state.anim && state.n > 1;
  const b = state.buttons.play;
  b.innerHTML = state.playing ? `${ICONS.pause} Pause` : `${ICONS.play} Play`;
  b.setAttribute("aria-label", state.playing ? "Pause" : "Play");
  b.title = state.playing ? "Pause" : "Play";
  state.root.dataset.playing = state.playing ? "1" : "0";
  if (state.playing) {
    state.last = 0;
    if (!state.raf) state.raf = requestAnimationFrame((now) => tick(state, now));
  }
}

function tick(state, now) {
  state.raf = 0;
  if (!state.playing || !state.anim || !state.root.isConnected) return;
  try {
    const interval = 1000 / state.fps;
    const due = state.frame === state.n - 1 ? Math.max(interval, Math.min(1000, 10 * interval)) : interval; // hold the end
    if (!state.last) state.last = now;
    if (now - state.last >= due) {
      state.frame = state.frame >= state.n - 1 ? 0 : state.frame + 1;
      state.last = now - Math.min(now - state.last - due, interval); // keep the cadence, no bursts
      drawFrame(state);
    }
  } catch (err) {
    state.playing = false;
    showFailure(state.root.parentNode, state, err);
    return;
  }
  state.raf = requestAnimationFrame((t) => tick(state, t));
}

// ---------------------------------------------------------------- data in

function update(state, data, parentElement) {
  const theme = readTheme(parentElement);
  const themeKey = JSON.stringify(theme);
  const fresh = data.sig !== state.sig;
  if (fresh) {
    state.sig = data.sig;
    state.root.dataset.sig = String(data.sig);
    state.numbers = !!data.numbers;
    state.anim = data.anim ? decode(data.anim) : null;
    state.n = state.anim ? state.anim.n : 0;
    state.frame = 0;
    state.last = 0;
  }
  if (data.problem || !state.anim) {
    state.problem.hidden = false;
    // the page explains the problem beside this box; the box only keeps the element's place
    state.problem.textContent = data.problem ? "Nothing to animate: these settings are impossible (see why above)."
      : "Nothing to animate.";
    state.body.hidden = true;
    state.title.textContent = "";
    state.root.dataset.frames = "0";
    setPlaying(state, state.wantPlay); // nothing plays; the wish stays for the next possible settings
    return;
  }
  state.problem.hidden = true;
  state.body.hidden = false;
  if (fresh || themeKey !== state.themeKey) {
    state.theme = theme;
    state.themeKey = themeKey;
    writeTexts(state);
    relayout(state);
  }
  state.root.dataset.frames = String(state.n);
  state.slider.max = String(Math.max(0, state.n - 1));
  drawFrame(state);
  if (fresh) setPlaying(state, state.wantPlay);
}

function cellsOf(spec, n) {
  // -> function(t) giving the flat [r, c, r, c, ...] cells of frame t
  if (spec.lists) return (t) => spec.lists[t];
  const { anchor, offsets } = spec;
  const k = offsets.length;
  const buf = new Array(k);
  return (t) => {
    const r0 = anchor[2 * t], c0 = anchor[2 * t + 1];
    for (let j = 0; j < k; j += 2) {
      buf[j] = r0 + offsets[j];
      buf[j + 1] = c0 + offsets[j + 1];
    }
    return buf;
  };
}

function decode(a) {
  const n = a.n_frames;
  const anim = { ...a, n, reads: cellsOf(a.read, n), writes: cellsOf(a.write, n) };
  const [tr, tc] = a.target_shape;
  // the frame that first writes each target cell: "written before" is then one comparison
  const first = new Int32Array(tr * tc).fill(n);
  for (let t = 0; t < n; t++) {
    const w = anim.writes(t);
    for (let j = 0; j < w.length; j += 2) {
      const i = w[j] * tc + w[j + 1];
      if (first[i] > t) first[i] = t;
    }
  }
  anim.firstWrite = first;
  return anim;
}

// ---------------------------------------------------------------- theme

function readTheme(parentElement) {
  const host = parentElement instanceof ShadowRoot ? parentElement.host : parentElement;
  const css = getComputedStyle(host);
  const get = (name, fallback) => (css.getPropertyValue(name) || "").trim() || fallback;
  const text = get("--st-text-color", "#31333F");
  const background = get("--st-background-color", "#ffffff");
  const dark = luminance(background) < 0.4;
  const font = get("--st-font", css.fontFamily || "sans-serif");
  const palette = dark ? {
    input: "#1f4466", inserted: "#23262e", pad: "#545862", beyond: "rgba(0,0,0,0)", read: "#E69F00",
    footprint: "#ff8a3d", now: "#00b386", done: "#1d5f4b", cropped: "#545862", outPad: "#30343d",
    onRead: "#141414", onNow: "#ffffff", onDone: "#e8f5ef", hatch: "rgba(255,255,255,0.22)", kernel: "#4a3b5c",
  } : {
    input: "#cfe3f5", inserted: "#ffffff", pad: "#c4c4c4", beyond: "rgba(0,0,0,0)", read: "#E69F00",
    footprint: "#D55E00", now: "#009E73", done: "#b2e2d0", cropped: "#c4c4c4", outPad: "#ececec",
    onRead: "#141414", onNow: "#ffffff", onDone: "#10372a", hatch: "rgba(0,0,0,0.18)", kernel: "#ead7f0",
  };
  return { text, background, dark, font, primary: get("--st-primary-color", "#0B6BCB"), ...palette };
}

const COLOURS = new Map(); // colour string -> [r, g, b]: parsing needs a canvas, so parse each once
let probe = null;

function parseColour(c) {
  let rgb = COLOURS.get(c);
  if (rgb) return rgb;
  if (!probe) probe = document.createElement("canvas").getContext("2d");
  probe.fillStyle = "#000";
  probe.fillStyle = c;
  const v = probe.fillStyle;
  if (v.startsWith("#")) rgb = [1, 3, 5].map((i) => parseInt(v.slice(i, i + 2), 16));
  else rgb = (v.match(/[\d.]+/g) || [0, 0, 0]).map(Number).slice(0, 3);
  COLOURS.set(c, rgb);
  return rgb;
}

function luminance(c) {
  const [r, g, b] = parseColour(c);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

function withAlpha(c, a) {
  const [r, g, b] = parseColour(c);
  return `rgba(${r},${g},${b},${a})`;
}

// ---------------------------------------------------------------- texts, legend, layout

function sizeText(shape) {
  return `${shape[0]}×${shape[1]}`;
}

function writeTexts(state) {
  const a = state.anim;
  state.title.textContent = a.title;
  const label = (box, name, text, extra) => {
    box.textContent = "";
    const b = el("b", "", box);
    b.textContent = name.toUpperCase();
    box.append(" " + text.replace(/^(Input|Output)\s*/, "").replace(/(\d+)x(\d+)/g, "$1×$2"));
    if (extra) {
      const s = el("div", "", box);
      s.style.opacity = "0.8";
      s.textContent = extra;
    }
  };
  const swept = a.source_shape[0] !== a.input_shape[0] || a.source_shape[1] !== a.input_shape[1];
  const sweptText = swept && !/:\s*\d+x\d+$/.test(a.source_label) ? `grid swept: ${sizeText(a.source_shape)}` : "";
  label(state.source.label, "Input", a.source_label, sweptText);
  label(state.target.label, "Output", a.target_label, "");
  const k = a.kernel_shape[0];
  state.kernel.label.textContent = "";
  el("b", "", state.kernel.label).textContent = "KERNEL";
  state.kernel.label.append(` ${k}×${k}` + (flipped(a) ? ", flipped" : ""));
  state.source.canvas.setAttribute("aria-label", `input grid ${sizeText(a.source_shape)}`);
  state.target.canvas.setAttribute("aria-label", `output grid ${sizeText(a.target_shape)}`);
  writeLegend(state);
}

function writeLegend(state) {
  const a = state.anim, th = state.theme;
  const roles = new Set(a.source_roles.flat());
  const troles = new Set(a.target_roles.flat());
  const items = [["input cell", th.input, ""]];
  if (roles.has(PAD)) items.push([a.op === "max_pool" ? "padding (never the max)" : "padding (zeros)", th.pad, "hatch"]);
  if (roles.has(INSERTED)) items.push(["inserted zero", th.inserted, "dash"]);
  if (roles.has(BEYOND)) items.push(["past the padded input (ceil mode, not read)", th.beyond, "dash"]);
  items.push([a.view === "scatter" ? "input cell read now" : "cells read now", th.read, ""]);
  if (a.view !== "scatter") items.push(["kernel footprint", "transparent", "footprint"]);
  items.push([a.view === "scatter" ? "kernel copy written now" : "output cell written now", th.now, ""]);
  items.push(["written before", th.done, ""]);
  if (troles.has(CROPPED)) items.push(["cropped by padding", th.cropped, "hatch"]);
  if (troles.has(OUT_PAD)) items.push(["added by output_padding", th.outPad, ""]);
  if (a.view === "scatter" && troles.has(CROPPED)) items.push(["the output", "transparent", "box"]);
  state.legend.textContent = "";
  for (const [name, colour, style] of items) {
    const s = el("span", "", state.legend);
    const i = el("i", "", s);
    i.style.background = colour;
    i.style.border = `1px solid ${withAlpha(th.text, 0.45)}`;
    if (style === "dash") i.style.border = `1px dashed ${withAlpha(th.text, 0.6)}`;
    if (style === "footprint") i.style.border = `3px solid ${th.footprint}`;
    if (style === "box") i.style.border = `2px solid ${th.text}`;
    if (style === "hatch") i.style.backgroundImage = `repeating-linear-gradient(45deg, ${th.hatch} 0 2px, transparent 2px 5px)`;
    s.append(name);
  }
}

function flipped(a) {
  return a.op === "transposed" && a.view !== "scatter"; // the zero-insertion view sweeps the flipped kernel
}

function showsKernel(state) {
  return !!(state.numbers && state.anim.kernel_values);
}

function relayout(state) {
  const a = state.anim;
  const W = state.root.clientWidth || 600;
  state.width = W;
  const [sr, sc] = a.source_shape;
  const [tr, tc] = a.target_shape;
  const kc = showsKernel(state) ? a.kernel_shape[0] : 0;
  const tall = Math.max(sr, tr);
  // side by side: the largest cell for which the panels (each at least as wide as its label) fit
  const GAP = 14, ARROW = 24, SOURCE_LABEL = 150, TARGET_LABEL = 120;
  const across = (c) => Math.max(sc * c + 2, SOURCE_LABEL) + (kc ? kc * c + 2 + GAP : 0) + GAP + ARROW + GAP +
    Math.max(tc * c + 2, TARGET_LABEL);
  let cell = Math.min(MAX_CELL, Math.floor(MAX_GRID_HEIGHT / tall));
  while (cell > 4 && across(cell) > W - 4) cell -= 1;
  let stacked = false;
  if (cell < 16) { // narrow screen: one grid above the other gives bigger cells
    const alone = Math.min(MAX_CELL, Math.floor((W - 4) / Math.max(sc, tc)));
    if (alone > cell) { stacked = true; cell = alone; }
  }
  state.kernel.fig.hidden = !kc;
  cell = Math.max(4, cell);
  state.grids.style.flexDirection = stacked ? "column" : "row";
  state.arrow.textContent = stacked ? "↓" : "→";
  state.arrow.style.alignSelf = stacked ? "flex-start" : "center";
  const dpr = window.devicePixelRatio || 1;
  const geom = { cell, dpr, stacked };
  for (const [side, rows, cols] of [["source", sr, sc], ["kernel", kc, kc], ["target", tr, tc]]) {
    const p = state[side];
    const w = cols * cell + 2, h = rows * cell + 2;
    p.canvas.style.width = `${w}px`;
    p.canvas.style.height = `${h}px`;
    p.canvas.dataset.rows = String(rows);
    p.canvas.dataset.cols = String(cols);
    p.canvas.width = Math.round(w * dpr);
    p.canvas.height = Math.round(h * dpr);
    const least = side === "source" ? SOURCE_LABEL : side === "target" ? TARGET_LABEL : 0;
    p.label.style.width = `${stacked ? Math.min(W, Math.max(w, least)) : Math.max(w, least)}px`;
    p.label.style.maxWidth = `${W}px`;
  }
  state.geom = geom;
  state.sourceBase = drawSourceBase(state);
  state.targetBase = drawTargetBase(state);
  if (kc) drawKernel(state);
}

function drawKernel(state) {
  // the weights as the frames pair them with the cells read (flipped in the zero-insertion view)
  const a = state.anim, th = state.theme, c = state.geom.cell, k = a.kernel_shape[0];
  const canvas = state.kernel.canvas;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(state.geom.dpr, 0, 0, state.geom.dpr, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  const flip = flipped(a);
  for (let r = 0; r < k; r++) {
    for (let q = 0; q < k; q++) {
      const v = flip ? a.kernel_values[k - 1 - r][k - 1 - q] : a.kernel_values[r][q];
      ctx.fillStyle = th.kernel;
      ctx.fillRect(1 + q * c, 1 + r * c, c, c);
      cellText(ctx, state, fmt(v), 1 + q * c, 1 + r * c, th.text, true);
    }
  }
  gridLines(ctx, k, k, c, withAlpha(th.text, 0.45));
}

// ---------------------------------------------------------------- numbers

function fmt(v) {
  if (v === null || v === undefined) return "−∞";
  if (Number.isInteger(v)) return v < 0 ? `−${-v}` : String(v);
  const s = Number(v.toPrecision(3)).toString();
  return s.startsWith("-") ? "−" + s.slice(1) : s;
}

function factor(v) {
  return v < 0 ? `(${fmt(v)})` : fmt(v);
}

// ---------------------------------------------------------------- drawing

function fontFor(state, px) {
  return `${px}px ${state.theme.font}`;
}

function cellText(ctx, state, text, x, y, colour, bold) {
  const c = state.geom.cell;
  if (c < 13 || text === "") return;
  let px = Math.max(9, Math.min(16, Math.floor(c * 0.42)));
  ctx.font = `${bold ? "600 " : ""}${fontFor(state, px)}`;
  while (px > 8 && ctx.measureText(text).width > c - 3) {
    px -= 1;
    ctx.font = `${bold ? "600 " : ""}${fontFor(state, px)}`;
  }
  ctx.fillStyle = colour;
  ctx.fillText(text, x + c / 2 + 1, y + c / 2 + 1.5);
}

function hatch(ctx, x, y, c, colour) {
  ctx.save();
  ctx.beginPath();
  ctx.rect(x, y, c, c);
  ctx.clip();
  ctx.strokeStyle = colour;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let d = -c; d < c; d += 5) {
    ctx.moveTo(x + d, y + c);
    ctx.lineTo(x + d + c, y);
  }
  ctx.stroke();
  ctx.restore();
}

function baseCanvas(state, canvas) {
  const off = document.createElement("canvas");
  off.width = canvas.width;
  off.height = canvas.height;
  const ctx = off.getContext("2d");
  ctx.setTransform(state.geom.dpr, 0, 0, state.geom.dpr, 0, 0);
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  return [off, ctx];
}

function gridLines(ctx, rows, cols, c, colour) {
  ctx.strokeStyle = colour;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let r = 0; r <= rows; r++) { ctx.moveTo(1, 1 + r * c + 0.5); ctx.lineTo(1 + cols * c, 1 + r * c + 0.5); }
  for (let k = 0; k <= cols; k++) { ctx.moveTo(1 + k * c + 0.5, 1); ctx.lineTo(1 + k * c + 0.5, 1 + rows * c); }
  ctx.stroke();
}

function sourceText(state, r, c) {
  const a = state.anim;
  const role = a.source_roles[r][c];
  if (role === BEYOND) return "";
  if (role === PAD && a.op === "max_pool") return "";
  if (a.source_values) return fmt(a.source_values[r][c]);
  return role === INPUT ? "" : "0";
}

function drawSourceBase(state) {
  const a = state.anim, th = state.theme, c = state.geom.cell;
  const [off, ctx] = baseCanvas(state, state.source.canvas);
  const [rows, cols] = a.source_shape;
  const fills = [th.input, th.inserted, th.pad, th.beyond];
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) {
      const role = a.source_roles[r][k];
      const x = 1 + k * c, y = 1 + r * c;
      ctx.fillStyle = fills[role];
      ctx.fillRect(x, y, c, c);
      if (role === PAD) hatch(ctx, x, y, c, th.hatch);
    }
  }
  gridLines(ctx, rows, cols, c, withAlpha(th.text, 0.28));
  // inserted zeros and cells past the padded input: dashed inner outline
  ctx.setLineDash([3, 3]);
  ctx.strokeStyle = withAlpha(th.text, 0.55);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) {
      const role = a.source_roles[r][k];
      if ((role === INSERTED || role === BEYOND) && c >= 8) ctx.strokeRect(1 + k * c + 2.5, 1 + r * c + 2.5, c - 4, c - 4);
    }
  }
  ctx.setLineDash([]);
  // the input itself, outlined: where the padding ends
  outlineInput(ctx, state, th.text);
  const textColour = withAlpha(th.text, 0.9);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) {
      const role = a.source_roles[r][k];
      cellText(ctx, state, sourceText(state, r, k), 1 + k * c, 1 + r * c,
        role === INPUT ? textColour : withAlpha(th.text, 0.55), false);
    }
  }
  return off;
}

function outlineInput(ctx, state, colour) {
  const a = state.anim, c = state.geom.cell;
  let r0 = Infinity, r1 = -1, c0 = Infinity, c1 = -1;
  a.source_roles.forEach((row, r) => row.forEach((role, k) => {
    if (role === INPUT) { r0 = Math.min(r0, r); r1 = Math.max(r1, r); c0 = Math.min(c0, k); c1 = Math.max(c1, k); }
  }));
  if (r1 < 0) return;
  ctx.strokeStyle = withAlpha(colour, 0.75);
  ctx.lineWidth = 1.5;
  ctx.strokeRect(1 + c0 * c, 1 + r0 * c, (c1 - c0 + 1) * c, (r1 - r0 + 1) * c);
}

function drawTargetBase(state) {
  const a = state.anim, th = state.theme, c = state.geom.cell;
  const [off, ctx] = baseCanvas(state, state.target.canvas);
  const [rows, cols] = a.target_shape;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) {
      const role = a.target_roles[r][k];
      const x = 1 + k * c, y = 1 + r * c;
      ctx.fillStyle = role === CROPPED ? th.cropped : role === OUT_PAD ? th.outPad : th.background;
      ctx.fillRect(x, y, c, c);
      if (role === CROPPED) hatch(ctx, x, y, c, th.hatch);
    }
  }
  gridLines(ctx, rows, cols, c, withAlpha(th.text, 0.35));
  return off;
}

function frameStats(state, t) {
  const a = state.anim;
  const read = a.reads(t);
  const out = { cells: [], input: 0, pad: 0, inserted: 0, beyond: 0 };
  for (let j = 0; j < read.length; j += 2) {
    const r = read[j], c = read[j + 1];
    const role = a.source_roles[r][c];
    out.cells.push([r, c, j / 2, role]);
    if (role === INPUT) out.input += 1;
    else if (role === PAD) out.pad += 1;
    else if (role === INSERTED) out.inserted += 1;
    else out.beyond += 1;
  }
  return out;
}

function scatterTotals(state, t) {
  // what each target cell holds after frame t: sums of products (numbers) or copies landed (no numbers)
  const a = state.anim;
  const [, tc] = a.target_shape;
  const totals = new Float64Array(a.target_shape[0] * tc);
  for (let f = 0; f <= t; f++) {
    const read = a.reads(f), w = a.writes(f);
    const x = a.source_values ? a.source_values[read[0]][read[1]] : 1;
    for (let j = 0; j < w.length; j += 2) {
      const tap = a.taps[j / 2];
      const weight = a.kernel_values ? a.kernel_values[tap[0]][tap[1]] : 1;
      totals[w[j] * tc + w[j + 1]] += state.numbers && a.source_values ? x * weight : 1;
    }
  }
  return totals;
}

function drawFrame(state) {
  const a = state.anim;
  if (!a || !state.geom) return;
  const t = Math.min(Math.max(0, state.frame), state.n - 1);
  state.frame = t;
  const th = state.theme, c = state.geom.cell, dpr = state.geom.dpr;
  const scatter = a.view === "scatter";

  // source: the base, then the cells read now
  const sctx = state.source.canvas.getContext("2d");
  sctx.setTransform(1, 0, 0, 1, 0, 0);
  sctx.clearRect(0, 0, state.source.canvas.width, state.source.canvas.height);
  sctx.drawImage(state.sourceBase, 0, 0);
  sctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  sctx.textAlign = "center";
  sctx.textBaseline = "middle";
  const stats = frameStats(state, t);
  let r0 = Infinity, r1 = -1, c0 = Infinity, c1 = -1;
  for (const [r, k, , role] of stats.cells) {
    r0 = Math.min(r0, r); r1 = Math.max(r1, r); c0 = Math.min(c0, k); c1 = Math.max(c1, k);
    if (role === BEYOND) continue;
    const x = 1 + k * c, y = 1 + r * c;
    sctx.fillStyle = role === INPUT ? th.read : withAlpha(th.read, 0.75);
    sctx.fillRect(x + 1, y + 1, c - 1, c - 1);
    if (role === PAD) hatch(sctx, x, y, c, "rgba(0,0,0,0.25)");
    cellText(sctx, state, sourceText(state, r, k), x, y, th.onRead, role === INPUT);
  }
  if (!scatter && r1 >= 0) {
    sctx.strokeStyle = th.footprint;
    sctx.lineWidth = 3;
    sctx.strokeRect(1 + c0 * c - 0.5, 1 + r0 * c - 0.5, (c1 - c0 + 1) * c + 1, (r1 - r0 + 1) * c + 1);
  }

  // target: the base, the cells written before, the cells written now
  const tctx = state.target.canvas.getContext("2d");
  tctx.setTransform(1, 0, 0, 1, 0, 0);
  tctx.clearRect(0, 0, state.target.canvas.width, state.target.canvas.height);
  tctx.drawImage(state.targetBase, 0, 0);
  tctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  tctx.textAlign = "center";
  tctx.textBaseline = "middle";
  const [tr, tc] = a.target_shape;
  const totals = scatter ? scatterTotals(state, t) : null;
  const now = new Set();
  const w = a.writes(t);
  for (let j = 0; j < w.length; j += 2) now.add(w[j] * tc + w[j + 1]);
  const first = a.firstWrite;
  const shown = (i, r, k) => {
    if (totals) return state.numbers && a.source_values ? fmt(Math.round(totals[i] * 1e6) / 1e6) : String(totals[i]);
    return a.target_values ? fmt(a.target_values[r][k]) : "";
  };
  for (let r = 0; r < tr; r++) {
    for (let k = 0; k < tc; k++) {
      const i = r * tc + k;
      if (first[i] >= t || now.has(i)) continue;
      const x = 1 + k * c, y = 1 + r * c;
      const cropped = a.target_roles[r][k] === CROPPED;
      if (!cropped) {
        tctx.fillStyle = th.done;
        tctx.fillRect(x + 1, y + 1, c - 1, c - 1);
      }
      cellText(tctx, state, shown(i, r, k), x, y, cropped ? withAlpha(th.text, 0.7) : th.onDone, false);
    }
  }
  for (const i of now) {
    const r = Math.floor(i / tc), k = i % tc;
    const x = 1 + k * c, y = 1 + r * c;
    tctx.fillStyle = th.now;
    tctx.fillRect(x + 1, y + 1, c - 1, c - 1);
    cellText(tctx, state, shown(i, r, k), x, y, th.onNow, true);
  }
  if (scatter && a.target_roles.some((row) => row.includes(CROPPED))) {
    const [oy, ox] = a.output_origin, [oh, ow] = a.output_shape;
    tctx.strokeStyle = th.text;
    tctx.lineWidth = 2;
    tctx.strokeRect(1 + ox * c, 1 + oy * c, ow * c, oh * c);
  }

  state.caption.textContent = captionFor(state, t, stats);
  state.counter.textContent = `Frame ${t + 1} of ${state.n}`;
  state.slider.value = String(t);
  state.draws += 1;
  state.root.dataset.frame = String(t);
  state.root.dataset.draws = String(state.draws);
}

// ---------------------------------------------------------------- what the frame says

function span(cells, axis) {
  let lo = Infinity, hi = -Infinity;
  for (let j = axis; j < cells.length; j += 2) { lo = Math.min(lo, cells[j]); hi = Math.max(hi, cells[j]); }
  return lo === hi ? `${lo}` : `${lo}–${hi}`;
}

function captionFor(state, t, stats) {
  const a = state.anim;
  const k = a.kernel_shape[0];
  const numbers = state.numbers && a.source_values;
  if (a.view === "scatter") {
    const [r, c] = stats.cells[0];
    const w = a.writes(t);
    const where = `rows ${span(w, 0)}, columns ${span(w, 1)}`;
    if (numbers) {
      const x = a.source_values[r][c];
      return `Input cell (${r}, ${c}) = ${fmt(x)} adds ${factor(x)} × kernel to ${where} of the ` +
        `${sizeText(a.target_shape)} sum; each cell shows its sum so far.`;
    }
    return `Input cell (${r}, ${c}) adds one copy of the ${k}×${k} kernel, scaled by its value, to ${where} of the ` +
      `${sizeText(a.target_shape)} sum; each cell counts the copies landed so far.`;
  }
  const [or, oc] = a.writes(t);
  const head = `Output cell (${or}, ${oc})`;
  const extra = [];
  if (stats.pad) extra.push(`${stats.pad} padding`);
  if (stats.inserted) extra.push(`${stats.inserted} inserted zero${stats.inserted > 1 ? "s" : ""}`);
  const zeros = extra.length ? ` + ${extra.join(" + ")}` : "";
  if (!numbers) {
    if (a.op === "max_pool" || a.op === "avg_pool") {
      const what = a.op === "max_pool" ? "largest" : "mean";
      return `${head} = the ${what} of its window: ${stats.input} input cell${stats.input === 1 ? "" : "s"}${zeros}` +
        (a.op === "max_pool" && stats.pad ? " (padding never wins)." : ".");
    }
    return `${head} = the sum of the kernel's ${k * k} weights times the cells under them: ` +
      `${stats.input} input cell${stats.input === 1 ? "" : "s"}${zeros}.`;
  }
  const result = fmt(a.target_values[or][oc]);
  const values = (keep) => stats.cells.filter(([, , , role]) => keep(role)).map(([r, c]) => a.source_values[r][c]);
  if (a.op === "max_pool") {
    const inside = values((role) => role === INPUT);
    if (!inside.length) return `${head} = −∞: its window holds only padding, which never wins.`;
    return `${head} = max(${inside.map(fmt).join(", ")}) = ${result}` + (stats.pad ? " (padding never wins)." : ".");
  }
  if (a.op === "avg_pool") {
    const inside = values((role) => role !== BEYOND);
    return `${head} = (${inside.map(fmt).join(" + ")}) / ${inside.length} = ${result}` +
      (stats.pad ? " (padding counts as 0)." : ".");
  }
  const terms = stats.cells.filter(([, , , role]) => role === INPUT).map(([r, c, j]) => {
    const tap = a.taps[j];
    return `${fmt(a.source_values[r][c])}×${factor(a.kernel_values[tap[0]][tap[1]])}`;
  });
  const zeroNote = extra.length ? ` (the ${extra.join(" and ")} add 0)` : "";
  return `${head} = ${terms.length ? terms.join(" + ") : "0"} = ${result}${zeroNote}.`;
}
