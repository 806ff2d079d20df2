// Draws every <div class="chart" data-chart='{…}'> of a page with ECharts (served by the app from
// the npm package, see service/web/vendor.py), loading the library only on pages that have charts.
// The figures are also in the table beside each chart, so a page without the library still says
// everything. Tooltips are drawn on the canvas (richText): HTML tooltips would need inline styles,
// which the Content-Security-Policy refuses.
(function () {
  "use strict";
  var charts = document.querySelectorAll(".chart[data-chart]");
  var script = document.currentScript;
  if (!charts.length || !script) { return; }

  var zh = (document.documentElement.lang || "").toLowerCase().indexOf("zh") === 0;
  // Bars that grow into place are decoration; people who asked for less motion get them drawn at once.
  var animate = !(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);

  function valueLabel(unit) {
    return function (value) { return unit === "%" ? value + "%" : value; };
  }

  function linkOf(spec, seriesIndex, dataIndex) {
    var series = spec.series[seriesIndex];
    return series && series.links ? series.links[dataIndex] : null;
  }

  // Optional horizontal lines (a control chart's limits): {value, label, style}.
  var MARK_STYLES = {
    solid: { type: "solid", color: "#6c757d" },
    dashed: { type: "dashed", color: "#6c757d" },
    dotted: { type: "dotted", color: "#6c757d" },
    warning: { type: "dashed", color: "#fd7e14" },
    action: { type: "solid", color: "#dc3545" },
    band: { type: "dotted", color: "#0d6efd" }
  };

  function markLines(spec, horizontal) {
    return (spec.markLines || []).map(function (mark) {
      var line = horizontal ? { xAxis: mark.value } : { yAxis: mark.value };
      line.lineStyle = MARK_STYLES[mark.style] || MARK_STYLES.dashed;
      line.label = { formatter: mark.label, position: "insideEndTop", fontSize: 10 };
      return line;
    });
  }

  // Optional highlighted values (a control chart's signals): larger red points.
  function seriesData(series) {
    if (!series.highlights || !series.highlights.length) { return series.values; }
    return series.values.map(function (value, index) {
      if (series.highlights.indexOf(index) < 0) { return value; }
      return { value: value, symbolSize: 11, itemStyle: { color: "#dc3545" } };
    });
  }

  function axisSeries(spec, horizontal) {
    return spec.series.map(function (series, index) {
      var drawn = {
        name: series.name,
        type: spec.kind === "dots" ? "scatter" : (series.asLine || spec.kind === "line" ? "line" : "bar"),
        stack: series.stack || undefined,
        data: seriesData(series),
        barMaxWidth: 36,
        emphasis: { focus: "series" },
        cursor: series.links ? "pointer" : "default"
      };
      if (series.color) { drawn.itemStyle = { color: series.color }; }
      var lines = [];
      if (series.highlights && series.highlights.length) { drawn.showSymbol = true; }
      if (index === 0 && spec.target !== null) {
        lines.push({ value: spec.target, label: (spec.targetLabel || "") + " " + valueLabel(spec.unit)(spec.target) });
      }
      if (index === 0 && spec.marks) {
        spec.marks.forEach(function (mark) { lines.push({ value: mark.value, label: mark.label, inside: true }); });
      }
      if (lines.length) {
        drawn.markLine = {
          silent: true,
          symbol: "none",
          lineStyle: { type: "dashed", color: "#dc3545" },
          data: lines.map(function (line) {
            var item = horizontal ? { xAxis: line.value } : { yAxis: line.value };
            item.label = line.inside ? { formatter: line.label, position: "insideEndTop" } : { formatter: line.label };
            return item;
          })
        };
      }
      if (series.errors && !horizontal) {
        var bars = errorBars(series);
        if (drawn.markLine) {
          drawn.markLine.data = drawn.markLine.data.concat(bars);
        } else {
          drawn.markLine = { silent: true, symbol: "none", data: bars };
        }
      }
      if (index === 0 && spec.markLines && spec.markLines.length) {
        var marks = markLines(spec, horizontal);
        if (drawn.markLine) {
          drawn.markLine.data = drawn.markLine.data.concat(marks);
        } else {
          drawn.markLine = { silent: true, symbol: "none", data: marks };
        }
      }
      return drawn;
    });
  }

  // Optional error bars (a degree of equivalence ± its expanded uncertainty): a vertical mark line
  // from value − error to value + error at each category, capped by flat end symbols (the common
  // ECharts build has no custom series).
  function errorBars(series) {
    var color = series.color || "#0d6efd";
    var bars = [];
    series.values.forEach(function (value, index) {
      var error = series.errors[index];
      if (value === null || error === null || error === undefined) { return; }
      var end = { symbol: "rect", symbolSize: [14, 2], label: { show: false } };
      bars.push([
        Object.assign({ coord: [index, value - error], lineStyle: { type: "solid", color: color, width: 1.5 } }, end),
        Object.assign({ coord: [index, value + error] }, end)
      ]);
    });
    return bars;
  }

  function optionFor(spec, width) {
    var narrow = width < 520;
    var legend = spec.series.length > 1 ? { type: "scroll", bottom: 0 } : undefined;
    var tooltip = { trigger: spec.kind === "pie" ? "item" : "axis", renderMode: "richText", confine: true };
    if (spec.kind === "pie") {
      var first = spec.series[0];
      return {
        tooltip: tooltip,
        legend: { type: "scroll", bottom: 0 },
        series: [{
          name: first.name,
          type: "pie",
          radius: narrow ? ["35%", "60%"] : ["40%", "68%"],
          center: ["50%", "45%"],
          label: { show: !narrow, formatter: "{b}: {c}" },
          cursor: first.links ? "pointer" : "default",
          data: spec.categories.map(function (name, index) {
            var item = { name: name, value: first.values[index] };
            if (spec.colors && spec.colors[index]) { item.itemStyle = { color: spec.colors[index] }; }
            return item;
          })
        }]
      };
    }
    var horizontal = spec.kind === "hbar";
    var categoryAxis = {
      type: "category",
      data: spec.categories,
      axisLabel: { hideOverlap: true, rotate: !horizontal && narrow && spec.categories.length > 6 ? 45 : 0,
                   width: horizontal ? (narrow ? 90 : 160) : undefined, overflow: "truncate" },
      inverse: horizontal
    };
    var valueAxis = { type: "value", axisLabel: { formatter: valueLabel(spec.unit) },
                      max: spec.unit === "%" ? 100 : undefined,
                      minInterval: spec.unit === "%" || spec.fractional ? undefined : 1 };
    // Measured values (means around 5.01, say): the axis fits them instead of starting at zero.
    var marks = (spec.marks || []).map(function (mark) { return mark.value; });
    if (spec.zeroBased === false) {
      valueAxis.scale = true;
      valueAxis.minInterval = undefined;
      // Keep the mark lines (an allowed band) in sight, not only the values.
      if (marks.length) {
        var low = Math.min.apply(null, marks), high = Math.max.apply(null, marks);
        var pad = (high - low) * 0.1 || Math.abs(high) * 0.001 || 1;
        valueAxis.min = function (extent) { return Math.min(extent.min, low) - pad; };
        valueAxis.max = function (extent) { return Math.max(extent.max, high) + pad; };
        valueAxis.axisLabel.formatter = function (value) { return valueLabel(spec.unit)(Number(value.toPrecision(6))); };
      }
    } else if (marks.length) {
      // The axis reaches every mark line (En = -1 too when all the values are positive).
      valueAxis.min = function (extent) { return Math.floor(Math.min.apply(null, marks.concat([extent.min]))); };
      valueAxis.max = function (extent) { return Math.ceil(Math.max.apply(null, marks.concat([extent.max]))); };
    }
    if (spec.valueRange) {
      valueAxis.min = spec.valueRange[0];
      valueAxis.max = spec.valueRange[1];
      valueAxis.axisLabel.formatter = function (value) { return Number(value.toPrecision(4)); };
    }
    return {
      tooltip: tooltip,
      legend: legend,
      grid: { left: 8, right: 16, top: 24, bottom: legend ? 40 : 8, containLabel: true },
      xAxis: horizontal ? valueAxis : categoryAxis,
      yAxis: horizontal ? categoryAxis : valueAxis,
      series: axisSeries(spec, horizontal)
    };
  }

  function draw() {
    var drawn = [];
    charts.forEach(function (element) {
      var spec = JSON.parse(element.getAttribute("data-chart"));
      var chart = window.echarts.init(element, null, { locale: zh ? "ZH" : "EN", renderer: "canvas" });
      var option = optionFor(spec, element.clientWidth);
      option.animation = animate;
      chart.setOption(option);
      chart.on("click", function (params) {
        var link = spec.kind === "pie" ? linkOf(spec, 0, params.dataIndex) : linkOf(spec, params.seriesIndex, params.dataIndex);
        if (link) { window.location.assign(link); }
      });
      element.setAttribute("data-drawn", "true");
      drawn.push(chart);
    });
    window.addEventListener("resize", function () {
      drawn.forEach(function (chart) { chart.resize(); });
    });
  }

  var library = document.createElement("script");
  library.src = script.getAttribute("data-echarts");
  library.addEventListener("load", draw);
  document.head.appendChild(library);
}());
