// Draws the dashboard's chart from the data block the server rendered with the table, so the
// chart and the table show the same numbers (a cell the table leaves out was published as 0).
// Colour is not the only signal: each series has its own point shape too.
"use strict";

(function () {
  const canvas = document.getElementById("chart");
  const source = document.getElementById("chart-data");
  if (!canvas || !source || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  const lang = document.documentElement.lang;
  // Okabe-Ito: distinguishable with the common colour-vision deficiencies.
  const colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
    "#000000", "#8C6D31", "#7F7F7F", "#F0E442"];
  const shapes = ["circle", "triangle", "rect", "rectRot", "star", "crossRot", "cross",
    "rectRounded", "line", "dash"];
  const datasets = data.series.map((series, i) => ({
    label: series.label,
    data: series.data,
    borderColor: colours[i % colours.length],
    backgroundColor: colours[i % colours.length],
    pointStyle: shapes[i % shapes.length],
    pointRadius: 4,
    // Line-drawn point styles (star, cross) need a border, or their legend marker is empty.
    borderWidth: 2,
    spanGaps: false,
    borderDash: i >= colours.length ? [6, 3] : [],
  }));
  const sideways = data.kind === "bar" && data.series.length > 8;
  const valueAxis = sideways ? "x" : "y";
  new window.Chart(canvas, {
    type: data.kind,
    data: { labels: data.labels, datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      locale: lang,
      indexAxis: sideways ? "y" : "x",
      scales: { [valueAxis]: { beginAtZero: true, ticks: { precision: 0 } } },
      plugins: {
        legend: { position: "bottom", labels: { usePointStyle: true } },
      },
    },
  });
})();
