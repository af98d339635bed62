/* trackreport: draw the Vega-Lite charts of a page.
 *
 * Markup (written by the page templates):
 *   <div class="chart" data-chart="ID"></div>
 *   <script type="application/json" id="ID">{...spec...}</script>
 *
 * Needs assets/vendor/vega-bundle.js loaded first (it sets window.vegaEmbed).
 * The page CSP forbids eval, so vega-embed runs with `ast: true` (vega's
 * expression interpreter). Charts are drawn when they come near the viewport
 * (or are about to be printed); the rest are drawn one by one when the browser
 * is idle, so every chart is there within seconds without scrolling. Charts
 * follow prefers-color-scheme, and re-size with their container. A chart that
 * cannot be drawn shows a short message in its box; the page carries on.
 */
(function () {
  "use strict";

  var FONT =
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

  function baseConfig(dark) {
    var text = dark ? "#d7dbe0" : "#374151";
    var muted = dark ? "#9aa3ad" : "#6b7280";
    var grid = dark ? "#2f3740" : "#e8ebef";
    var domain = dark ? "#4b5563" : "#c9ced6";
    return {
      background: null,
      font: FONT,
      padding: { left: 4, right: 8, top: 6, bottom: 4 },
      view: { stroke: null },
      axis: {
        labelColor: muted,
        titleColor: text,
        gridColor: grid,
        domainColor: domain,
        tickColor: domain,
        labelFontSize: 11,
        titleFontSize: 12,
        titleFontWeight: 600,
        labelFont: FONT,
        titleFont: FONT
      },
      legend: {
        labelColor: text,
        titleColor: text,
        labelFontSize: 12,
        titleFontSize: 12,
        titleFontWeight: 600,
        symbolStrokeWidth: 2,
        labelFont: FONT,
        titleFont: FONT
      },
      title: { color: text, subtitleColor: muted, font: FONT, subtitleFont: FONT },
      text: { color: muted, font: FONT },
      rule: { color: domain }
    };
  }

  // vega-embed styles its container `display: inline-block`, which shrinks a
  // chart of width "container" to nothing. Inserted first in <head>, so the
  // theme's style.css can still override it.
  var BASE_CSS =
    "[data-chart].vega-embed,[data-compare-chart].vega-embed{display:block;width:100%}" +
    "[data-chart] .chart-error{margin:0;padding:.75rem;opacity:.8;font-size:.9em}";

  function injectBaseCss() {
    if (document.getElementById("trackreport-charts-css") || !document.head) {
      return;
    }
    var style = document.createElement("style");
    style.id = "trackreport-charts-css";
    style.textContent = BASE_CSS;
    document.head.insertBefore(style, document.head.firstChild);
  }

  var darkQuery =
    window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function isDark() {
    return !!(darkQuery && darkQuery.matches);
  }

  function embedOptions() {
    return {
      ast: true,
      actions: false,
      renderer: "svg",
      mode: "vega-lite",
      config: baseConfig(isDark()),
      tooltip: { theme: isDark() ? "dark" : "light" }
    };
  }

  function showError(el, error) {
    var message = error && error.message ? error.message : String(error);
    el.textContent = "";
    var p = document.createElement("p");
    p.className = "chart-error";
    p.setAttribute("role", "status");
    p.textContent = "This chart could not be drawn: " + message;
    el.appendChild(p);
    el.setAttribute("data-chart-state", "error");
  }

  var views = new Map(); // element -> {spec, result, promise}

  /* A legend laid out in columns gets as many as fit the chart's width
   * (a phone has room for one or two run names per line, not three). */
  function fitLegends(spec, width) {
    if (!width) {
      return;
    }
    var fit = Math.max(1, Math.floor((width - 40) / 180));
    (function walk(node) {
      if (Array.isArray(node)) {
        node.forEach(walk);
      } else if (node && typeof node === "object") {
        var legend = node.legend;
        if (legend && typeof legend === "object" && typeof legend.columns === "number") {
          legend.columns = Math.min(legend.columns, fit);
        }
        Object.keys(node).forEach(function (key) {
          if (key !== "data" && key !== "datasets") {
            walk(node[key]);
          }
        });
      }
    })(spec);
  }

  /* Draw `spec` into `el`; resolves to the vega-embed result or null. */
  function embed(el, spec) {
    var previous = views.get(el);
    if (previous && previous.result) {
      try {
        previous.result.finalize();
      } catch (e) {
        /* already gone */
      }
    }
    injectBaseCss();
    var entry = { spec: spec, result: null };
    views.set(el, entry);
    if (typeof window.vegaEmbed !== "function") {
      showError(el, new Error("the chart library did not load"));
      return Promise.resolve(null);
    }
    el.setAttribute("data-chart-state", "drawing");
    var copy = JSON.parse(JSON.stringify(spec)); // vega-embed may annotate the spec
    fitLegends(copy, el.clientWidth);
    var promise;
    try {
      promise = window.vegaEmbed(el, copy, embedOptions());
    } catch (error) {
      showError(el, error);
      return Promise.resolve(null);
    }
    entry.promise = promise.then(
      function (result) {
        entry.result = result;
        el.setAttribute("data-chart-state", "drawn");
        return result;
      },
      function (error) {
        showError(el, error);
        return null;
      }
    );
    return entry.promise;
  }

  function specFor(el) {
    var id = el.getAttribute("data-chart");
    var script = id ? document.getElementById(id) : null;
    if (!script) {
      throw new Error("no chart data");
    }
    return JSON.parse(script.textContent);
  }

  function draw(el) {
    if (el.hasAttribute("data-chart-state")) {
      return;
    }
    var spec;
    try {
      spec = specFor(el);
    } catch (error) {
      showError(el, error);
      return;
    }
    embed(el, spec);
  }

  // Charts near the viewport are drawn first; this far ahead counts as near.
  var ROOT_MARGIN = "1200px 0px";

  var idle =
    typeof window.requestIdleCallback === "function"
      ? function (fn) {
          window.requestIdleCallback(fn, { timeout: 300 });
        }
      : function (fn) {
          window.setTimeout(fn, 30);
        };

  /* Draw the charts not drawn yet, one per idle moment, so that a page is
   * complete within a couple of seconds without any scrolling (a reader who
   * scrolls fast, a full-page screenshot) and stays responsive meanwhile. */
  function drawRestWhenIdle(charts) {
    var queue = Array.prototype.slice.call(charts);
    function next() {
      var el;
      while ((el = queue.shift())) {
        if (!el.hasAttribute("data-chart-state")) {
          break;
        }
      }
      if (!el) {
        return;
      }
      draw(el);
      var entry = views.get(el);
      var done = entry && entry.promise ? entry.promise : Promise.resolve();
      done.then(function () {
        idle(next);
      });
    }
    idle(next);
  }

  function drawAll(root) {
    injectBaseCss();
    var charts = (root || document).querySelectorAll("[data-chart]");
    if (!charts.length) {
      return;
    }
    // Printing needs every chart, seen or not.
    window.addEventListener("beforeprint", function () {
      charts.forEach(draw);
    });
    if (!("IntersectionObserver" in window)) {
      charts.forEach(draw);
      return;
    }
    var observer = new IntersectionObserver(
      function (entries) {
        entries.forEach(function (entry) {
          if (entry.isIntersecting) {
            observer.unobserve(entry.target);
            draw(entry.target);
          }
        });
      },
      { rootMargin: ROOT_MARGIN }
    );
    charts.forEach(function (el) {
      observer.observe(el);
    });
    // The observer reports the first charts on its first run; the rest
    // follow when the browser is idle.
    var start = function () {
      window.setTimeout(function () {
        drawRestWhenIdle(charts);
      }, 0);
    };
    if (document.readyState === "complete") {
      start();
    } else {
      window.addEventListener("load", start);
    }
  }

  /* Redraw every drawn chart, e.g. when the colour scheme changes. */
  function redrawAll() {
    views.forEach(function (entry, el) {
      if (entry.result) {
        embed(el, entry.spec);
      }
    });
  }

  if (darkQuery) {
    var onScheme = function () {
      redrawAll();
    };
    if (darkQuery.addEventListener) {
      darkQuery.addEventListener("change", onScheme);
    } else if (darkQuery.addListener) {
      darkQuery.addListener(onScheme);
    }
  }

  // Charts with width "container" follow window resizes; a container that
  // changes width for another reason (a sidebar, a details element) is
  // reported the same way, once per animation frame.
  if ("ResizeObserver" in window) {
    var widths = new WeakMap();
    var pending = false;
    var resizeObserver = new ResizeObserver(function (entries) {
      var changed = false;
      entries.forEach(function (entry) {
        var width = Math.round(entry.contentRect.width);
        if (widths.has(entry.target) && widths.get(entry.target) !== width) {
          changed = true;
        }
        widths.set(entry.target, width);
      });
      if (changed && !pending) {
        pending = true;
        window.requestAnimationFrame(function () {
          pending = false;
          window.dispatchEvent(new Event("resize"));
        });
      }
    });
    var watch = function () {
      document.querySelectorAll("[data-chart]").forEach(function (el) {
        resizeObserver.observe(el);
      });
    };
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", watch);
    } else {
      watch();
    }
  }

  window.trackreportCharts = {
    embed: embed,
    drawAll: drawAll,
    config: function () {
      return baseConfig(isDark());
    },
    isDark: isDark
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      drawAll(document);
    });
  } else {
    drawAll(document);
  }
})();
