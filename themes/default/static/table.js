/* trackreport: sortable, filterable runs tables with run selection for compare.
 *
 * Enhances every <div class="runs-table" data-runs-table data-compare-url="...">:
 *   - a text filter ("N of M runs"),
 *   - switches that show or hide whole column groups (params, metrics, min/max, tags),
 *   - "Compare selected (N)", enabled with two or more runs ticked,
 *   - header buttons that sort by a column, ascending then descending: numbers
 *     by data-sort, text naturally (run-2 before run-10), empty cells last
 *     either way; aria-sort on the active header.
 * The table stays a plain HTML table without this script.
 */
(function () {
  "use strict";

  var GROUP_LABELS = {
    params: "Params",
    metrics: "Metrics",
    "metrics-minmax": "Min/Max",
    tags: "Tags"
  };
  var GROUP_ORDER = ["params", "metrics", "metrics-minmax", "tags"];
  var NUMERIC_TYPES = { number: true, date: true, duration: true };

  var collator =
    typeof Intl !== "undefined" && Intl.Collator
      ? new Intl.Collator(undefined, { numeric: true, sensitivity: "base" })
      : { compare: function (a, b) { return a < b ? -1 : a > b ? 1 : 0; } };

  var BASE_CSS =
    ".table-tools{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;margin:0 0 .75rem}" +
    ".table-tools .tr-filter{min-width:14rem;padding:.35rem .5rem;font:inherit}" +
    ".table-tools .tr-groups{display:flex;flex-wrap:wrap;gap:.25rem .75rem;border:0;margin:0;padding:0}" +
    ".table-tools .tr-groups label{white-space:nowrap;cursor:pointer}" +
    ".table-tools .tr-count{opacity:.75;font-variant-numeric:tabular-nums}" +
    ".table-tools .tr-compare{font:inherit;padding:.35rem .75rem;cursor:pointer}" +
    ".table-tools .tr-compare:disabled{cursor:not-allowed;opacity:.55}" +
    "[data-runs-table] .hidden-group{display:none}" +
    "[data-runs-table] th .sort-button{all:unset;box-sizing:border-box;cursor:pointer;display:inline-block;" +
    "width:100%;font:inherit;color:inherit;text-align:inherit;white-space:inherit}" +
    "[data-runs-table] th .sort-button:focus-visible{outline:2px solid Highlight;outline:2px solid -webkit-focus-ring-color;outline-offset:2px}" +
    "[data-runs-table] th .sort-indicator{font-size:.75em;opacity:.35;margin-left:.3em;display:inline-block;min-width:1em}" +
    "[data-runs-table] th[aria-sort] .sort-indicator{opacity:1}" +
    "[data-runs-table] tr[hidden]{display:none}";

  function injectBaseCss() {
    if (document.getElementById("trackreport-table-css")) {
      return;
    }
    var style = document.createElement("style");
    style.id = "trackreport-table-css";
    style.textContent = BASE_CSS;
    // First in <head>: the theme's style.css overrides any of it.
    document.head.insertBefore(style, document.head.firstChild);
  }

  function groupLabel(group) {
    if (Object.prototype.hasOwnProperty.call(GROUP_LABELS, group)) {
      return GROUP_LABELS[group];
    }
    return group.charAt(0).toUpperCase() + group.slice(1);
  }

  function RunsTable(root) {
    this.root = root;
    this.table = root.querySelector("table");
    this.tbody = this.table ? this.table.tBodies[0] : null;
    if (!this.table || !this.tbody || !this.table.tHead) {
      return;
    }
    var headRows = this.table.tHead.rows;
    this.headers = Array.prototype.slice.call(headRows[headRows.length - 1].cells);
    this.rows = Array.prototype.slice.call(this.tbody.rows);
    this.original = this.rows.slice();
    this.keys = new Map(); // column index -> sort keys, parallel to this.original
    this.texts = null; // lower-cased row texts, made on the first filter
    this.sortColumn = -1;
    this.sortAscending = true;
    this.tools = root.querySelector(".table-tools");
    if (!this.tools) {
      this.tools = document.createElement("div");
      this.tools.className = "table-tools";
      root.insertBefore(this.tools, root.firstChild);
    }
    this.buildTools();
    this.buildHeaders();
    this.buildGroups();
    this.updateSelection();
  }

  // Child runs (nested) sit under their parent row, collapsed; a button expands them.
  RunsTable.prototype.buildGroups = function () {
    var byParent = {};
    this.rows.forEach(function (row) {
      var parent = row.getAttribute("data-parent");
      if (parent) {
        (byParent[parent] = byParent[parent] || []).push(row);
        row.classList.add("collapsed");
      }
    });
    this.rows.forEach(function (row) {
      var kids = byParent[row.getAttribute("data-run-id")];
      if (!kids) {
        return;
      }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "expand-children";
      button.setAttribute("aria-expanded", "false");
      var label = kids.length + (kids.length === 1 ? " child run" : " child runs");
      button.textContent = "▸ " + label;
      button.addEventListener("click", function () {
        var open = button.getAttribute("aria-expanded") !== "true";
        button.setAttribute("aria-expanded", open ? "true" : "false");
        button.textContent = (open ? "▾ " : "▸ ") + label;
        kids.forEach(function (kid) {
          kid.classList.toggle("collapsed", !open);
        });
      });
      row.cells[0].appendChild(button);
    });
  };

  RunsTable.prototype.buildTools = function () {
    var self = this;
    var tools = this.tools;

    var filter = document.createElement("input");
    filter.type = "search";
    filter.className = "tr-filter";
    filter.placeholder = "Filter runs…";
    filter.setAttribute("aria-label", "Filter runs");
    filter.autocomplete = "off";
    tools.appendChild(filter);
    this.filterInput = filter;

    var count = document.createElement("span");
    count.className = "tr-count";
    count.setAttribute("aria-live", "polite");
    tools.appendChild(count);
    this.countLabel = count;
    this.updateCount(this.rows.length);

    var timer = 0;
    filter.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        self.applyFilter(filter.value);
      }, 80);
    });
    filter.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        window.clearTimeout(timer);
        self.applyFilter(filter.value);
      }
    });

    var groups = [];
    this.headers.forEach(function (th) {
      var group = th.getAttribute("data-group");
      if (group && group !== "run" && groups.indexOf(group) < 0) {
        groups.push(group);
      }
    });
    groups.sort(function (a, b) {
      var ia = GROUP_ORDER.indexOf(a);
      var ib = GROUP_ORDER.indexOf(b);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || collator.compare(a, b);
    });
    if (groups.length) {
      var fieldset = document.createElement("fieldset");
      fieldset.className = "tr-groups";
      var legend = document.createElement("legend");
      legend.className = "visually-hidden";
      legend.textContent = "Columns";
      legend.style.position = "absolute";
      legend.style.width = "1px";
      legend.style.height = "1px";
      legend.style.overflow = "hidden";
      legend.style.clip = "rect(0 0 0 0)";
      fieldset.appendChild(legend);
      groups.forEach(function (group) {
        var label = document.createElement("label");
        var box = document.createElement("input");
        box.type = "checkbox";
        box.className = "tr-group-toggle";
        box.setAttribute("data-group-toggle", group);
        var first = self.headers.filter(function (th) {
          return th.getAttribute("data-group") === group;
        })[0];
        box.checked = !(first && first.classList.contains("hidden-group"));
        box.addEventListener("change", function () {
          self.showGroup(group, box.checked);
        });
        label.appendChild(box);
        label.appendChild(document.createTextNode(" " + groupLabel(group)));
        fieldset.appendChild(label);
      });
      tools.appendChild(fieldset);
    }

    var compareUrl = this.root.getAttribute("data-compare-url");
    if (compareUrl && this.root.querySelector("input.run-select")) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "tr-compare";
      button.disabled = true;
      tools.appendChild(button);
      this.compareButton = button;
      button.addEventListener("click", function () {
        var ids = self.selectedIds();
        if (ids.length < 2) {
          return;
        }
        window.location.href =
          compareUrl + "?runs=" + ids.map(encodeURIComponent).join(",");
      });
      this.tbody.addEventListener("change", function (event) {
        var target = event.target;
        if (target && target.classList && target.classList.contains("run-select")) {
          self.updateSelection();
        }
      });
    }
  };

  RunsTable.prototype.selectedIds = function () {
    var ids = [];
    // In the order the reader sees the rows.
    Array.prototype.forEach.call(this.tbody.rows, function (row) {
      var box = row.querySelector("input.run-select");
      if (box && box.checked && box.value) {
        ids.push(box.value);
      }
    });
    return ids;
  };

  RunsTable.prototype.updateSelection = function () {
    if (!this.compareButton) {
      return;
    }
    var n = this.selectedIds().length;
    this.compareButton.textContent = "Compare selected (" + n + ")";
    this.compareButton.disabled = n < 2;
    this.compareButton.title = n < 2 ? "Tick two or more runs to compare them" : "";
  };

  RunsTable.prototype.updateCount = function (shown) {
    var total = this.rows.length;
    this.countLabel.textContent =
      shown === total
        ? total + (total === 1 ? " run" : " runs")
        : shown + " of " + total + (total === 1 ? " run" : " runs");
  };

  RunsTable.prototype.applyFilter = function (query) {
    var needle = query.trim().toLocaleLowerCase();
    if (!this.texts) {
      this.texts = new Map();
      this.rows.forEach(function (row) {
        this.texts.set(row, row.textContent.replace(/\s+/g, " ").toLocaleLowerCase());
      }, this);
    }
    var shown = 0;
    this.rows.forEach(function (row) {
      var match = !needle || this.texts.get(row).indexOf(needle) >= 0;
      if (row.hidden === match) {
        row.hidden = !match;
      }
      if (match) {
        shown += 1;
      }
    }, this);
    this.updateCount(shown);
  };

  RunsTable.prototype.showGroup = function (group, visible) {
    var cells = this.table.querySelectorAll('[data-group="' + cssEscape(group) + '"]');
    for (var i = 0; i < cells.length; i += 1) {
      cells[i].classList.toggle("hidden-group", !visible);
    }
  };

  RunsTable.prototype.buildHeaders = function () {
    var self = this;
    this.headers.forEach(function (th, index) {
      if (th.querySelector(".sort-button")) {
        return;
      }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort-button";
      while (th.firstChild) {
        button.appendChild(th.firstChild);
      }
      var indicator = document.createElement("span");
      indicator.className = "sort-indicator";
      indicator.setAttribute("aria-hidden", "true");
      indicator.textContent = "↕";
      button.appendChild(indicator);
      th.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = self.sortColumn === index ? !self.sortAscending : true;
        self.sortBy(index, ascending);
      });
    });
    this.headers.forEach(function (th) {
      var state = th.getAttribute("aria-sort");
      var indicator = th.querySelector(".sort-indicator");
      if (indicator && (state === "ascending" || state === "descending")) {
        indicator.textContent = state === "ascending" ? "▲" : "▼";
      }
    });
  };

  /* Sort keys of one column, parallel to this.original: a number, a string,
   * or null for an empty cell. */
  RunsTable.prototype.columnKeys = function (index) {
    if (this.keys.has(index)) {
      return this.keys.get(index);
    }
    var th = this.headers[index];
    var numeric = NUMERIC_TYPES[th.getAttribute("data-type")] === true;
    var keys = this.original.map(function (row) {
      var cell = row.cells[index];
      if (!cell) {
        return null;
      }
      var raw = cell.getAttribute("data-sort");
      if (numeric) {
        if (raw === null || raw.trim() === "") {
          return null;
        }
        var number = Number(raw);
        return Number.isNaN(number) ? null : number;
      }
      var text = (raw !== null ? raw : cell.textContent).trim();
      return text === "" ? null : text;
    });
    this.keys.set(index, keys);
    return keys;
  };

  RunsTable.prototype.sortBy = function (index, ascending) {
    var keys = this.columnKeys(index);
    var numeric = NUMERIC_TYPES[this.headers[index].getAttribute("data-type")] === true;
    var order = this.original.map(function (_, i) {
      return i;
    });
    var direction = ascending ? 1 : -1;
    order.sort(function (a, b) {
      var ka = keys[a];
      var kb = keys[b];
      if (ka === null || kb === null) {
        if (ka === kb) {
          return a - b;
        }
        return ka === null ? 1 : -1; // empty last, both directions
      }
      var c;
      if (numeric) {
        c = ka < kb ? -1 : ka > kb ? 1 : 0;
      } else {
        c = collator.compare(ka, kb);
      }
      return c !== 0 ? c * direction : a - b;
    });
    var original = this.original;
    var position = {};
    original.forEach(function (row, i) {
      position[row.getAttribute("data-run-id")] = i;
    });
    var kids = {};
    var top = [];
    order.forEach(function (i) { // sorting keeps each parent's child runs under it
      var parent = original[i].getAttribute("data-parent");
      if (parent && position[parent] !== undefined) {
        (kids[parent] = kids[parent] || []).push(i);
      } else {
        top.push(i);
      }
    });
    order = [];
    var placed = {};
    function place(i) {
      if (placed[i]) {
        return;
      }
      placed[i] = true;
      order.push(i);
      (kids[original[i].getAttribute("data-run-id")] || []).forEach(place);
    }
    top.forEach(place);
    original.forEach(function (_, i) { // a nesting cycle: keep every row
      place(i);
    });
    var fragment = document.createDocumentFragment();
    order.forEach(function (i) {
      fragment.appendChild(original[i]);
    });
    this.tbody.appendChild(fragment);

    this.sortColumn = index;
    this.sortAscending = ascending;
    this.headers.forEach(function (th, i) {
      var indicator = th.querySelector(".sort-indicator");
      if (i === index) {
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        if (indicator) {
          indicator.textContent = ascending ? "▲" : "▼";
        }
      } else {
        th.removeAttribute("aria-sort");
        if (indicator) {
          indicator.textContent = "↕";
        }
      }
    });
  };

  function cssEscape(value) {
    if (window.CSS && window.CSS.escape) {
      return window.CSS.escape(value);
    }
    return String(value).replace(/["\\]/g, "\\$&");
  }

  // "3 days ago" beside each <time data-ago>, counted from the reader's clock when the
  // page is read (the HTML holds only absolute UTC times).
  function ago(then, now) {
    var seconds = (now - then) / 1000;
    if (seconds < 0) {
      return "";
    }
    if (seconds < 60) {
      return "less than a minute ago";
    }
    var units = [[3600, 60, "minute"], [86400, 3600, "hour"], [86400 * 30, 86400, "day"],
                 [86400 * 365, 86400 * 30, "month"], [Infinity, 86400 * 365, "year"]];
    for (var i = 0; i < units.length; i += 1) {
      if (seconds < units[i][0]) {
        var n = Math.floor(seconds / units[i][1]);
        return n + " " + units[i][2] + (n === 1 ? "" : "s") + " ago";
      }
    }
    return "";
  }

  function relativeTimes() {
    var now = Date.now();
    var times = document.querySelectorAll("time[data-ago][datetime]");
    Array.prototype.forEach.call(times, function (el) {
      var then = Date.parse(el.getAttribute("datetime"));
      var words = Number.isNaN(then) ? "" : ago(then, now);
      var next = el.nextSibling;
      if (!next || !next.classList || !next.classList.contains("ago")) {
        next = document.createElement("span");
        next.className = "ago muted";
        el.parentNode.insertBefore(next, el.nextSibling);
      }
      next.textContent = words ? " (" + words + ")" : "";
    });
  }

  function init() {
    relativeTimes();
    var tables = document.querySelectorAll("[data-runs-table]");
    if (!tables.length) {
      return;
    }
    injectBaseCss();
    Array.prototype.forEach.call(tables, function (root) {
      if (!root.hasAttribute("data-enhanced")) {
        root.setAttribute("data-enhanced", "");
        new RunsTable(root);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
