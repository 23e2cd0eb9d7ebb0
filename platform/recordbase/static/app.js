/* Recordbase: the little the browser must do itself. Everything works without it;
   this adds the CSRF header to htmx requests, type-ahead pickers, inline child-table
   rows with live sums and computed values (exact decimals), "select all" and tabs.
   No framework, no eval. */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrfToken();
  });

  /* --- the top bar: menus and the sections that fit ------------------------------ */

  /* menus are <details>: Enter or Space on the summary opens and closes them natively;
     Escape closes the menu it is in and gives the focus back to its summary; a click or
     the focus going elsewhere closes it; one menu is open at a time */
  function closeMenu(menu, focus) {
    menu.open = false;
    if (focus) menu.querySelector("summary").focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !event.target.closest) return;
    var menu = event.target.closest("details.menu[open]");
    if (menu) { closeMenu(menu, true); event.preventDefault(); }
  });

  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) closeMenu(menu, false);
    });
  });

  document.addEventListener("focusout", function (event) {
    var menu = event.target.closest ? event.target.closest("details.menu[open]") : null;
    if (menu && event.relatedTarget && !menu.contains(event.relatedTarget)) closeMenu(menu, false);
  });

  document.addEventListener("toggle", function (event) {
    var opened = event.target;
    if (!opened.matches || !opened.matches("details.menu") || !opened.open) return;
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (menu !== opened) closeMenu(menu, false);
    });
  }, true);

  /* sections that would wrap onto a second row move, from the last, under "More" */
  function fitSections() {
    var nav = document.querySelector("[data-sections]");
    if (!nav) return;
    var list = nav.querySelector("[data-section-links]");
    var more = nav.querySelector("[data-more]");
    var moreList = more.querySelector("ul");
    while (moreList.firstElementChild) list.appendChild(moreList.firstElementChild);
    more.hidden = true;
    function overflowing() {
      var items = list.children;
      if (!items.length) return false;
      return items[items.length - 1].offsetTop > items[0].offsetTop || list.scrollWidth > list.clientWidth;
    }
    if (overflowing()) {
      more.hidden = false;
      while (list.firstElementChild && overflowing()) {
        moreList.insertBefore(list.lastElementChild, moreList.firstChild);
      }
    }
    more.querySelector("summary").classList.toggle("current", !!moreList.querySelector("[aria-current]"));
  }

  var fitPending = false;
  window.addEventListener("resize", function () {
    if (fitPending) return;
    fitPending = true;
    window.requestAnimationFrame(function () { fitPending = false; fitSections(); });
  });
  window.addEventListener("load", fitSections);
  document.addEventListener("DOMContentLoaded", fitSections);

  /* --- type-ahead pickers ---------------------------------------------------- */

  function setupPicker(picker) {
    if (picker.dataset.ready) return;
    picker.dataset.ready = "1";
    var idInput = picker.querySelector(".pick-id");
    var search = picker.querySelector(".pick-search");
    var title = picker.querySelector(".pick-title");
    var clear = picker.querySelector(".pick-clear");
    var results = picker.querySelector(".picker-results");
    if (!idInput || !search) return;
    idInput.type = "hidden";
    search.hidden = false;
    if (clear) clear.hidden = false;
    if (title) title.hidden = true;
    search.value = title ? title.textContent.trim() : "";
    results.addEventListener("click", function (event) {
      var option = event.target.closest("[data-pick-id]");
      if (!option) return;
      idInput.value = option.dataset.pickId;
      search.value = option.dataset.pickTitle;
      if (title) title.textContent = option.dataset.pickTitle;
      results.innerHTML = "";
      idInput.dispatchEvent(new Event("change", { bubbles: true }));
      search.focus();
    });
    if (clear) {
      clear.addEventListener("click", function () {
        idInput.value = "";
        search.value = "";
        if (title) title.textContent = "";
        results.innerHTML = "";
        search.focus();
      });
    }
    search.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") {
        var first = results.querySelector("button");
        if (first) { first.focus(); event.preventDefault(); }
      } else if (event.key === "Escape") {
        results.innerHTML = "";
      } else if (event.key === "Enter") {
        event.preventDefault();  /* Enter picks from the list, never submits the card */
      }
    });
    results.addEventListener("keydown", function (event) {
      var buttons = Array.prototype.slice.call(results.querySelectorAll("button"));
      var index = buttons.indexOf(document.activeElement);
      if (event.key === "ArrowDown" && index < buttons.length - 1) { buttons[index + 1].focus(); event.preventDefault(); }
      if (event.key === "ArrowUp") { (index > 0 ? buttons[index - 1] : search).focus(); event.preventDefault(); }
      if (event.key === "Escape") { results.innerHTML = ""; search.focus(); }
    });
  }

  /* keys in a list of found records: arrows move, Escape closes */
  function resultKeys(results, search) {
    results.addEventListener("keydown", function (event) {
      var buttons = Array.prototype.slice.call(results.querySelectorAll("button"));
      var index = buttons.indexOf(document.activeElement);
      if (event.key === "ArrowDown" && index < buttons.length - 1) { buttons[index + 1].focus(); event.preventDefault(); }
      if (event.key === "ArrowUp") { (index > 0 ? buttons[index - 1] : search).focus(); event.preventDefault(); }
      if (event.key === "Escape") { results.innerHTML = ""; search.focus(); }
    });
  }

  /* many-to-many: chips of the chosen records and a search that adds to them; the hidden
     input keeps the ids as the server reads them ("3; 7") */
  function setupMultiPicker(picker) {
    if (picker.dataset.ready) return;
    picker.dataset.ready = "1";
    var ids = picker.querySelector(".pick-ids");
    var search = picker.querySelector(".pick-search");
    var chips = picker.querySelector(".chips");
    var results = picker.querySelector(".picker-results");
    if (!ids || !search) return;
    ids.type = "hidden";
    search.hidden = false;
    picker.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });
    picker.querySelectorAll(".no-js-only").forEach(function (el) { el.remove(); });
    function sync() {
      var chosen = Array.prototype.map.call(chips.querySelectorAll("li[data-id]"), function (li) { return li.dataset.id; });
      ids.value = chosen.join("; ");
      ids.dispatchEvent(new Event("change", { bubbles: true }));
    }
    chips.addEventListener("click", function (event) {
      var button = event.target.closest(".chip-remove");
      if (!button) return;
      button.closest("li").remove();
      sync();
      search.focus();
    });
    results.addEventListener("click", function (event) {
      var option = event.target.closest("[data-pick-id]");
      if (!option) return;
      var id = option.dataset.pickId;
      if (!chips.querySelector('li[data-id="' + id + '"]')) {
        var li = document.createElement("li");
        li.className = "chip";
        li.dataset.id = id;
        li.appendChild(document.createTextNode(option.dataset.pickTitle + " "));
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "secondary chip-remove";
        remove.textContent = "\u2715";
        remove.setAttribute("aria-label", (picker.dataset.removeLabel || "Remove") + " " + option.dataset.pickTitle);
        li.appendChild(remove);
        chips.appendChild(li);
        sync();
      }
      results.innerHTML = "";
      search.value = "";
      search.focus();
    });
    search.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") {
        var first = results.querySelector("button");
        if (first) { first.focus(); event.preventDefault(); }
      } else if (event.key === "Escape") {
        results.innerHTML = "";
      } else if (event.key === "Enter") {
        event.preventDefault();
      }
    });
    resultKeys(results, search);
  }

  /* --- child tables: add, remove, reorder rows; sums as you type ------------------ */

  var rowCounter = 0;

  function renumber(table) {
    table.querySelectorAll("tbody tr[data-row]").forEach(function (row, i) {
      var num = row.querySelector(".row-num-text");
      if (num) num.textContent = String(i + 1);
    });
  }

  /* exact decimals: a number is [units (BigInt), scale], "700,50" is [70050n, 2]; floats
     would turn 0.1 + 0.2 into 0.30000000000000004 */
  function parseExact(text) {
    var cleaned = String(text || "").replace(/[\s\u00a0]/g, "");
    if (cleaned.indexOf(",") >= 0 && cleaned.indexOf(".") < 0) cleaned = cleaned.replace(",", ".");
    var match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(cleaned);
    if (!match || (match[2] + (match[3] || "")) === "") return null;
    var frac = match[3] || "";
    var units = BigInt((match[2] || "0") + frac);
    return [match[1] === "-" ? -units : units, frac.length];
  }

  /* to `scale` decimals, half away from zero (the server rounds the same way) */
  function rescale(number, scale) {
    var units = number[0], from = number[1];
    if (from <= scale) return units * (10n ** BigInt(scale - from));
    var divisor = 10n ** BigInt(from - scale);
    var negative = units < 0n;
    var abs = negative ? -units : units;
    var result = (abs + divisor / 2n) / divisor;
    return negative ? -result : result;
  }

  /* the value of a cell: what is typed, or what a computed output holds */
  function cellValue(el) {
    return parseExact(el.tagName === "OUTPUT" ? el.dataset.value : el.value);
  }

  /* numbers the way the server writes them: separators come from the page (CLDR via
     Babel), since the browser's own locale data may lack Armenian */
  function formatUnits(units, scale, group, decimal) {
    var negative = units < 0n;
    var digits = (negative ? -units : units).toString();
    while (digits.length <= scale) digits = "0" + digits;
    var whole = scale ? digits.slice(0, -scale) : digits;
    var frac = scale ? digits.slice(-scale) : "";
    whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, group);
    return (negative ? "-" : "") + whole + (scale ? decimal + frac : "");
  }

  function plainUnits(units, scale) {
    return formatUnits(units, scale, "", ".");
  }

  function showComputed(output, units) {
    var scale = Number(output.dataset.scale || "0");
    if (units === null) {
      output.dataset.value = "";
      output.textContent = "—";
      return;
    }
    output.dataset.value = plainUnits(units, scale);
    output.textContent = formatUnits(units, scale, output.dataset.group || ",",
                                     output.dataset.decimal || ".");
  }

  function columnTotal(box, name, scale) {
    var total = 0n;
    box.querySelectorAll('tbody tr[data-row] [data-column="' + name + '"]').forEach(function (el) {
      var value = cellValue(el);
      if (value !== null) total += rescale(value, scale);
    });
    return total;
  }

  /* products of a line's (or the card's) own values: {"multiply": ["quantity", "price"]} */
  function multiply(scope, factors, scale) {
    var product = [1n, 0];
    for (var i = 0; i < factors.length; i++) {
      var el = scope.querySelector('[data-column="' + factors[i] + '"]');
      var value = el ? cellValue(el) : null;
      if (value === null) return null;
      product = [product[0] * value[0], product[1] + value[1]];
    }
    return rescale(product, scale);
  }

  function recomputeProducts(scope) {
    scope.querySelectorAll("output[data-computed]").forEach(function (output) {
      var spec = JSON.parse(output.dataset.computed || "{}");
      if (!spec.multiply) return;
      var row = output.closest("tr[data-row]");
      showComputed(output, multiply(row || scope, spec.multiply, Number(output.dataset.scale || "0")));
    });
  }

  /* sums of a child table's column kept in a field of the card:
     {"sum": {"child": "lines", "field": "amount"}} */
  function recomputeCardSums(form) {
    form.querySelectorAll("output[data-computed]").forEach(function (output) {
      var spec = JSON.parse(output.dataset.computed || "{}");
      if (!spec.sum) return;
      var box = form.querySelector('[data-child-table="' + spec.sum.child + '"]');
      if (!box) return;
      showComputed(output, columnTotal(box, spec.sum.field, Number(output.dataset.scale || "0")));
    });
  }

  function recompute(box) {
    var group = box.dataset.group || ",";
    var decimal = box.dataset.decimal || ".";
    box.querySelectorAll("tbody tr[data-row]").forEach(recomputeProducts);
    box.querySelectorAll("[data-sum-for]").forEach(function (cell) {
      var scale = Number(cell.dataset.scale || "0");
      cell.textContent = formatUnits(columnTotal(box, cell.dataset.sumFor, scale), scale, group, decimal);
    });
    var form = box.closest("form");
    if (form) recomputeCardSums(form);
  }

  function setupChildTable(box) {
    if (box.dataset.ready) return;
    box.dataset.ready = "1";
    var table = box.querySelector("table");
    var tbody = table.querySelector("tbody");
    var template = box.querySelector("template");
    box.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });
    box.querySelectorAll(".no-js-only").forEach(function (el) { el.remove(); });
    box.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-row-action]");
      if (!button) return;
      var row = button.closest("tr[data-row]");
      var action = button.dataset.rowAction;
      if (action === "add" && template) {
        rowCounter += 1;
        var html = template.innerHTML.replace(/__ROW__/g, "js" + Date.now() + "_" + rowCounter);
        tbody.insertAdjacentHTML("beforeend", html);
        var added = tbody.lastElementChild;
        added.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });
        added.querySelectorAll(".no-js-only").forEach(function (el) { el.remove(); });
        if (window.htmx) htmx.process(added);
        added.querySelectorAll("[data-picker]").forEach(setupPicker);
        var first = added.querySelector("input:not([type=hidden]), select");
        if (first) first.focus();
      } else if (action === "remove" && row) {
        var next = row.nextElementSibling || row.previousElementSibling;
        row.remove();
        if (next) { var f = next.querySelector("button[data-row-action=remove]"); if (f) f.focus(); }
      } else if (action === "up" && row && row.previousElementSibling) {
        row.parentNode.insertBefore(row, row.previousElementSibling);
        button.focus();
      } else if (action === "down" && row && row.nextElementSibling) {
        row.parentNode.insertBefore(row.nextElementSibling, row);
        button.focus();
      }
      renumber(table);
      recompute(box);
    });
    box.addEventListener("input", function () { recompute(box); });
    renumber(table);
    recompute(box);
  }

  /* computed values of the card itself (not of a child table's lines) follow what is typed */
  document.addEventListener("input", function (event) {
    var form = event.target.closest ? event.target.closest("form") : null;
    if (!form || !form.querySelector("output[data-computed]")) return;
    form.querySelectorAll("output[data-computed]").forEach(function (output) {
      if (output.closest("tr[data-row]")) return;
      var spec = JSON.parse(output.dataset.computed || "{}");
      if (spec.multiply) showComputed(output, multiply(form, spec.multiply, Number(output.dataset.scale || "0")));
    });
  });

  document.addEventListener("click", function (event) {
    document.querySelectorAll(".picker-results").forEach(function (results) {
      var owner = results.closest("[data-picker], [data-multi-picker]");
      if (owner && !owner.contains(event.target)) results.innerHTML = "";
    });
  });

  /* --- lists: select all; tabs ----------------------------------------------------- */

  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-select-all]");
    if (!all) return;
    var scope = all.closest("table");
    scope.querySelectorAll('input[name="ids"]').forEach(function (box) { box.checked = all.checked; });
  });

  document.addEventListener("click", function (event) {
    var tab = event.target.closest('[role="tab"]');
    if (!tab) return;
    tab.parentNode.querySelectorAll('[role="tab"]').forEach(function (other) {
      other.setAttribute("aria-selected", other === tab ? "true" : "false");
      other.setAttribute("tabindex", other === tab ? "0" : "-1");
    });
  });

  document.addEventListener("keydown", function (event) {
    var tab = event.target.closest('[role="tab"]');
    if (!tab || (event.key !== "ArrowRight" && event.key !== "ArrowLeft")) return;
    var tabs = Array.prototype.slice.call(tab.parentNode.querySelectorAll('[role="tab"]'));
    var i = tabs.indexOf(tab) + (event.key === "ArrowRight" ? 1 : -1);
    var target = tabs[(i + tabs.length) % tabs.length];
    target.focus();
    target.click();
    event.preventDefault();
  });

  /* --- record cards: the tabs of a form layout (every panel shows without JavaScript) --- */

  function setupLayoutTabs(root) {
    root.querySelectorAll("[data-layout-tabs]").forEach(function (list) {
      list.hidden = false;
      list.querySelectorAll("[data-layout-tab]").forEach(function (tab) {
        var panel = document.getElementById(tab.getAttribute("aria-controls"));
        if (panel) panel.hidden = tab.getAttribute("aria-selected") !== "true";
      });
    });
  }

  document.addEventListener("click", function (event) {
    var tab = event.target.closest("[data-layout-tab]");
    if (!tab) return;
    tab.parentNode.querySelectorAll("[data-layout-tab]").forEach(function (other) {
      var panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) panel.hidden = other !== tab;
    });
  });

  function setup(root) {
    setupLayoutTabs(root);
    root.querySelectorAll("[data-picker]").forEach(setupPicker);
    root.querySelectorAll("[data-multi-picker]").forEach(setupMultiPicker);
    root.querySelectorAll("[data-child-table]").forEach(setupChildTable);
  }

  document.addEventListener("DOMContentLoaded", function () { setup(document); });
  document.addEventListener("htmx:afterSettle", function (event) { setup(event.target); });
})();
