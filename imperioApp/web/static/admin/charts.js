// Small SVG charts for the back office, drawn from the numbers the API returns (no library, no other host).
// Every label is set with textContent: nothing from the server is parsed as markup.
"use strict";

const Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const WIDTH = 600;
  const HEIGHT = 220;
  const PAD = { left: 44, right: 10, top: 10, bottom: 24 };
  const COLOURS = { slots: "#f3c23c", blackjack: "#6fe39a", roulette: "#ff8a80" };

  function el(name, attributes = {}, text) {
    const node = document.createElementNS(NS, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function frame(holder, label) {
    const svg = el("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": label });
    holder.replaceChildren(svg);
    return svg;
  }

  function axes(svg, low, high, format) {
    const bottom = HEIGHT - PAD.bottom;
    svg.append(el("line", { class: "axis", x1: PAD.left, y1: bottom, x2: WIDTH - PAD.right, y2: bottom }));
    svg.append(el("line", { class: "axis", x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: bottom }));
    for (const value of [low, (low + high) / 2, high]) {
      svg.append(el("text", { x: PAD.left - 4, y: y(value, low, high) + 3, "text-anchor": "end" }, format(value)));
    }
  }

  function x(index, count) {
    const span = WIDTH - PAD.left - PAD.right;
    return PAD.left + (count <= 1 ? span / 2 : (index * span) / (count - 1));
  }

  function y(value, low, high) {
    const span = HEIGHT - PAD.top - PAD.bottom;
    return HEIGHT - PAD.bottom - (high === low ? 0 : ((value - low) / (high - low)) * span);
  }

  function hhmm(iso) { return new Date(iso).toISOString().slice(11, 16); }

  // points: [{at, rounds}] one per minute with play; minutes without rounds are drawn as zero.
  function bars(holder, points, minutes = 60) {
    const svg = frame(holder, "rounds per minute");
    const end = Math.floor(Date.now() / 60000);
    const counts = new Map(points.map((p) => [Math.floor(Date.parse(p.at) / 60000), p.rounds]));
    const series = Array.from({ length: minutes }, (_, i) => counts.get(end - minutes + 1 + i) || 0);
    const high = Math.max(1, ...series);
    axes(svg, 0, high, (v) => String(Math.round(v)));
    const span = (WIDTH - PAD.left - PAD.right) / minutes;
    series.forEach((count, i) => {
      if (!count) return;
      const top = y(count, 0, high);
      const bar = el("rect", { class: "bar", x: PAD.left + i * span + 1, y: top, width: Math.max(1, span - 2), height: HEIGHT - PAD.bottom - top });
      bar.append(el("title", {}, `${count} rounds`));
      svg.append(bar);
    });
    svg.append(el("text", { x: PAD.left, y: HEIGHT - 6 }, "-60 min"));
    svg.append(el("text", { x: WIDTH - PAD.right, y: HEIGHT - 6, "text-anchor": "end" }, "now"));
    svg.dataset.total = String(series.reduce((a, b) => a + b, 0));
  }

  // series: [{at, game_type, rtp}] per hour; published: {game: rtp}. A line per game, its published RTP dashed.
  function rtp(holder, series, published) {
    const svg = frame(holder, "RTP per hour against the published RTP");
    const hours = [...new Set(series.map((p) => p.at))].sort();
    const values = series.filter((p) => p.rtp !== null).map((p) => p.rtp).concat(Object.values(published));
    const low = Math.max(0, Math.min(0.8, ...values) - 0.05);
    const high = Math.max(1.2, ...values) + 0.05;
    axes(svg, low, high, (v) => `${Math.round(v * 100)}%`);
    for (const [game, value] of Object.entries(published)) {
      svg.append(el("line", { class: "published", stroke: COLOURS[game] || "#ccc", x1: PAD.left, x2: WIDTH - PAD.right, y1: y(value, low, high), y2: y(value, low, high) }));
    }
    for (const game of Object.keys(published)) {
      const points = series.filter((p) => p.game_type === game && p.rtp !== null);
      if (!points.length) continue;
      const path = points.map((p, i) => `${i ? "L" : "M"}${x(hours.indexOf(p.at), hours.length).toFixed(1)},${y(p.rtp, low, high).toFixed(1)}`).join(" ");
      svg.append(el("path", { d: path, fill: "none", stroke: COLOURS[game] || "#ccc", "stroke-width": 2, "data-game": game }));
      for (const p of points) {
        const dot = el("circle", { cx: x(hours.indexOf(p.at), hours.length), cy: y(p.rtp, low, high), r: 3, fill: COLOURS[game] || "#ccc" });
        dot.append(el("title", {}, `${game} ${hhmm(p.at)}: ${(p.rtp * 100).toFixed(2)}% over ${p.rounds} rounds`));
        svg.append(dot);
      }
    }
    if (hours.length) {
      svg.append(el("text", { x: PAD.left, y: HEIGHT - 6 }, hhmm(hours[0])));
      svg.append(el("text", { x: WIDTH - PAD.right, y: HEIGHT - 6, "text-anchor": "end" }, hhmm(hours[hours.length - 1])));
    }
    const legend = document.createElement("div");
    legend.className = "legend";
    for (const game of Object.keys(published)) {
      const item = document.createElement("span");
      const swatch = document.createElement("i");
      swatch.style.background = COLOURS[game] || "#ccc";
      item.append(swatch, document.createTextNode(`${game} (dashed: published)`));
      legend.append(item);
    }
    holder.append(legend);
  }

  return { bars, rtp };
})();
