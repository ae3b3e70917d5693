// Chart.js with only the parts the dashboard draws (tree-shaken by esbuild).

import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from "chart.js";

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend);

export interface Series {
  label: string;
  values: number[];
}

/** Draws a line or bar chart on the canvas; sets data-values (the drawn
 * numbers, JSON) and data-drawn="true" once Chart.js has drawn it. */
export function drawChart(canvas: HTMLCanvasElement, type: "line" | "bar", labels: string[], series: Series, locale: string): Chart {
  canvas.removeAttribute("data-drawn");
  return new Chart(canvas, {
    type,
    data: {
      labels,
      datasets: [{ label: series.label, data: series.values, borderColor: "#2563eb", backgroundColor: "rgba(37, 99, 235, 0.35)", tension: 0 }],
    },
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
          chart.canvas.setAttribute("data-drawn", "true");
        },
      },
    ],
  });
}
