/* peelian dashboard charts and maps. Plotly is served by the app from the installed package. */
(function () {
  "use strict";
  var CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  var FONT = { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 13, color: "#1f2933" };
  var BLUE = "#1d4e89", RED = "#b3261e", GREY = "#6b7785";
  /* Areas in purples so red/blue stay free for hot and cold spots drawn on top. */
  var AREA_SCALE = [[0, "#f2f0f7"], [0.25, "#cbc9e2"], [0.5, "#9e9ac8"], [0.75, "#756bb1"], [1, "#54278f"]];

  function base(extra) {
    var layout = { font: FONT, margin: { l: 56, r: 16, t: 16, b: 48 }, paper_bgcolor: "#fff", plot_bgcolor: "#fff",
      hovermode: "x unified", xaxis: { gridcolor: "#eef1f4" }, yaxis: { gridcolor: "#eef1f4", rangemode: "tozero" } };
    return Object.assign(layout, extra || {});
  }

  function spec(el) {
    var node = document.getElementById(el.getAttribute("data-chart"));
    return node ? JSON.parse(node.textContent) : null;
  }

  function col(rows, key) { return rows.map(function (r) { return r[key]; }); }

  var CHARTS = {
    bars: function (el, s) {
      Plotly.newPlot(el, [{ type: "bar", x: s.x, y: s.y, marker: { color: BLUE }, name: s.ytitle }],
        base({ yaxis: { title: { text: s.ytitle }, gridcolor: "#eef1f4" } }), CONFIG);
    },
    line: function (el, s) {
      Plotly.newPlot(el, [{ type: "scatter", mode: "lines+markers", x: s.x, y: s.y, line: { color: BLUE }, name: s.ytitle }],
        base({ yaxis: { title: { text: s.ytitle }, gridcolor: "#eef1f4", rangemode: "tozero" } }), CONFIG);
    },
    hbars: function (el, s) {
      Plotly.newPlot(el, [{ type: "bar", orientation: "h", x: s.x.slice().reverse(), y: s.y.slice().reverse(), marker: { color: BLUE } }],
        base({ margin: { l: 190, r: 16, t: 8, b: 40 }, hovermode: "closest" }), CONFIG);
    },
    spc: function (el, s) {
      var rows = s.rows, x = col(rows, "month");
      var sig = rows.filter(function (r) { return r.signal; });
      var traces = [
        { type: "scatter", mode: "lines+markers", x: x, y: col(rows, "count"), name: "count", line: { color: BLUE } },
        { type: "scatter", mode: "lines", x: x, y: col(rows, "centre"), name: "centre", line: { color: GREY, dash: "solid", width: 1.5 } },
        { type: "scatter", mode: "lines", x: x, y: col(rows, "ucl"), name: "upper limit", line: { color: GREY, dash: "dash", width: 1 } },
        { type: "scatter", mode: "lines", x: x, y: col(rows, "lcl"), name: "lower limit", line: { color: GREY, dash: "dash", width: 1 } },
        { type: "scatter", mode: "markers", x: col(sig, "month"), y: col(sig, "count"), name: "signal",
          marker: { color: RED, size: 11, symbol: "circle-open", line: { width: 2.5 } }, text: col(sig, "signal"), hovertemplate: "%{text}<extra>signal</extra>" }
      ];
      Plotly.newPlot(el, traces, base({ legend: { orientation: "h", y: -0.2 } }), CONFIG);
    },
    lorenz: function (el, s) {
      var rows = s.rows, x = col(rows, "cell_share");
      var traces = [{ type: "scatter", mode: "lines", x: x, y: col(rows, "share_n"), name: "crime", line: { color: BLUE } }];
      if (rows.some(function (r) { return r.share_harm != null; })) {
        traces.push({ type: "scatter", mode: "lines", x: x, y: col(rows, "share_harm"), name: "harm", line: { color: RED, dash: "dash" } });
      }
      traces.push({ type: "scatter", mode: "lines", x: [0, 1], y: [0, 1], name: "even spread", line: { color: GREY, dash: "dot", width: 1 }, hoverinfo: "skip" });
      Plotly.newPlot(el, traces, base({
        xaxis: { title: { text: "share of cells, most crime first" }, tickformat: ".0%", gridcolor: "#eef1f4", range: [0, 1] },
        yaxis: { title: { text: "share of crime / harm" }, tickformat: ".0%", gridcolor: "#eef1f4", range: [0, 1] },
        legend: { orientation: "h", y: -0.32 } }), CONFIG);
    },
    backtest: function (el, s) {
      var models = {}, metric = "hit_rate";
      s.rows.forEach(function (r) { (models[r.model] = models[r.model] || []).push(r); });
      var palette = ["#1d4e89", "#b3261e", "#2e7d32", "#8a5a00", "#6a1b9a", "#00695c", "#5d4037"];
      var traces = Object.keys(models).map(function (m, i) {
        return { type: "scatter", mode: "lines+markers", name: m, x: col(models[m], "month"), y: col(models[m], metric), line: { color: palette[i % palette.length] } };
      });
      Plotly.newPlot(el, traces, base({ yaxis: { title: { text: "hit rate" }, gridcolor: "#eef1f4", rangemode: "tozero" }, legend: { orientation: "h", y: -0.2 } }), CONFIG);
    }
  };

  function bbox(geojson) {
    var b = [180, 90, -180, -90];
    function walk(c) {
      if (typeof c[0] === "number") { b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]); b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]); return; }
      c.forEach(walk);
    }
    geojson.features.forEach(function (f) { if (f.geometry) walk(f.geometry.coordinates); });
    return b;
  }

  function view(el, b) {
    var w = el.clientWidth || 800, h = el.clientHeight || 500;
    var lonSpan = Math.max(b[2] - b[0], 0.01), latSpan = Math.max(b[3] - b[1], 0.01) * 1.6;
    var zoom = Math.min(Math.log2(360 * w / 512 / lonSpan), Math.log2(360 * h / 512 / latSpan)) - 0.2;
    return { center: { lon: (b[0] + b[2]) / 2, lat: (b[1] + b[3]) / 2 }, zoom: Math.max(4, Math.min(zoom, 15)) };
  }

  function mapLayout(el, b, extraLayers) {
    var layers = [];
    var tileUrl = document.body.getAttribute("data-tile-url");
    if (tileUrl) {
      layers.push({ sourcetype: "raster", source: [tileUrl], below: "traces", opacity: 0.6 });
    }
    var v = view(el, b);
    return { margin: { l: 0, r: 0, t: 0, b: 0 }, font: FONT, showlegend: false,
      map: { style: "white-bg", center: v.center, zoom: v.zoom, layers: layers.concat(extraLayers || []) } };
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error(url + " answered " + r.status); }
      return r.json();
    });
  }

  function cellTrace(geo, kind) {
    var ids = geo.features.map(function (f) { return f.properties.cell_id; });
    var z, text, scale;
    if (kind === "gistar") {
      z = geo.features.map(function (f) { return f.properties.hotspot === "hot" ? 1 : (f.properties.hotspot === "cold" ? -1 : 0); });
      text = geo.features.map(function (f) { var p = f.properties; return p.hotspot + " spot · " + p.n + " events · z " + (p.gistar || 0).toFixed(2) + " · p(FDR) " + (p.p_adjusted == null ? "–" : p.p_adjusted.toPrecision(2)); });
      scale = [[0, "#2b83ba"], [0.5, "#f7f7f7"], [1, "#d7301f"]];
    } else if (kind === "emerging") {
      var names = Array.from(new Set(geo.features.map(function (f) { return f.properties.pattern; })));
      z = geo.features.map(function (f) { return names.indexOf(f.properties.pattern); });
      text = geo.features.map(function (f) { return f.properties.pattern + " · τ " + (f.properties.trend_tau || 0).toFixed(2); });
      scale = "Portland";
    } else if (kind === "kde") {
      z = geo.features.map(function (f) { return f.properties.density; });
      text = z.map(function (d) { return "density " + d.toPrecision(3); });
      scale = [[0, "#fff7bc"], [0.5, "#fe9929"], [1, "#993404"]];
    } else {
      z = geo.features.map(function (f) { return f.properties.predicted != null ? f.properties.predicted : (f.properties.harm || 1); });
      text = geo.features.map(function (f) { var p = f.properties; return "rank " + p.rank + (p.predicted != null ? " · predicted " + p.predicted.toFixed(2) : "") + (p.harm != null ? " · harm " + Math.round(p.harm) : ""); });
      scale = [[0, "#fcbba1"], [1, "#a50f15"]];
    }
    return { type: "choroplethmap", geojson: geo, locations: ids, z: z, featureidkey: "properties.cell_id", text: text,
      hovertemplate: "%{text}<extra></extra>", colorscale: scale, showscale: kind === "kde",
      zmin: kind === "gistar" ? -1 : undefined, zmax: kind === "gistar" ? 1 : undefined,
      marker: { opacity: kind === "gistar" || kind === "forecast" ? 0.75 : 0.85, line: { width: 0.6, color: "#222" } }, name: kind };
  }

  // MapLibre names every map canvas "Map" (a region landmark); name it after its figure so that
  // several maps on a page are told apart (axe-core landmark-unique)
  function labelMap(el) {
    var canvas = el.querySelector(".maplibregl-canvas");
    if (canvas && el.getAttribute("aria-label")) { canvas.setAttribute("aria-label", "Interactive " + el.getAttribute("aria-label").charAt(0).toLowerCase() + el.getAttribute("aria-label").slice(1)); }
  }

  function drawCellsMap(el) {
    var kind = el.getAttribute("data-cells"), name = el.getAttribute("data-name") || "";
    var url = kind === "grip" ? "/api/grip" : (kind === "forecast" ? "/api/hotspots/forecast/cells.geojson?classification=true&name=" : "/api/hotspots/" + kind + "/cells.geojson?name=") + encodeURIComponent(name);
    if (kind === "grip") { url = "/api/grip"; }
    Promise.all([getJSON(url), getJSON("/api/geo/areas/csp.geojson")]).then(function (res) {
      var geo = kind === "grip" ? res[0].hotspots_geojson : res[0];
      if (kind === "grip") { geo.features.forEach(function (f) { f.properties.cell_id = String(f.properties.cell_id); }); }
      var b = res[1].features.length ? bbox(res[1]) : bbox(geo);
      var layers = [{ sourcetype: "geojson", source: res[1], type: "line", color: "#555", line: { width: 1 }, below: "traces" }];
      Plotly.newPlot(el, [cellTrace(geo, kind)], mapLayout(el, b, layers), CONFIG).then(function () { labelMap(el); });
    }).catch(function (err) { el.textContent = "The map could not be drawn: " + err.message; });
  }

  function drawAreaMap(el, s) {
    var level = s.level;
    Promise.all([getJSON("/api/geo/areas/" + level + ".geojson"), getJSON("/api/geo/areas/csp.geojson")]).then(function (res) {
      var geo = res[0], csp = res[1];
      var values = s.values.filter(function (v) { return v.value !== null; });
      var label = { count: "events", rate: "per 1,000 residents", harm: "CCHI days" }[s.metric];
      var areaTrace = { type: "choroplethmap", geojson: geo, featureidkey: "properties.code",
        locations: values.map(function (v) { return v.area_code; }), z: values.map(function (v) { return v.value; }),
        text: values.map(function (v) { return v.area_name || v.area_code; }), customdata: values.map(function (v) { return v.area_code; }),
        hovertemplate: "%{text}<br>%{z:,.1f} " + label + "<extra></extra>", colorscale: AREA_SCALE,
        marker: { opacity: 0.75, line: { width: 0.4, color: "#ffffff" } }, colorbar: { title: { text: label }, thickness: 12 }, name: "areas" };
      var layers = [{ sourcetype: "geojson", source: csp, type: "line", color: "#333", line: { width: 1.4 }, below: "" }];
      var el2 = el;
      Plotly.newPlot(el2, [areaTrace], mapLayout(el2, bbox(geo), layers), CONFIG).then(function () {
        el2.on("plotly_click", function (ev) {
          var p = ev.points && ev.points[0];
          if (p && p.customdata) { window.location.href = "/areas/" + encodeURIComponent(p.customdata); }
        });
        labelMap(el2);
        el2.setAttribute("data-ready", "true");
      });
      wireLayers(el2, s);
    }).catch(function (err) { el.textContent = "The map could not be drawn: " + err.message; });
  }

  function wireLayers(el, s) {
    var extra = {};
    function toggleCells(kind, on) {
      if (!on) { if (extra[kind] !== undefined) { Plotly.restyle(el, { visible: false }, [extra[kind]]); } return; }
      if (extra[kind] !== undefined) { Plotly.restyle(el, { visible: true }, [extra[kind]]); return; }
      var url = kind === "forecast" ? "/api/hotspots/forecast/cells.geojson?classification=true" : "/api/hotspots/gistar/cells.geojson";
      getJSON(url).then(function (geo) {
        Plotly.addTraces(el, cellTrace(geo, kind)).then(function () { extra[kind] = el.data.length - 1; });
      });
    }
    var areas = document.getElementById("layer-areas"), bounds = document.getElementById("layer-boundaries");
    var gi = document.getElementById("layer-gistar"), fc = document.getElementById("layer-forecast");
    if (areas) { areas.addEventListener("change", function () { Plotly.restyle(el, { visible: areas.checked }, [0]); }); }
    if (bounds) { bounds.addEventListener("change", function () {
      var layers = el.layout.map.layers.map(function (l) { return Object.assign({}, l, { visible: l.sourcetype === "geojson" ? bounds.checked : true }); });
      Plotly.relayout(el, { "map.layers": layers });
    }); }
    if (gi) { gi.addEventListener("change", function () { toggleCells("gistar", gi.checked); }); if (gi.checked && !gi.disabled) { toggleCells("gistar", true); } }
    if (fc) { fc.addEventListener("change", function () { toggleCells("forecast", fc.checked); }); }
  }

  function init() {
    if (typeof Plotly === "undefined") { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var s = spec(el);
      if (s && CHARTS[s.type]) { CHARTS[s.type](el, s); }
    });
    var map = document.getElementById("map"), mapSpec = document.getElementById("map-spec");
    if (map && mapSpec) { drawAreaMap(map, JSON.parse(mapSpec.textContent)); }
    document.querySelectorAll("[data-cells]").forEach(drawCellsMap);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
