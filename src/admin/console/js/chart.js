// Horizontal bar charts as inline SVG, drawn at the container's own pixel
// width (and redrawn when it changes) so that text keeps its size on a
// narrow window instead of being scaled down with a viewBox.

import {h, s} from './dom.js';

const ROW = 30;
const BAR = 18;
const CHAR_PX = 7.4; // average advance of the 13 px label font

function fit(text, px) {
  const max = Math.max(4, Math.floor(px / CHAR_PX));
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function formatCount(n) {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(1);
}

// rows: [{label, segments: [{value, kind, name}], note?}], every segment's
// `kind` a CSS class (fill colour). `max`: the value of a full bar (default:
// the largest row total). Returns an element that draws itself.
export function barChart({label, rows, max, unit = ''}) {
  const holder = h('div', {class: 'chart'});
  // Reserved before the first draw, so nothing below moves when it lands.
  holder.style.height = `${rows.length * ROW + 4}px`;
  const totals = rows.map((r) => r.segments.reduce((sum, x) => sum + x.value, 0));
  const scaleMax = max ?? Math.max(1, ...totals);
  const summary = rows
    .map((r, i) => `${r.label}: ${r.note ?? `${formatCount(totals[i])}${unit}`}`)
    .join('; ');

  function draw(width) {
    const labelWidth = Math.min(260, Math.round(width * 0.36));
    const valueWidth = 76;
    const barStart = labelWidth + 10;
    const barSpan = Math.max(40, width - barStart - valueWidth);
    const height = rows.length * ROW + 4;
    const svg = s('svg', {
      width,
      height,
      role: 'img',
      'aria-label': `${label}. ${summary}`,
      class: 'bars',
    });
    rows.forEach((row, i) => {
      const y = i * ROW + 2;
      const middle = y + ROW / 2;
      svg.append(
        s(
          'text',
          {x: 0, y: middle, 'dominant-baseline': 'central', class: 'bar-label'},
          fit(row.label, labelWidth),
        ),
        s('rect', {
          x: barStart,
          y: middle - BAR / 2,
          width: barSpan,
          height: BAR,
          rx: 3,
          class: 'track',
        }),
      );
      let x = barStart;
      for (const segment of row.segments) {
        const w = (Math.min(segment.value, scaleMax) / scaleMax) * barSpan;
        if (w <= 0) continue;
        svg.append(
          s(
            'rect',
            {
              x,
              y: middle - BAR / 2,
              width: Math.max(w, 2),
              height: BAR,
              rx: 3,
              class: `seg ${segment.kind}`,
            },
            s('title', {}, `${segment.name}: ${formatCount(segment.value)}${unit}`),
          ),
        );
        x += w;
      }
      svg.append(
        s(
          'text',
          {
            x: width - 2,
            y: middle,
            'dominant-baseline': 'central',
            'text-anchor': 'end',
            class: 'bar-value',
          },
          row.note ?? `${formatCount(totals[i])}${unit}`,
        ),
      );
    });
    return svg;
  }

  let drawnWidth = 0;
  const observer = new ResizeObserver((entries) => {
    const width = Math.floor(entries[0].contentRect.width);
    if (width <= 0 || width === drawnWidth) return;
    drawnWidth = width;
    holder.replaceChildren(draw(width));
  });
  observer.observe(holder);
  return holder;
}

// A legend: coloured swatches with their names.
export function legend(items) {
  return h(
    'ul',
    {class: 'legend'},
    items.map((item) =>
      h('li', {}, h('span', {class: `swatch ${item.kind}`, 'aria-hidden': 'true'}), item.name),
    ),
  );
}
