// Draws the network map (sites and routes) with the vendored ECharts on a plain
// longitude/latitude plane: no tiles, nothing from the internet. The instance is kept in
// window.stockpilotCharts[id] like the other charts (the browser tests read it).
(function () {
  "use strict";
  var charts = (window.stockpilotCharts = window.stockpilotCharts || {});
  var SHAPE = { warehouse: "rect", candidate: "emptyCircle" };

  function option(d) {
    var at = {};
    d.sites.forEach(function (s) { at[s.location] = [s.longitude, s.latitude]; });
    var series = [];
    var kinds = {};
    d.sites.forEach(function (s) { (kinds[s.kind] = kinds[s.kind] || []).push(s); });
    Object.keys(kinds).forEach(function (k) {
      series.push({ name: k, type: "scatter", symbol: SHAPE[k] || "circle", symbolSize: k === "warehouse" ? 14 : 9,
                    data: kinds[k].map(function (s) { return { name: s.location, value: [s.longitude, s.latitude] }; }),
                    label: { show: kinds[k].length <= 40, formatter: "{b}", position: "right", fontSize: 10 } });
    });
    (d.routes ? d.routes.routes : []).forEach(function (r) {
      var path = [at[d.dc]].concat(r.visits.map(function (v) { return at[v.stop]; }), [at[d.dc]]);
      series.push({ name: "vehicle " + r.vehicle, type: "line", data: path, symbol: "arrow",
                    symbolSize: 6, lineStyle: { width: 2 }, z: 1 });
    });
    return { animation: false, legend: { type: "scroll", top: 0 },
             tooltip: { trigger: "item", formatter: function (x) {
               return (x.name || x.seriesName) + ": " + x.value[1].toFixed(3) + "°, " + x.value[0].toFixed(3) + "°"; } },
             grid: { left: 50, right: 20, top: 35, bottom: 35 },
             xAxis: { type: "value", name: "longitude", scale: true, splitLine: { show: false } },
             yAxis: { type: "value", name: "latitude", scale: true, splitLine: { show: false } },
             dataZoom: [{ type: "inside", xAxisIndex: 0 }, { type: "inside", yAxisIndex: 0 }],
             series: series };
  }

  function draw() {
    if (!window.echarts) return;
    document.querySelectorAll("[data-map]").forEach(function (el) {
      var src = document.getElementById(el.getAttribute("data-source"));
      if (!src) return;
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option(JSON.parse(src.textContent)));
      charts[el.id] = chart;
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
})();
