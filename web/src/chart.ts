// Chart.js with only the parts the dashboard draws (tree-shaken by esbuild).

import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from "chart.js";

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend);

export interface Series {
  label: string;
  /** null: a period not computed yet, drawn as a gap (not as zero). */
  values: (number | null)[];
}

/** Draws a line or bar chart on the canvas, with `earlier` (a comparison) overlaid dashed and
 * grey, point by point in order; sets data-values (the drawn numbers, JSON; the earlier ones
 * in data-earlier-values) and data-drawn="true" once Chart.js has drawn it. */
export function drawChart(canvas: HTMLCanvasElement, type: "line" | "bar", labels: string[], series: Series, locale: string, earlier?: Series): Chart {
  canvas.removeAttribute("data-drawn");
  canvas.removeAttribute("data-earlier-values");
  const datasets = [{ label: series.label, data: series.values, borderColor: "#2563eb", backgroundColor: "rgba(37, 99, 235, 0.35)", tension: 0, borderDash: [] as number[], spanGaps: false }];
  if (earlier) {
    datasets.push({ label: earlier.label, data: earlier.values, borderColor: "#7b8794", backgroundColor: "rgba(123, 135, 148, 0.3)", tension: 0, borderDash: [6, 4], spanGaps: false });
  }
  return new Chart(canvas, {
    type,
    data: { labels, datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      locale,
      scales: { y: { beginAtZero: true } },
      plugins: { legend: { display: true } },
    },
    plugins: [
      {
        id: "paysystem-drawn",
        afterRender(chart) {
          // What Chart.js was given to draw, readable from the page (a canvas has no DOM of its
          // own): the browser tests compare it with the API's series.
          chart.canvas.setAttribute("data-values", JSON.stringify(chart.data.datasets[0].data));
          if (chart.data.datasets[1]) chart.canvas.setAttribute("data-earlier-values", JSON.stringify(chart.data.datasets[1].data));
          chart.canvas.setAttribute("data-drawn", "true");
        },
      },
    ],
  });
}
