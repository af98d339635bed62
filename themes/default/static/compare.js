/* trackreport: the compare page, compare/index.html?runs=a,b,c
 *
 * The page holds <script type="application/json" id="runs-index"> mapping
 * run_id -> {"name", "experiment", "url", "data", "baseline", "vs_baseline",
 * "vs_word"} (urls relative to the page), <script id="experiments-index">
 * mapping experiment -> {"metric", "label", "goal", "baseline",
 * "baseline_words", "baseline_value"}, and an empty <div id="compare">.
 * Numbers come formatted by the build (the site's one formatter, in the
 * experiment's format: 99.5 %), so they read as on every other page. Each chosen run's data is a script file
 * that sets window.trackreportRuns[run_id] (browsers block fetch on file://,
 * so it is loaded with a <script> element). Everything is built with DOM
 * calls and textContent: run names, params and tags are user data.
 */
(function () {
  "use strict";

  var PALETTE = [
    "#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b",
    "#eeca3b", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac"
  ];
  var MAX_RUNS = 50;
  var has = Object.prototype.hasOwnProperty;

  var collator =
    typeof Intl !== "undefined" && Intl.Collator
      ? new Intl.Collator(undefined, { numeric: true, sensitivity: "base" })
      : { compare: function (a, b) { return a < b ? -1 : a > b ? 1 : 0; } };

  var BASE_CSS =
    "#compare .cmp-section{margin:0 0 2rem}" +
    "#compare .cmp-runs{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:.5rem 1.5rem}" +
    "#compare .cmp-runs li{display:flex;align-items:center;gap:.4rem}" +
    "#compare .cmp-swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:50%;flex:none}" +
    "#compare .cmp-runs .badge{font-size:.8em}" +
    "#compare .cmp-scroll{overflow-x:auto}" +
    "#compare table.cmp-table{border-collapse:collapse;font-variant-numeric:tabular-nums}" +
    "#compare table.cmp-table th,#compare table.cmp-table td{padding:.35rem .75rem;border-bottom:1px solid rgba(127,127,127,.25);text-align:left;vertical-align:top}" +
    "#compare table.cmp-table td.num{text-align:right}" +
    "#compare table.cmp-table tr.differs>*{background:var(--best-bg,rgba(234,179,8,.14))}" +
    "#compare table.cmp-table tr.differs>th:first-child{box-shadow:inset 3px 0 0 #d97706}" +
    "#compare table.cmp-table.only-differences tr.same{display:none}" +
    "#compare .cmp-missing{opacity:.5}" +
    "#compare .cmp-best{font-weight:700}" +
    "#compare .cmp-range{display:block;font-size:.8em;opacity:.7}" +
    "#compare .cmp-switch{display:inline-flex;gap:.4rem;align-items:center;margin:0 0 .5rem;cursor:pointer}" +
    "#compare .cmp-note{opacity:.75}" +
    "#compare .chart{width:100%;min-height:260px}" +
    "#compare .cmp-headline{font-size:1.1em;margin:0 0 1.25rem;max-width:60rem}" +
    "#compare .cmp-metric-key{display:block;font-size:.8em;font-weight:400;opacity:.7}" +
    "#compare .cmp-media{margin:0 0 1.5rem}" +
    "#compare .cmp-media h3{margin:0 0 .4rem;overflow-wrap:anywhere}" +
    "#compare .cmp-slider{display:flex;flex-wrap:wrap;align-items:center;gap:.3rem .75rem;margin:0 0 .6rem}" +
    "#compare .cmp-slider input{flex:1 1 12rem;max-width:28rem}" +
    "#compare .cmp-media-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,14rem),1fr));gap:.75rem}" +
    "@media (max-width:40rem){#compare .cmp-media-grid{grid-template-columns:repeat(2,minmax(0,1fr))}}" +
    "#compare .cmp-media-cell{margin:0;min-width:0}" +
    "#compare .cmp-media-cell figcaption{display:flex;align-items:center;gap:.4rem;font-size:.9em;margin:0 0 .3rem;overflow-wrap:anywhere}" +
    "#compare .cmp-media-cell img{display:block;width:100%;height:auto;border:1px solid rgba(127,127,127,.25);border-radius:4px}" +
    "#compare .cmp-media-cell [hidden]{display:none}" +
    "#compare .cmp-no-image{display:flex;align-items:center;justify-content:center;min-height:6rem;padding:.5rem;border:1px dashed rgba(127,127,127,.45);border-radius:4px;opacity:.75;text-align:center}";

  function injectBaseCss() {
    if (document.getElementById("trackreport-compare-css")) {
      return;
    }
    var style = document.createElement("style");
    style.id = "trackreport-compare-css";
    style.textContent = BASE_CSS;
    document.head.insertBefore(style, document.head.firstChild);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  /* Only relative links (or http/https) from the page's own data. */
  function safeUrl(url) {
    if (typeof url !== "string" || url === "") {
      return null;
    }
    if (/^https?:\/\//i.test(url)) {
      return url;
    }
    if (/^[a-z][a-z0-9+.-]*:/i.test(url) || url.indexOf("//") === 0 || url.indexOf("\\") >= 0) {
      return null;
    }
    return url;
  }

  /* A script src: relative only, never another host. */
  function safeScriptUrl(url) {
    var ok = safeUrl(url);
    return ok && !/^https?:/i.test(ok) ? ok : null;
  }

  function requestedIds() {
    var query = window.location.search.replace(/^\?/, "");
    var ids = [];
    query.split("&").forEach(function (part) {
      var eq = part.indexOf("=");
      var name = eq < 0 ? part : part.slice(0, eq);
      if (decodePart(name) !== "runs" || eq < 0) {
        return;
      }
      part
        .slice(eq + 1)
        .split(",")
        .forEach(function (raw) {
          var id = decodePart(raw).trim();
          if (id && ids.indexOf(id) < 0) {
            ids.push(id);
          }
        });
    });
    return ids.slice(0, MAX_RUNS);
  }

  function decodePart(raw) {
    try {
      return decodeURIComponent(raw.replace(/\+/g, " "));
    } catch (e) {
      return raw;
    }
  }

  function readIndex(id) {
    var script = document.getElementById(id || "runs-index");
    if (!script) {
      return {};
    }
    try {
      var index = JSON.parse(script.textContent);
      return index && typeof index === "object" ? index : {};
    } catch (e) {
      return {};
    }
  }

  function loadRun(id, entry) {
    return new Promise(function (resolve) {
      var store = window.trackreportRuns;
      if (store && has.call(store, id)) {
        resolve(store[id]);
        return;
      }
      var src = safeScriptUrl(entry && entry.data);
      if (!src) {
        resolve(null);
        return;
      }
      var script = document.createElement("script");
      script.src = src;
      script.async = true;
      script.onload = function () {
        var loaded = window.trackreportRuns;
        resolve(loaded && has.call(loaded, id) ? loaded[id] : null);
      };
      script.onerror = function () {
        resolve(null);
      };
      document.body.appendChild(script);
    });
  }

  function isNumber(value) {
    return typeof value === "number" && isFinite(value);
  }

  /* A fallback for data scripts from older builds: the build formats numbers. */
  function formatNumber(value) {
    if (value === null || value === undefined) {
      return "—";
    }
    if (typeof value === "string") {
      return value; // "NaN", "Infinity" as written by the build
    }
    if (!isNumber(value)) {
      return String(value);
    }
    if (Number.isInteger(value) && Math.abs(value) < 1e15) {
      return value.toLocaleString("en-US");
    }
    var abs = Math.abs(value);
    if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) {
      return value.toExponential(3).replace(/\.?0+e/, "e");
    }
    var text = value.toPrecision(4);
    // Trailing zeros go only when nothing was rounded away: 0.5, not 0.5000;
    // but 0.99997 stays "1.000", which is not exactly 1.
    return Number(text) === value ? String(value) : text;
  }

  function formatParam(value, text) {
    if (value === undefined) {
      return "—";
    }
    if (typeof text === "string") {
      return text; // as logged, as on the run page
    }
    if (typeof value === "string") {
      return value;
    }
    if (typeof value === "number") {
      return formatNumber(value);
    }
    return JSON.stringify(value);
  }

  function sameValue(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
  }

  function labelsFor(runs) {
    var counts = {};
    runs.forEach(function (run) {
      counts[run.name] = (counts[run.name] || 0) + 1;
    });
    return runs.map(function (run) {
      return counts[run.name] > 1 ? run.name + " (" + run.id + ")" : run.name;
    });
  }

  function section(root, title) {
    var box = el("section", "cmp-section");
    box.appendChild(el("h2", null, title));
    root.appendChild(box);
    return box;
  }

  function renderEmpty(root) {
    if (document.getElementById("compare-help")) {
      // The page explains how to pick runs, with a link to each experiment.
      return;
    }
    var box = section(root, "Pick runs to compare");
    box.appendChild(
      el(
        "p",
        null,
        "This page puts runs side by side: their params, their metrics and their charts. " +
          "Open an experiment, tick the box next to two or more runs in the runs table, " +
          "and press \u201cCompare selected\u201d."
      )
    );
    var back = el("a", null, "Go to all experiments");
    back.href = "../index.html";
    var p = el("p");
    p.appendChild(back);
    box.appendChild(p);
  }

  function renderNotFound(root, missing) {
    var box = el("div", "cmp-not-found");
    box.setAttribute("role", "status");
    box.appendChild(
      el("p", null, (missing.length === 1 ? "This run is not in this report (deleted, or from another report):" :
        "These runs are not in this report (deleted, or from another report):"))
    );
    var list = el("ul");
    missing.forEach(function (id) {
      list.appendChild(el("li", null, id));
    });
    box.appendChild(list);
    root.appendChild(box);
  }

  function renderHeader(root, runs, colors) {
    var box = section(root, runs.length === 1 ? "1 run" : "Comparing " + runs.length + " runs");
    var list = el("ul", "cmp-runs");
    runs.forEach(function (run, i) {
      var item = el("li");
      item.setAttribute("data-run-id", run.id);
      var swatch = el("span", "cmp-swatch");
      swatch.style.background = colors[i];
      swatch.setAttribute("aria-hidden", "true");
      item.appendChild(swatch);
      var href = safeUrl(run.url);
      var name = el(href ? "a" : "span", "cmp-run-name", run.name);
      if (href) {
        name.href = href;
      }
      name.title = run.name; // the whole name when a long one is cut
      item.appendChild(name);
      if (run.baseline) {
        item.appendChild(el("span", "pill cmp-baseline", "baseline"));
      }
      if (run.status) {
        var word = String(run.status);
        var status = el(
          "span",
          "badge cmp-status status-" + word.toLowerCase(),
          word.charAt(0).toUpperCase() + word.slice(1).toLowerCase()
        );
        item.appendChild(status);
      }
      if (run.experiment) {
        item.appendChild(el("span", "cmp-note", run.experiment));
      }
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  function headerRow(runs, first) {
    var tr = el("tr");
    var corner = el("th", null, first);
    corner.scope = "col";
    tr.appendChild(corner);
    runs.forEach(function (run) {
      var th = el("th", null, run.label);
      th.scope = "col";
      tr.appendChild(th);
    });
    return tr;
  }

  function renderParams(root, runs) {
    var box = section(root, "Settings (params)");
    var keys = [];
    runs.forEach(function (run) {
      Object.keys(run.params).forEach(function (key) {
        if (keys.indexOf(key) < 0) {
          keys.push(key);
        }
      });
    });
    keys.sort(collator.compare);
    if (!keys.length) {
      box.appendChild(el("p", "cmp-note", "These runs recorded no settings (params)."));
      return;
    }
    var table = el("table", "cmp-table cmp-params only-differences");
    var thead = el("thead");
    thead.appendChild(headerRow(runs, "Param"));
    table.appendChild(thead);
    var tbody = el("tbody");
    var differing = 0;
    keys.forEach(function (key) {
      var values = runs.map(function (run) {
        return has.call(run.params, key) ? run.params[key] : undefined;
      });
      var differs = values.some(function (v) {
        return !sameValue(v, values[0]);
      });
      if (differs) {
        differing += 1;
      }
      var tr = el("tr", differs ? "differs" : "same");
      var th = el("th", null, key);
      th.scope = "row";
      tr.appendChild(th);
      values.forEach(function (value, i) {
        var td = el("td", null, formatParam(value, runs[i].paramText[key]));
        if (value === undefined) {
          td.classList.add("cmp-missing");
          td.title = "not logged";
        }
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);

    var label = el("label", "cmp-switch");
    var toggle = el("input");
    toggle.type = "checkbox";
    toggle.id = "only-differences";
    toggle.setAttribute("role", "switch");
    toggle.checked = true;
    label.appendChild(toggle);
    label.appendChild(document.createTextNode(" Only differences"));
    var note = el("p", "cmp-note");
    var update = function () {
      table.classList.toggle("only-differences", toggle.checked);
      toggle.setAttribute("aria-checked", toggle.checked ? "true" : "false");
      note.textContent =
        differing === 0
          ? "All " + keys.length + " settings are the same" +
            (toggle.checked ? "; switch off \u201cOnly differences\u201d to see them." : ".")
          : differing + " of " + keys.length + (keys.length === 1 ? " setting differs." : " settings differ.");
    };
    toggle.addEventListener("change", update);
    update();
    box.appendChild(label);
    box.appendChild(note);
    var scroll = el("div", "cmp-scroll");
    scroll.appendChild(table);
    box.appendChild(scroll);
  }

  function metricKeys(runs) {
    var keys = [];
    runs.forEach(function (run) {
      Object.keys(run.metrics).forEach(function (key) {
        if (keys.indexOf(key) < 0) {
          keys.push(key);
        }
      });
      Object.keys(run.series).forEach(function (key) {
        if (keys.indexOf(key) < 0) {
          keys.push(key);
        }
      });
    });
    keys.sort(collator.compare);
    var primary = runs.map(function (run) {
      return run.primary;
    }).filter(function (key) {
      return key && keys.indexOf(key) >= 0;
    })[0];
    if (primary) {
      keys.splice(keys.indexOf(primary), 1);
      keys.unshift(primary);
    }
    return keys;
  }

  function goalOf(runs, key) {
    for (var i = 0; i < runs.length; i += 1) {
      var m = runs[i].metrics[key];
      if (m && (m.goal === "min" || m.goal === "max")) {
        return m.goal;
      }
    }
    return null;
  }

  /* The experiment's label of metric `key` (set_experiment(metrics=...)), else the key. */
  function metricLabel(runs, key) {
    for (var i = 0; i < runs.length; i += 1) {
      var m = runs[i].metrics[key];
      if (m && typeof m.label === "string" && m.label) {
        return m.label;
      }
    }
    return key;
  }

  /* A metric's last, min and max as the build wrote them (99.5 %), else formatted here. */
  function textOf(m) {
    var t = m && m.text && typeof m.text === "object" ? m.text : {};
    var pick = function (name) {
      return typeof t[name] === "string" ? t[name] : formatNumber(m[name]);
    };
    return { last: pick("last"), min: pick("min"), max: pick("max") };
  }

  function listNames(runs) {
    var names = runs.map(function (run) {
      return run.label;
    });
    if (names.length < 2) {
      return names.join("");
    }
    return names.slice(0, -1).join(", ") + " and " + names[names.length - 1];
  }

  /* The run a tie-breaker metric puts ahead of the others tied with it, or null. */
  function tieWinner(tied, tb) {
    if (tied.length < 2 || !tb || typeof tb.metric !== "string" ||
        (tb.goal !== "max" && tb.goal !== "min")) {
      return null;
    }
    var best = null;
    var count = 0;
    tied.forEach(function (run) {
      var m = run.metrics[tb.metric];
      if (!m || !isNumber(m.last)) {
        return;
      }
      if (best === null || (tb.goal === "max" ? m.last > best.value : m.last < best.value)) {
        best = { run: run, value: m.last };
        count = 1;
      } else if (m.last === best.value) {
        count += 1;
      }
    });
    if (!best || count > 1) {
      return null;
    }
    return { run: best.run, label: tb.label || tb.metric, text: textOf(best.run.metrics[tb.metric]).last };
  }

  /* The answer first, in words: which of the chosen runs is best, and by how much
   * against the experiment's baseline. Every number is the build's text. */
  function headline(runs, experiments) {
    if (runs.length < 2) {
      return "Only one run is chosen. Tick two or more in an experiment's runs table to compare them.";
    }
    var names = [];
    runs.forEach(function (run) {
      if (names.indexOf(run.experiment) < 0) {
        names.push(run.experiment);
      }
    });
    if (names.length > 1) {
      return "These runs come from " + names.length + " different experiments, which each " +
        "judge their runs by their own measure, so none is picked as the best. " +
        "Their numbers are side by side below.";
    }
    var exp = has.call(experiments, names[0]) ? experiments[names[0]] || {} : {};
    var key = typeof exp.metric === "string" ? exp.metric : "";
    if (!key) {
      return "The experiment names no measure to rank its runs by, so none is picked as the best.";
    }
    var label = exp.label || key;
    if (exp.goal !== "max" && exp.goal !== "min") {
      return "None is picked as the best: the experiment does not say whether a higher or a " +
        "lower " + label + " is better.";
    }
    var ranked = [];
    var missing = [];
    runs.forEach(function (run) {
      var m = run.metrics[key];
      (m && isNumber(m.last) ? ranked : missing).push(run);
    });
    if (!ranked.length) {
      return "None of these runs has a " + label + " yet, so none is picked as the best.";
    }
    var best = null;
    ranked.forEach(function (run) {
      var v = run.metrics[key].last;
      if (best === null || (exp.goal === "max" ? v > best : v < best)) {
        best = v;
      }
    });
    var tied = ranked.filter(function (run) {
      return run.metrics[key].last === best;
    });
    var value = textOf(tied[0].metrics[key]).last;
    var decider = tieWinner(tied, exp.tie_breaker);
    var text;
    if (decider) {
      var others = tied.filter(function (run) {
        return run !== decider.run;
      });
      text = "Best of these " + runs.length + " runs: " + decider.run.label + ", with " + label +
        " " + value + ", the same as " + listNames(others) + "; it wins the tie on " +
        decider.label + " (" + decider.text + ").";
    } else if (tied.length > 1) {
      text = (tied.length === runs.length ? (runs.length === 2 ? "Both runs tie" : "All " + runs.length + " runs tie") :
        tied.length + " of these " + runs.length + " runs tie") +
        " on " + label + " at " + value + ": " + listNames(tied) + ".";
    } else if (tied[0].baseline) {
      text = "None of the other runs beats " + (exp.baseline_words || tied[0].label) +
        ", which has " + label + " " + value + ".";
    } else {
      var winner = tied[0];
      text = "Best of these " + runs.length + " runs: " + winner.label + ", with " + label +
        " " + value;
      if (winner.vsBaseline && exp.baseline_words && exp.baseline_value) {
        text += ", " + winner.vsBaseline + " " + (winner.vsWord === "worse" ? "worse" : "better") +
          " than " + exp.baseline_words + " (" + exp.baseline_value + ")";
      }
      text += ".";
    }
    if (missing.length) {
      text += " " + listNames(missing) + (missing.length === 1 ? " has" : " have") +
        " no " + label + ".";
    }
    return text;
  }

  function renderMetrics(root, runs, keys) {
    var box = section(root, "Results (metrics)");
    if (!keys.length) {
      box.appendChild(el("p", "cmp-note", "These runs recorded no results (metrics)."));
      return;
    }
    box.appendChild(
      el(
        "p",
        "cmp-note",
        "Each cell is the run's final value; below it, the lowest and highest values it " +
          "logged on the way, when it logged more than one. \u2605 marks the best run for each metric."
      )
    );
    var table = el("table", "cmp-table cmp-metrics");
    var thead = el("thead");
    thead.appendChild(headerRow(runs, "Metric"));
    table.appendChild(thead);
    var tbody = el("tbody");
    keys.forEach(function (key) {
      var goal = goalOf(runs, key);
      var lasts = runs.map(function (run) {
        var m = run.metrics[key];
        return m && isNumber(m.last) ? m.last : null;
      });
      var best = null;
      if (goal) {
        lasts.forEach(function (v) {
          if (v !== null && (best === null || (goal === "max" ? v > best : v < best))) {
            best = v;
          }
        });
      }
      var tr = el("tr");
      tr.setAttribute("data-metric", key);
      var label = metricLabel(runs, key);
      var th = el("th", null, label);
      th.scope = "row";
      if (label !== key) {
        th.appendChild(el("span", "cmp-metric-key", key));
      }
      if (goal) {
        th.appendChild(el("span", "cmp-range", goal === "max" ? "higher is better" : "lower is better"));
      }
      tr.appendChild(th);
      runs.forEach(function (run, i) {
        var m = run.metrics[key];
        var td = el("td", "num");
        if (!m) {
          td.textContent = "—";
          td.classList.add("cmp-missing");
        } else {
          var isBest = best !== null && lasts[i] === best && runs.length > 1;
          var text = textOf(m);
          var value = el("span", isBest ? "cmp-value cmp-best" : "cmp-value", text.last);
          if (isBest) {
            value.textContent = "\u2605 " + value.textContent;
            value.title = "best";
            td.classList.add("best");
          }
          td.appendChild(value);
          if (m.steps > 1 && text.min !== "" && text.min !== "NaN") {
            td.appendChild(el("span", "cmp-range", text.min + " \u2013 " + text.max));
          }
        }
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
    var scroll = el("div", "cmp-scroll");
    scroll.appendChild(table);
    box.appendChild(scroll);
  }

  /* The same look as trackreport.site.charts.metric_chart. */
  /* Most finite points any one run has of metric `key`. */
  function longestSeries(key, runs) {
    var most = 0;
    runs.forEach(function (run) {
      var series = run.series[key];
      if (!series || !series.steps || !series.values) {
        return;
      }
      var n = Math.min(series.steps.length, series.values.length);
      var count = 0;
      for (var i = 0; i < n; i += 1) {
        if (isNumber(series.values[i]) && isNumber(series.steps[i])) {
          count += 1;
        }
      }
      most = Math.max(most, count);
    });
    return most;
  }

  /* One row per run with its finite points as two arrays; the spec's
   * flatten transform makes one datum per point (as on the other pages). */
  function metricSpec(key, runs, colors, goal) {
    var rows = [];
    runs.forEach(function (run) {
      var series = run.series[key];
      if (!series || !series.steps || !series.values) {
        return;
      }
      var n = Math.min(series.steps.length, series.values.length);
      var steps = [];
      var values = [];
      for (var i = 0; i < n; i += 1) {
        var v = series.values[i];
        var s = series.steps[i];
        if (isNumber(v) && isNumber(s)) {
          steps.push(s);
          values.push(v);
        }
      }
      if (steps.length) {
        rows.push({ run: run.label, step: steps, value: values });
      }
    });
    if (!rows.length) {
      return null;
    }
    var domain = runs.map(function (run) {
      return run.label;
    });
    var color = {
      field: "run",
      type: "nominal",
      title: "Run",
      scale: { domain: domain, range: colors },
      legend: { orient: "bottom", direction: "horizontal", columns: 3, labelLimit: 260 }
    };
    var x = { field: "step", type: "quantitative", title: "Step", axis: { tickMinStep: 1, labelExpr: "datum.value % 1 ? '' : format(datum.value, ',')" } };
    var y = { field: "value", type: "quantitative", title: key, scale: { zero: false } };
    return {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      description: key + (goal === "max" ? " (higher is better)" : goal === "min" ? " (lower is better)" : ""),
      data: { name: "rows", values: rows },
      transform: [{ flatten: ["step", "value"] }],
      width: "container",
      height: 240,
      layer: [
        {
          name: "lines",
          mark: { type: "line", strokeWidth: 1.75, strokeCap: "round", strokeJoin: "round" },
          encoding: {
            x: x,
            y: y,
            color: color,
            opacity: { condition: { param: "legend_runs", value: 1 }, value: 0.12 }
          },
          params: [
            { name: "legend_runs", select: { type: "point", fields: ["run"] }, bind: "legend" },
            { name: "zoom_x", select: { type: "interval", encodings: ["x"] }, bind: "scales" }
          ]
        },
        {
          name: "points",
          mark: { type: "circle", size: 46 },
          transform: [{ filter: { param: "legend_runs" } }],
          encoding: {
            x: x,
            y: y,
            color: color,
            opacity: { condition: { param: "hover_point", empty: false, value: 1 }, value: 0 },
            tooltip: [
              { field: "run", type: "nominal", title: "Run", format: "" },
              { field: "step", type: "quantitative", title: "Step", format: "," },
              { field: "value", type: "quantitative", title: key, format: ".4~g" }
            ]
          },
          params: [
            {
              name: "hover_point",
              select: {
                type: "point",
                fields: ["run", "step"],
                nearest: true,
                on: "pointerover",
                clear: "pointerout"
              }
            }
          ]
        }
      ]
    };
  }

  /* Metrics logged once per run: one bar per run, in the runs' colours. */
  function barSpec(key, runs, colors, goal) {
    var rows = [];
    runs.forEach(function (run) {
      var series = run.series[key];
      var m = run.metrics[key];
      var v = m && isNumber(m.last) ? m.last : null;
      if (v === null && series && series.values) {
        series.values.forEach(function (x) {
          if (isNumber(x)) {
            v = x;
          }
        });
      }
      if (v !== null && isFinite(v)) {
        rows.push({ run: run.label, value: v, baseline: run.baseline ? "baseline" : "" });
      }
    });
    if (!rows.length) {
      return null;
    }
    var domain = runs.map(function (run) {
      return run.label;
    });
    var y = { field: "run", type: "nominal", title: null, sort: domain, axis: { labelLimit: 180 } };
    return {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      description: key + (goal === "max" ? " (higher is better)" : goal === "min" ? " (lower is better)" : ""),
      data: { values: rows },
      width: "container",
      height: { step: 22 },
      layer: [
        {
          mark: { type: "bar", cornerRadiusEnd: 2 },
          encoding: {
            y: y,
            x: { field: "value", type: "quantitative", title: key },
            color: { field: "run", type: "nominal", scale: { domain: domain, range: colors }, legend: null },
            tooltip: [
              { field: "run", type: "nominal", title: "Run" },
              { field: "value", type: "quantitative", title: key, format: ".4~g" }
            ]
          }
        },
        {
          mark: { type: "text", align: "left", dx: 4, fontSize: 11 },
          encoding: {
            y: y,
            x: { field: "value", type: "quantitative" },
            text: { field: "baseline", type: "nominal" }
          }
        }
      ]
    };
  }

  function embed(div, spec) {
    var charts = window.trackreportCharts;
    if (charts && typeof charts.embed === "function") {
      return charts.embed(div, spec);
    }
    if (typeof window.vegaEmbed !== "function") {
      div.textContent = "Charts need the chart library, which did not load.";
      return Promise.resolve(null);
    }
    return window
      .vegaEmbed(div, spec, { ast: true, actions: false, renderer: "svg", mode: "vega-lite" })
      .catch(function (error) {
        div.textContent = "This chart could not be drawn: " + (error && error.message ? error.message : error);
      });
  }

  function renderCharts(root, runs, keys, colors) {
    var lines = el("div", "chart-grid cmp-charts");
    var bars = el("div", "chart-grid cmp-charts cmp-bars");
    var drawn = 0;
    function figure(grid, key, spec, i) {
      var fig = el("figure", "chart-card");
      fig.appendChild(el("figcaption", null, metricLabel(runs, key)));
      var div = el("div", "chart");
      div.setAttribute("data-compare-chart", String(i));
      fig.appendChild(div);
      grid.appendChild(fig);
      drawn += 1;
      // Embedded after the figure is in the page, so the width is known.
      window.requestAnimationFrame(function () {
        embed(div, spec);
      });
    }
    keys.forEach(function (key, i) {
      var most = longestSeries(key, runs);
      var goal = goalOf(runs, key);
      if (most >= 2) {
        var spec = metricSpec(key, runs, colors, goal);
        if (spec) {
          figure(lines, key, spec, i);
        }
        return;
      }
      var bar = barSpec(key, runs, colors, goal);
      if (bar) {
        figure(bars, key, bar, i);
      }
    });
    if (!drawn) {
      return; // no heading without content under it
    }
    var box = section(root, "How the results moved during training");
    if (lines.childNodes.length) {
      box.appendChild(lines);
    }
    if (bars.childNodes.length) {
      box.appendChild(el("p", "cmp-note", "Results logged once per run: one bar per run."));
      box.appendChild(bars);
    }
  }

  /* Step -> image URL of one run's image key (relative URLs only). */
  function imageSteps(run, key) {
    var list = has.call(run.images, key) && Array.isArray(run.images[key]) ? run.images[key] : [];
    var out = {};
    list.forEach(function (pair) {
      if (!Array.isArray(pair) || !isNumber(pair[0]) || typeof pair[1] !== "string") {
        return;
      }
      var src = safeScriptUrl(pair[1]);
      if (src && !has.call(out, String(pair[0]))) {
        out[String(pair[0])] = src;
      }
    });
    return out;
  }

  /* One cell of an image row: the run's name, then its image or "no image". */
  function imageCell(run, color) {
    var fig = el("figure", "cmp-media-cell");
    fig.setAttribute("data-run-id", run.id);
    var caption = el("figcaption");
    var swatch = el("span", "cmp-swatch");
    swatch.style.background = color;
    swatch.setAttribute("aria-hidden", "true");
    caption.appendChild(swatch);
    caption.appendChild(el("span", null, run.label));
    fig.appendChild(caption);
    var img = el("img");
    img.hidden = true;
    fig.appendChild(img);
    var none = el("div", "cmp-no-image", "No image at this step");
    none.hidden = true;
    fig.appendChild(none);
    return { fig: fig, img: img, none: none };
  }

  /* Images logged with log_image: one row per key with the chosen runs side by
   * side at the same step, and one slider per key that moves every run together. */
  function renderImages(root, runs, colors) {
    var keys = [];
    runs.forEach(function (run) {
      Object.keys(run.images).forEach(function (key) {
        if (keys.indexOf(key) < 0) {
          keys.push(key);
        }
      });
    });
    keys.sort(collator.compare);
    var rows = [];
    keys.forEach(function (key) {
      var byRun = runs.map(function (run) {
        return imageSteps(run, key);
      });
      var steps = [];
      byRun.forEach(function (found) {
        Object.keys(found).forEach(function (step) {
          if (steps.indexOf(Number(step)) < 0) {
            steps.push(Number(step));
          }
        });
      });
      steps.sort(function (a, b) {
        return a - b;
      });
      if (steps.length) {
        rows.push({ key: key, byRun: byRun, steps: steps });
      }
    });
    if (!rows.length) {
      return; // no heading without content under it
    }
    var box = section(root, "Images");
    var several = rows.some(function (row) {
      return row.steps.length > 1;
    });
    box.appendChild(
      el(
        "p",
        "cmp-note",
        several
          ? "Each run's image at the same training step, side by side. Move a slider to go " +
            "through the steps: every run's image follows."
          : "Each run's image, side by side."
      )
    );
    rows.forEach(function (row, k) {
      var block = el("div", "cmp-media");
      block.setAttribute("data-image-key", row.key);
      block.appendChild(el("h3", null, row.key));
      var control = el("div", "cmp-slider");
      var stepText = el("span", "cmp-step");
      stepText.setAttribute("aria-live", "polite");
      var slider = null;
      if (row.steps.length > 1) {
        slider = el("input");
        slider.type = "range";
        slider.id = "cmp-image-step-" + k;
        slider.min = "0";
        slider.max = String(row.steps.length - 1);
        slider.step = "1";
        slider.value = String(row.steps.length - 1);
        slider.setAttribute("aria-label", "Training step of the images " + row.key);
        var label = el("label", null, "Step");
        label.htmlFor = slider.id;
        control.appendChild(label);
        control.appendChild(slider);
      }
      control.appendChild(stepText);
      block.appendChild(control);
      var grid = el("div", "cmp-media-grid");
      var cells = runs.map(function (run, i) {
        var cell = imageCell(run, colors[i]);
        grid.appendChild(cell.fig);
        return cell;
      });
      block.appendChild(grid);
      var show = function (index) {
        var step = row.steps[index];
        var words = "Step " + step.toLocaleString("en-US");
        stepText.textContent = row.steps.length > 1
          ? words + " (" + (index + 1) + " of " + row.steps.length + ")"
          : words;
        block.setAttribute("data-step", String(step));
        if (slider) {
          slider.setAttribute("aria-valuetext", words);
        }
        cells.forEach(function (cell, i) {
          var src = has.call(row.byRun[i], String(step)) ? row.byRun[i][String(step)] : null;
          cell.img.hidden = !src;
          cell.none.hidden = !!src;
          if (src) {
            cell.img.src = src;
            cell.img.alt = row.key + ", " + runs[i].label + ", " + words.toLowerCase();
          } else {
            cell.img.removeAttribute("src");
          }
        });
      };
      if (slider) {
        slider.addEventListener("input", function () {
          show(Number(slider.value));
        });
      }
      show(row.steps.length - 1);
      box.appendChild(block);
    });
  }

  function normalise(id, entry, data) {
    var d = data && typeof data === "object" ? data : {};
    var obj = function (value) {
      return value && typeof value === "object" && !Array.isArray(value) ? value : {};
    };
    return {
      id: id,
      name: typeof d.name === "string" && d.name ? d.name : (entry && entry.name) || id,
      experiment: typeof d.experiment === "string" ? d.experiment : (entry && entry.experiment) || "",
      status: typeof d.status === "string" ? d.status : "",
      url: (entry && entry.url) || d.url || null,
      params: obj(d.params),
      paramText: obj(d.param_text),
      metrics: obj(d.metrics),
      images: obj(d.images),
      vsBaseline: entry && typeof entry.vs_baseline === "string" ? entry.vs_baseline : "",
      vsWord: entry && typeof entry.vs_word === "string" ? entry.vs_word : "",
      series: obj(d.series),
      primary: typeof d.primary_metric === "string" ? d.primary_metric : null,
      baseline: !!(entry && entry.baseline)
    };
  }

  function main() {
    var root = document.getElementById("compare");
    if (!root) {
      return;
    }
    injectBaseCss();
    root.textContent = "";
    var ids = requestedIds();
    var index = readIndex();
    var help = document.getElementById("compare-help");
    if (help) { // the help shows only while no runs are chosen
      help.hidden = ids.length > 0;
    }
    if (!ids.length) {
      renderEmpty(root);
      root.setAttribute("data-state", "empty");
      return;
    }
    var loading = el("p", "cmp-note", "Loading " + ids.length + (ids.length === 1 ? " run…" : " runs…"));
    root.appendChild(loading);
    var known = ids.filter(function (id) {
      return has.call(index, id);
    });
    Promise.all(
      known.map(function (id) {
        return loadRun(id, index[id]);
      })
    ).then(function (loaded) {
      root.textContent = "";
      var runs = [];
      var missing = ids.filter(function (id) {
        return !has.call(index, id);
      });
      known.forEach(function (id, i) {
        if (loaded[i]) {
          runs.push(normalise(id, index[id], loaded[i]));
        } else {
          missing.push(id);
        }
      });
      if (missing.length) {
        renderNotFound(root, missing);
      }
      if (!runs.length) {
        renderEmpty(root);
        root.setAttribute("data-state", "empty");
        return;
      }
      var labels = labelsFor(runs);
      runs.forEach(function (run, i) {
        run.label = labels[i];
      });
      var colors = runs.map(function (_, i) {
        return PALETTE[i % PALETTE.length];
      });
      var lead = el("p", "lead cmp-headline", headline(runs, readIndex("experiments-index")));
      lead.setAttribute("data-headline", "");
      root.appendChild(lead);
      renderHeader(root, runs, colors);
      renderParams(root, runs);
      var keys = metricKeys(runs);
      renderMetrics(root, runs, keys);
      renderCharts(root, runs, keys, colors);
      renderImages(root, runs, colors);
      root.setAttribute("data-state", "ready");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", main);
  } else {
    main();
  }
})();
