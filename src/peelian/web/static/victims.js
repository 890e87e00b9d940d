/* Victims' Code compliance trend: the monthly on-time rate with its exact interval as a band. */
(function () {
  "use strict";
  function draw(el) {
    var node = document.getElementById(el.getAttribute("data-victims-chart"));
    if (!node || typeof Plotly === "undefined") { return; }
    var rows = JSON.parse(node.textContent).filter(function (r) { return r.rate !== null; });
    var x = rows.map(function (r) { return r.month; });
    var pct = function (k) { return rows.map(function (r) { return r[k] === null ? null : r[k] * 100; }); };
    var traces = [
      { type: "scatter", mode: "lines", x: x, y: pct("high"), line: { width: 0 }, hoverinfo: "skip", showlegend: false },
      { type: "scatter", mode: "lines", x: x, y: pct("low"), fill: "tonexty", fillcolor: "rgba(29,78,137,0.18)",
        line: { width: 0 }, name: "95% interval (exact)" },
      { type: "scatter", mode: "lines+markers", x: x, y: pct("rate"), line: { color: "#1d4e89" }, name: "On-time rate" }
    ];
    var layout = { margin: { l: 56, r: 16, t: 16, b: 48 }, hovermode: "x unified",
      yaxis: { title: { text: "% met on time" }, range: [0, 100] }, legend: { orientation: "h", y: -0.2 } };
    Plotly.newPlot(el, traces, layout, { displaylogo: false, responsive: true });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-victims-chart]").forEach(draw);
  });
})();
