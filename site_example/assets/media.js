/* trackreport: a step slider for the images of a run page (log_image).
 *
 * Each <figure data-image-steps> holds the last step's image and a link per
 * step (<a data-step href>); without JavaScript those links are the way to
 * every step. This script adds a slider that shows the image of any step in
 * place. Keys and URLs are read from the page and set as attributes and
 * text only.
 */
(function () {
  "use strict";

  function enhance(figure, n) {
    var img = figure.querySelector("img[data-image-current]");
    var links = Array.prototype.slice.call(figure.querySelectorAll("a[data-step]"));
    var words = figure.querySelector("[data-image-step-text]");
    if (!img || links.length < 2) {
      return;
    }
    var key = figure.querySelector(".image-key");
    var name = key ? key.textContent : "";
    var control = document.createElement("div");
    control.className = "image-slider";
    var slider = document.createElement("input");
    slider.type = "range";
    slider.id = "image-step-" + n;
    slider.min = "0";
    slider.max = String(links.length - 1);
    slider.step = "1";
    slider.value = String(links.length - 1);
    slider.setAttribute("aria-label", "Training step of the images " + name);
    var label = document.createElement("label");
    label.htmlFor = slider.id;
    label.textContent = "Step";
    control.appendChild(label);
    control.appendChild(slider);
    figure.insertBefore(control, img);
    var show = function () {
      var i = Number(slider.value);
      var link = links[i];
      var step = link.getAttribute("data-step");
      img.src = link.getAttribute("href");
      img.alt = name + ", step " + step;
      slider.setAttribute("aria-valuetext", "step " + step);
      figure.setAttribute("data-step", step);
      if (words) {
        words.textContent = "step " + step + " (" + (i + 1) + " of " + links.length + ")";
      }
      links.forEach(function (a, j) {
        if (j === i) {
          a.setAttribute("aria-current", "true");
        } else {
          a.removeAttribute("aria-current");
        }
      });
    };
    slider.addEventListener("input", show);
    show();
  }

  function main() {
    var figures = document.querySelectorAll("figure[data-image-steps]");
    for (var i = 0; i < figures.length; i += 1) {
      enhance(figures[i], i);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", main);
  } else {
    main();
  }
})();
