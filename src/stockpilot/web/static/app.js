// Draws the dashboard's charts with the vendored ECharts from JSON embedded in the page.
// Each <div data-chart="kind" data-source="id"> gets a chart; instances are kept in
// window.stockpilotCharts[id] (the browser tests read them).
(function () {
  "use strict";
  var charts = (window.stockpilotCharts = {});

  function read(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function band(name, lower, upper, ds, opacity) {
    // a quantile band: an invisible base at the lower quantile plus the stacked width
    var base = ds.map(function (d, i) { return [d, lower[i]]; });
    var width = ds.map(function (d, i) { return [d, Math.max(0, upper[i] - lower[i])]; });
    return [
      { name: name, type: "line", data: base, stack: name, symbol: "none",
        itemStyle: { color: "#1f77b4", opacity: opacity },
        lineStyle: { opacity: 0 }, areaStyle: { opacity: 0 }, tooltip: { show: false } },
      { name: name, type: "line", data: width, stack: name, symbol: "none",
        itemStyle: { color: "#1f77b4", opacity: opacity },
        lineStyle: { opacity: 0 }, areaStyle: { color: "#1f77b4", opacity: opacity } }
    ];
  }

  function robustMax(d) {
    // a y-axis that one spike cannot squash: the larger of the fan's top and the 98th
    // percentile of past demand, with headroom; days above it are drawn at the edge and named
    var hist = d.history.map(function (p) { return p[1]; }).sort(function (a, b) { return a - b; });
    var top = hist.length ? hist[hist.length - 1] : 0;
    var p98 = hist.length ? hist[Math.floor(0.98 * (hist.length - 1))] : 0;
    var fanTop = d.fan ? Math.max.apply(null, d.fan["q0.975"].concat([0])) : 0;
    var cap = Math.ceil(Math.max(p98, fanTop, 1) * 1.25);
    return top > cap * 1.2 ? cap : null;
  }

  var timeAxis = { type: "time", axisLabel: { hideOverlap: true } };

  function fan(d) {
    var series = [{ name: "demand", type: "line", data: d.history, symbol: "none",
                    lineStyle: { color: "#444", width: 1 }, itemStyle: { color: "#444" } }];
    if (d.returns && d.returns.length) {
      // returns (negative demand) apart from demand: their own bars, below the axis
      series.push({ name: "returns", type: "bar", data: d.returns, barMaxWidth: 4,
                    itemStyle: { color: "#c2410c" } });
    }
    if (d.fan) {
      var f = d.fan, ds = f.ds;
      series = series.concat(band("95% (2.5–97.5%)", f["q0.025"], f["q0.975"], ds, 0.15),
                             band("67% (16.5–83.5%)", f["q0.165"], f["q0.835"], ds, 0.22),
                             band("50% (25–75%)", f["q0.25"], f["q0.75"], ds, 0.3));
      series.push({ name: "median", type: "line", symbol: "none", itemStyle: { color: "#1f77b4" },
                    data: ds.map(function (x, i) { return [x, f["q0.5"][i]]; }) });
    }
    var cap = robustMax(d), spikes = cap === null ? [] : d.history.filter(function (p) { return p[1] > cap; });
    if (spikes.length) {
      series[0].markPoint = { symbol: "pin", symbolSize: 30, data: spikes.map(function (p) {
        return { coord: [p[0], cap], value: p[1], itemStyle: { color: "#b3261e" } }; }) };
    }
    return { animation: false, tooltip: { trigger: "axis" },
             title: spikes.length ? { text: "y-axis cut at " + cap + " units/day: " + spikes.length +
                                             " spike day(s) pinned, up to " + Math.max.apply(null, spikes.map(function (p) { return p[1]; })),
                                      bottom: 24, left: "center", textStyle: { fontSize: 11, fontWeight: "normal", color: "#5b6773" } } : undefined,
             legend: { type: "scroll", top: 0 }, grid: { left: 45, right: 15, top: 35, bottom: spikes.length ? 62 : 45 },
             xAxis: timeAxis, yAxis: { type: "value", name: "units/day", max: cap === null ? null : cap },
             dataZoom: [{ type: "inside" }, { type: "slider", height: 16, bottom: 6 }],
             series: series };
  }

  function level(name, value, days, color) {
    // a constant dashed line over the projection's days
    return { name: name, type: "line", symbol: "none", itemStyle: { color: color },
             lineStyle: { color: color, type: "dashed", width: 1.5 },
             data: days.map(function (p) { return [p[0], value]; }) };
  }

  function stock(d) {
    var series = [{ name: "projected available", type: "line", step: "end", symbol: "none",
                    data: d.projected, areaStyle: { opacity: 0.1 }, itemStyle: { color: "#0b5cad" } }];
    if (d.reorder_point !== null) series.push(level("reorder point", d.reorder_point, d.projected, "#d9822b"));
    if (d.order_up_to !== null) series.push(level("order-up-to", d.order_up_to, d.projected, "#2b8a3e"));
    return { animation: false, tooltip: { trigger: "axis" }, legend: { top: 0 },
             grid: { left: 50, right: 15, top: 35, bottom: 30 },
             xAxis: timeAxis, yAxis: { type: "value", name: "units" }, series: series };
  }

  function simulation(rows) {
    var by = {};
    rows.forEach(function (r) {
      (by[r.policy] = by[r.policy] || []).push([r.avg_on_hand_per_sku, r.fill_rate, r.knob]);
    });
    var series = Object.keys(by).map(function (p) {
      // one curve per policy: each point one setting (knob) of that policy
      return { name: p, type: "line", symbolSize: 7,
               data: by[p].sort(function (a, b) { return a[1] - b[1]; }) };
    });
    return { animation: false, legend: { top: 0 },
             tooltip: { trigger: "item", formatter: function (x) {
               return x.seriesName + " (knob " + x.value[2] + "): fill " +
                 x.value[1].toFixed(3) + ", " + x.value[0].toFixed(1) + " units/SKU"; } },
             grid: { left: 55, right: 20, top: 40, bottom: 45 },
             xAxis: { type: "value", name: "avg units on hand per SKU (← less stock is better)",
                      nameLocation: "middle", nameGap: 28, axisLabel: { hideOverlap: true } },
             yAxis: { type: "value", name: "fill rate (↑ better)", min: function (v) { return Math.floor(v.min * 20) / 20; } },
             series: series };
  }

  var kinds = { fan: fan, stock: stock, simulation: simulation };

  function draw() {
    if (!window.echarts) return;
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var d = read(el.getAttribute("data-source"));
      var make = kinds[el.getAttribute("data-chart")];
      if (!d || !make) return;
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(make(d));
      charts[el.id] = chart;
    });
  }

  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });
  document.addEventListener("DOMContentLoaded", draw);
})();
