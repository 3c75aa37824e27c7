// The asset graph, drawn as SVG from what dashboard/components/asset_graph.py sends: boxes
// already placed by dashboard/graph_layout.py, edges as curves, a legend. It adds what the
// browser alone can do: zoom (wheel, + / − / fit), pan (drag), tooltips, keyboard focus, and
// one trigger value per click on a box ("select": {kind, name}), which Streamlit resets after
// the rerun it causes, so every click counts, however often the same box is clicked.
//
// Plain JavaScript, no build step, no network. Names and reasons come from user code: every
// text is set with textContent, never as HTML.

const SVG_NS = "http://www.w3.org/2000/svg";
const OPEN_AT_LEAST = 0.55; // a picture opens at this zoom or more: its text stays readable
const MAX_ZOOM = 2.5;
const TEXT_FROM = 0.35; // below this zoom, text is hidden: boxes and curves only
const DRAG_PX = 4; // a press that moves further is a drag, not a click
const PAD = 20; // room around a fitted picture
const TOP = 48; // and above it, under the zoom buttons
const STORE = "assetboard.asset_graph.view."; // sessionStorage: zoom per picture, per tab
const MARGIN = 80; // room around the boxes inside the SVG: rings, arcs and weights
const SHARPEN_MS = 150; // a zoom redraws the picture at its new size once the wheel rests

const graphs = new WeakMap(); // one AssetGraph per mounted component (its parentElement)

export default function mount({ data, parentElement, setTriggerValue }) {
  let graph = graphs.get(parentElement);
  if (!graph) {
    graph = new AssetGraph(parentElement);
    graphs.set(parentElement, graph);
  }
  graph.onSelect = (node) => setTriggerValue("select", { kind: node.kind, name: node.name });
  graph.draw(data);
}

function svg(tag, attrs, parent) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) element.setAttribute(name, value);
  if (parent) parent.appendChild(element);
  return element;
}

function html(tag, className, parent, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  if (parent) parent.appendChild(element);
  return element;
}

let instances = 0;

class AssetGraph {
  constructor(host) {
    this.id = `ag${++instances}`;
    this.t = { x: 0, y: 0, k: 1 };
    this.view = null;
    this.digest = null;
    this.selected = null;
    this.nodes = new Map(); // id -> {data, element}
    this.edgesOf = new Map(); // id -> [edge group: its path and weight label]
    this.root = html("div", "ag", host);
    this.frame = html("div", "ag-frame", this.root);
    // The SVG is drawn at the current zoom and moved with a CSS transform: a drag only moves
    // what is drawn (the compositor's work), a zoom scales it at once and redraws it sharp
    // when the wheel rests. (Moving a <g> inside the SVG repainted all 2,000 boxes per frame.)
    this.svg = svg("svg", { class: "ag-svg", role: "group", preserveAspectRatio: "xMinYMin meet" }, this.frame);
    this.svg.setAttribute("aria-label", "Asset graph: drag to move, wheel to zoom");
    const defs = svg("defs", {}, this.svg);
    const marker = svg(
      "marker",
      {
        id: `${this.id}-arrow`,
        viewBox: "0 0 10 10",
        refX: "9",
        refY: "5",
        markerWidth: "9",
        markerHeight: "9",
        markerUnits: "userSpaceOnUse",
        orient: "auto-start-reverse",
      },
      defs,
    );
    svg("path", { d: "M0,0 L10,5 L0,10 z", class: "ag-arrow" }, marker);
    this.edgeLayer = svg("g", { class: "ag-edges" }, this.svg);
    this.nodeLayer = svg("g", { class: "ag-nodes" }, this.svg);
    this.tools = html("div", "ag-tools", this.frame);
    this.button("+", "Zoom in", () => this.zoomBy(1.3));
    this.button("−", "Zoom out", () => this.zoomBy(1 / 1.3));
    this.button("⤢", "Fit the whole picture", () => this.fit());
    this.tip = html("div", "ag-tip", this.root);
    this.tip.setAttribute("role", "tooltip");
    this.tip.hidden = true;
    this.legend = html("div", "ag-legend", this.root);
    this.listen();
    new ResizeObserver(() => {
      if (!this.data || this.frame.clientWidth === 0) return;
      if (!this.placed) this.place();
      else if (this.fitted) this.fit(); // still as first shown: follow the new width
    }).observe(this.frame);
  }

  button(label, title, action) {
    const button = html("button", "ag-tool", this.tools, label);
    button.type = "button";
    button.title = title;
    button.setAttribute("aria-label", title);
    button.addEventListener("click", action);
  }

  // --- drawing --------------------------------------------------------------------------

  draw(data) {
    const before = this.selected;
    this.data = data;
    this.frame.style.height = `${data.frame_height}px`;
    if (data.digest !== this.digest) {
      this.build(data);
      this.digest = data.digest;
    }
    this.select(data.selected);
    if (data.view !== this.view) {
      this.view = data.view;
      this.placed = false;
      this.place();
    } else if (this.selected && this.selected !== before) {
      this.reveal(this.selected); // picked elsewhere (the list): bring it into view
    }
    this.apply();
    this.drawLegend(data.legend);
    this.markDrawn(data);
  }

  build(data) {
    delete this.svg.dataset.drawn;
    this.hideTip();
    const box = [-MARGIN, -MARGIN, data.width + 2 * MARGIN, data.height + 2 * MARGIN];
    this.svg.setAttribute("viewBox", box.join(" "));
    this.rendered = 0; // the drawn size is set at the next apply()
    this.nodes.clear();
    this.edgesOf.clear();
    const m = data.metrics;
    const nodes = document.createDocumentFragment();
    const long = [];
    for (const node of data.nodes) {
      const g = svg("g", {
        class: `ag-node ag-${node.kind}${node.context ? " ag-context" : ""}`,
        transform: `translate(${node.x},${node.y})`,
        tabindex: "0",
        role: "button",
      });
      g.dataset.id = node.id;
      g.dataset.name = node.name;
      g.dataset.kind = node.kind;
      g.setAttribute("aria-label", `${node.tip.title}: ${node.tip.health}`);
      const w = node.w;
      const h = node.h;
      svg("rect", { class: "ag-sel", x: -8, y: -8, width: w + 16, height: h + 16, rx: 12 }, g);
      if (node.ring) {
        svg("rect", { class: "ag-ring", x: -4.5, y: -4.5, width: w + 9, height: h + 9, rx: 9 }, g)
          .style.stroke = node.ring;
      }
      const box = svg("rect", { class: "ag-box", width: w, height: h, rx: 6 }, g);
      box.style.fill = node.fill;
      if (node.dashed) {
        box.classList.add("ag-dashed");
        box.style.stroke = node.ink;
      }
      let top = m.pad_y;
      for (const [text, size, bold] of node.lines) {
        const line = svg("text", { x: w / 2, y: top + size * 0.95, "font-size": size }, g);
        if (bold) line.classList.add("ag-strong");
        line.style.fill = node.ink;
        line.textContent = text;
        if (text.length * size * 0.5 > (w - 2 * m.pad_x) * 0.85) long.push([line, w - 2 * m.pad_x]);
        top += size * m.line_height + m.line_gap;
      }
      if (node.bar && node.bar.length) this.drawBar(g, node, m);
      nodes.appendChild(g);
      this.nodes.set(node.id, { data: node, element: g });
    }
    const edges = document.createDocumentFragment();
    for (const [from, to, weight] of data.edges) {
      const s = data.nodes[from];
      const t = data.nodes[to];
      const [d, mx, my, back] = curve(s, t);
      const link = svg("g", { class: back ? "ag-link ag-back" : "ag-link" }, edges);
      const path = svg("path", { d, class: "ag-edge", "marker-end": `url(#${this.id}-arrow)` }, link);
      if (weight > 1) {
        path.style.strokeWidth = String(Math.min(7, 1.5 + Math.log2(weight)));
        const label = svg("text", { class: "ag-weight", x: mx, y: my + 4 }, link);
        label.textContent = String(weight);
      }
      for (const id of [s.id, t.id]) {
        if (!this.edgesOf.has(id)) this.edgesOf.set(id, []);
        this.edgesOf.get(id).push(link);
      }
    }
    // Many edges per box (groups feeding each other): faint until a box is pointed at.
    this.svg.classList.toggle("ag-dense", data.edges.length > 2.5 * data.nodes.length);
    this.edgeLayer.replaceChildren(edges);
    this.nodeLayer.replaceChildren(nodes);
    for (const [line, room] of long) trim(line, room);
    this.selected = null;
  }

  drawBar(g, node, m) {
    const total = node.bar.reduce((sum, [, count]) => sum + count, 0);
    const width = node.w - 2 * m.pad_x;
    let x = m.pad_x;
    const y = node.h - m.pad_y - m.bar_height;
    for (const [colour, count] of node.bar) {
      const part = (width * count) / total;
      const rect = svg("rect", { class: "ag-bar", x, y, width: part, height: m.bar_height }, g);
      rect.style.fill = colour;
      x += part;
    }
    svg("rect", { class: "ag-bar-frame", x: m.pad_x, y, width, height: m.bar_height, rx: 2 }, g);
  }

  drawLegend(items) {
    const key = JSON.stringify(items);
    if (key === this.legendKey) return;
    this.legendKey = key;
    const parts = document.createDocumentFragment();
    for (const item of items) {
      const entry = html("span", "ag-legend-item", parts);
      const swatch = html("span", `ag-swatch ag-swatch-${item.style}`, entry);
      swatch.style.setProperty("--fill", item.fill);
      swatch.style.setProperty("--edge", item.edge);
      entry.append(item.label);
    }
    this.legend.replaceChildren(parts);
  }

  markDrawn(data) {
    // Two frames: the first lays out and paints the new SVG, the second starts after it.
    const count = String(data.nodes.length);
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        if (this.data !== data) return;
        this.svg.dataset.drawn = count;
        this.root.dataset.view = data.view;
        if (!this.root.dataset.firstDrawnAt) {
          this.root.dataset.firstDrawnAt = performance.now().toFixed(1);
        }
      }),
    );
  }

  // --- selection and tooltips -----------------------------------------------------------

  select(id) {
    if (this.selected === id) return;
    for (const link of this.edgesOf.get(this.selected) || []) link.classList.remove("ag-lit-sel");
    this.nodes.get(this.selected)?.element.classList.remove("ag-selected");
    this.selected = id && this.nodes.has(id) ? id : null;
    if (!this.selected) return;
    this.nodes.get(id).element.classList.add("ag-selected");
    for (const link of this.edgesOf.get(id) || []) link.classList.add("ag-lit-sel");
  }

  choose(element) {
    const node = this.nodes.get(element.dataset.id);
    if (!node) return;
    this.select(node.data.id); // at once: the rerun confirms it
    this.onSelect?.(node.data);
  }

  showTip(element) {
    const node = this.nodes.get(element.dataset.id);
    if (!node || this.press?.moved) return;
    this.hovered = element;
    for (const link of this.edgesOf.get(node.data.id) || []) link.classList.add("ag-lit");
    const tip = node.data.tip;
    const parts = [html("div", "ag-tip-title", null, tip.title)];
    if (tip.meta) parts.push(html("div", "ag-tip-meta", null, tip.meta));
    const health = html("div", "ag-tip-health", null, tip.health);
    health.style.setProperty("--dot", tip.colour);
    parts.push(health);
    if (tip.reason) parts.push(html("div", "ag-tip-reason", null, tip.reason));
    if (tip.hint) parts.push(html("div", "ag-tip-hint", null, tip.hint));
    this.tip.replaceChildren(...parts);
    this.tip.hidden = false;
    this.placeTip(element);
  }

  placeTip(element) {
    // Beside the box, never on it: right, else left (it may reach past the graph, over the
    // page, as far as the window allows), else below, else above.
    const gap = 10;
    const host = this.root.getBoundingClientRect();
    const box = element.getBoundingClientRect();
    const tw = this.tip.offsetWidth;
    const th = this.tip.offsetHeight;
    const left = box.left - host.left;
    const top = box.top - host.top;
    const room = this.frame.clientHeight;
    const limit = document.documentElement.clientWidth; // the window, scroll bar excluded
    let x;
    let y = Math.max(0, Math.min(top, room - th));
    if (box.right + gap + tw <= limit - 4) x = left + box.width + gap;
    else if (box.left - gap - tw >= 4) x = left - gap - tw;
    else {
      x = Math.max(-host.left + 4, Math.min(left + box.width / 2 - tw / 2, host.width - tw));
      y = top + box.height + gap + th <= room ? top + box.height + gap : top - gap - th;
    }
    this.tip.style.transform = `translate(${Math.round(x)}px, ${Math.round(y)}px)`;
  }

  hideTip() {
    if (this.hovered) {
      const id = this.hovered.dataset.id;
      for (const link of this.edgesOf.get(id) || []) link.classList.remove("ag-lit");
    }
    this.hovered = null;
    this.tip.hidden = true;
  }

  // --- zoom and pan ---------------------------------------------------------------------

  apply(byUser = false) {
    if (byUser) this.fitted = false;
    if (!this.data) return;
    const { x, y, k } = this.t;
    if (!this.rendered) this.sharpen();
    const scale = k / this.rendered;
    const shift = `translate(${x - MARGIN * k}px, ${y - MARGIN * k}px)`;
    this.svg.style.transform = scale === 1 ? shift : `${shift} scale(${scale})`;
    this.svg.classList.toggle("ag-far", k < TEXT_FROM);
    this.root.dataset.zoom = k.toFixed(3);
    this.root.dataset.pan = `${Math.round(x)},${Math.round(y)}`;
    clearTimeout(this.sharpening);
    if (scale !== 1) this.sharpening = setTimeout(() => this.sharpen(), SHARPEN_MS);
  }

  sharpen() {
    // Draw the picture at the current zoom: crisp text, and pans that only move it.
    const { x, y, k } = this.t;
    this.rendered = k;
    this.svg.setAttribute("width", String((this.data.width + 2 * MARGIN) * k));
    this.svg.setAttribute("height", String((this.data.height + 2 * MARGIN) * k));
    this.svg.style.transform = `translate(${x - MARGIN * k}px, ${y - MARGIN * k}px)`;
  }

  remember() {
    try {
      sessionStorage.setItem(STORE + this.view, JSON.stringify(this.t));
    } catch {
      // storage full or disabled: the zoom is kept in memory only
    }
  }

  fitScale() {
    const { width, height } = this.data;
    const w = this.frame.clientWidth;
    const h = this.frame.clientHeight;
    return Math.min((w - 2 * PAD) / Math.max(width, 1), (h - PAD - TOP) / Math.max(height, 1), 1);
  }

  // A new picture: the zoom this tab last had on it, else the whole of it when it is small
  // enough to read, else a readable part (around the selected box, or its left end).
  place() {
    if (this.frame.clientWidth === 0) return; // not laid out yet: the ResizeObserver calls back
    this.placed = true;
    this.fitted = false;
    let saved = null;
    try {
      saved = JSON.parse(sessionStorage.getItem(STORE + this.view) || "null");
    } catch {
      saved = null;
    }
    if (saved) {
      this.t = saved;
      this.apply();
      return;
    }
    const fit = this.fitScale();
    if (fit >= OPEN_AT_LEAST) {
      this.fit();
      return;
    }
    // Too wide or too tall to read whole: as tall as the frame allows (up to full size, at
    // least readable), from its left end or around the selected box; the rest is a drag away.
    const tall = (this.frame.clientHeight - TOP - PAD) / Math.max(this.data.height, 1);
    this.t.k = Math.max(OPEN_AT_LEAST, Math.min(1, tall));
    const chosen = this.selected && this.nodes.get(this.selected)?.data;
    if (chosen) {
      this.centreOn(chosen);
    } else {
      this.t.x = PAD;
      this.t.y = TOP + (this.frame.clientHeight - TOP - PAD - this.data.height * this.t.k) / 2;
      this.apply();
    }
    this.remember();
  }

  fit() {
    this.fitted = true;
    const k = this.fitScale();
    this.t = {
      k,
      x: (this.frame.clientWidth - this.data.width * k) / 2,
      y: TOP + (this.frame.clientHeight - TOP - PAD - this.data.height * k) / 2,
    };
    this.apply();
    this.remember();
  }

  centreOn(node) {
    this.t.x = this.frame.clientWidth / 2 - (node.x + node.w / 2) * this.t.k;
    this.t.y = this.frame.clientHeight / 2 - (node.y + node.h / 2) * this.t.k;
    this.apply();
  }

  reveal(id) {
    // The selected box moves into view when it is off screen (picked in the list, say).
    const node = this.nodes.get(id)?.data;
    if (!node) return;
    const { x, y, k } = this.t;
    const left = x + node.x * k;
    const top = y + node.y * k;
    const outside =
      left < 0 ||
      top < 0 ||
      left + node.w * k > this.frame.clientWidth ||
      top + node.h * k > this.frame.clientHeight;
    if (outside) {
      this.fitted = false;
      this.centreOn(node);
      this.remember();
    }
  }

  zoomAt(px, py, factor) {
    const { x, y, k } = this.t;
    const least = Math.min(OPEN_AT_LEAST, this.fitScale()) / 2;
    const next = Math.max(least, Math.min(MAX_ZOOM, k * factor));
    this.t = { k: next, x: px - ((px - x) * next) / k, y: py - ((py - y) * next) / k };
    this.apply(true);
    this.remember();
  }

  zoomBy(factor) {
    this.hideTip();
    this.zoomAt(this.frame.clientWidth / 2, this.frame.clientHeight / 2, factor);
  }

  listen() {
    const s = this.frame; // the whole frame pans and zooms, boxes or not
    s.addEventListener(
      "wheel",
      (event) => {
        event.preventDefault();
        this.hideTip();
        const unit = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? 400 : 1;
        const box = s.getBoundingClientRect();
        const factor = Math.exp(-event.deltaY * unit * 0.0015);
        const x = event.clientX - box.left - s.clientLeft;
        this.zoomAt(x, event.clientY - box.top - s.clientTop, factor);
      },
      { passive: false },
    );
    s.addEventListener("pointerdown", (event) => {
      if (event.button !== 0 || event.target.closest?.(".ag-tools")) return;
      this.dragged = false;
      this.press = { x: event.clientX, y: event.clientY, t: { ...this.t }, id: event.pointerId };
    });
    s.addEventListener("pointermove", (event) => {
      const press = this.press;
      if (!press || press.id !== event.pointerId) return;
      const dx = event.clientX - press.x;
      const dy = event.clientY - press.y;
      if (!press.moved && Math.hypot(dx, dy) < DRAG_PX) return;
      if (!press.moved) {
        press.moved = true;
        s.setPointerCapture(event.pointerId);
        this.root.classList.add("ag-dragging");
        this.hideTip();
      }
      this.t = { ...press.t, x: press.t.x + dx, y: press.t.y + dy };
      this.apply(true);
    });
    const release = (event) => {
      const press = this.press;
      if (!press || press.id !== event.pointerId) return;
      this.press = null;
      if (press.moved) {
        this.dragged = true; // the click that follows a drag selects nothing
        this.root.classList.remove("ag-dragging");
        if (s.hasPointerCapture(event.pointerId)) s.releasePointerCapture(event.pointerId);
        this.remember();
      }
    };
    s.addEventListener("pointerup", release);
    s.addEventListener("pointercancel", release);
    s.addEventListener("click", (event) => {
      if (this.dragged) {
        this.dragged = false;
        return;
      }
      const element = event.target.closest?.(".ag-node");
      if (element) this.choose(element); // a click on the canvas itself selects nothing
    });
    s.addEventListener("keydown", (event) => {
      const element = event.target.closest?.(".ag-node");
      if (element && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        this.choose(element);
      }
    });
    const enter = (event) => {
      const element = event.target.closest?.(".ag-node");
      if (element && element !== this.hovered) {
        this.hideTip();
        this.showTip(element);
      }
    };
    const leave = (event) => {
      const element = event.target.closest?.(".ag-node");
      if (element && !element.contains(event.relatedTarget)) this.hideTip();
    };
    s.addEventListener("pointerover", enter);
    s.addEventListener("pointerout", leave);
    s.addEventListener("focusin", enter);
    s.addEventListener("focusout", leave);
  }
}

// An edge as a cubic curve, and its middle: left to right between columns; as an arc on the
// right within one column (groups that feed each other); right to left, dashed, backwards.
function curve(s, t) {
  const ys = s.y + s.h / 2;
  const yt = t.y + t.h / 2;
  if (t.level > s.level) {
    const x1 = s.x + s.w;
    const x2 = t.x - 2;
    const bend = Math.max(30, (x2 - x1) / 2);
    return [`M${x1},${ys} C${x1 + bend},${ys} ${x2 - bend},${yt} ${x2},${yt}`, (x1 + x2) / 2, (ys + yt) / 2, false];
  }
  if (t.level === s.level) {
    const x1 = s.x + s.w;
    const x2 = t.x + t.w + 2;
    const bend = 30 + Math.abs(yt - ys) * 0.3;
    return [`M${x1},${ys} C${x1 + bend},${ys} ${x2 + bend},${yt} ${x2},${yt}`, Math.max(x1, x2) + bend * 0.75, (ys + yt) / 2, false];
  }
  const x1 = s.x;
  const x2 = t.x + t.w + 2;
  const bend = Math.max(30, (x1 - x2) / 2);
  return [`M${x1},${ys} C${x1 - bend},${ys} ${x2 + bend},${yt} ${x2},${yt}`, (x1 + x2) / 2, (ys + yt) / 2, true];
}

function trim(line, room) {
  // The width estimate in Python was short for this text: cut it until it fits.
  const full = line.textContent;
  if (line.getComputedTextLength() <= room) return;
  let low = 1;
  let high = full.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    line.textContent = `${full.slice(0, middle)}…`;
    if (line.getComputedTextLength() <= room) low = middle;
    else high = middle - 1;
  }
  line.textContent = `${full.slice(0, low)}…`;
}
