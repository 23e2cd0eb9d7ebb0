/* Recordbase form designer: dragging (SortableJS in pointer mode, so mouse, pen and touch
   work alike), resizing and keys. The server is the source of truth: every drop, key or
   button is one operation POSTed to the designer, which answers with the workspace
   rendered again; this script only swaps it in, keeps the focus and announces the result.
   Without this script every control is a plain form that works the same. */
(function () {
  "use strict";

  var root = document.getElementById("designer");
  if (!root || !window.Sortable) return;
  var live = document.getElementById("designer-live");
  var opUrl = root.dataset.opUrl;
  var viewUrl = root.dataset.viewUrl;
  var isList = root.dataset.list === "1";
  var sortables = [];
  var pointer = { x: 0, y: 0 };
  var grab = { cols: 0 };
  var queue = Promise.resolve();

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function work() { return root.querySelector(".d-work"); }
  function activeTab() { var w = work(); return w ? w.dataset.activeTab || "" : ""; }
  function selectedId() { var w = work(); return w ? w.dataset.selected || "" : ""; }

  /* ``url`` with the tab on show and the selected element added to its query (it may
     carry ?role= already) */
  function withView(url, extra) {
    var target = new URL(url, window.location.href);
    var tab = (extra && extra.tab) || activeTab();
    var sel = extra && "selected" in extra ? extra.selected : selectedId();
    if (tab) target.searchParams.set("tab", tab);
    if (sel) target.searchParams.set("selected", sel);
    else target.searchParams.delete("selected");
    return target.pathname + target.search;
  }

  function announce(text) {
    if (!live) return;
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  function showMessage(html) {
    var box = document.getElementById("messages");
    if (box) box.innerHTML = html;
  }

  function swap(html, focusHint) {
    var focusedId = document.activeElement && root.contains(document.activeElement) ? document.activeElement.id : "";
    root.innerHTML = html;
    var w = work();
    if (w && w.dataset.message) announce(w.dataset.message);
    setup();
    var sel = selectedId();
    var target = null;
    if (focusHint) target = root.querySelector(focusHint);
    if (!target && sel) target = root.querySelector('.d-el[data-id="' + sel + '"]');
    if (!target && focusedId) target = document.getElementById(focusedId);
    if (target && target.disabled) {
      var holder = target.closest(".d-column, .d-section-head, .d-tab-tools");
      target = holder ? holder.querySelector("button:not([disabled])") : null;
    }
    if (!target) target = root.querySelector('.d-tab[aria-selected="true"]') || root.querySelector(".d-column button:not([disabled])");
    if (target) target.focus();
  }

  /* operations run one after another, in the order they were asked for: a key held down
     or pressed quickly is never lost and never overtakes the one before */
  function send(url, body, focusHint) {
    queue = queue.then(function () { return post(url, body, focusHint); });
    return queue;
  }

  function post(url, body, focusHint) {
    root.setAttribute("aria-busy", "true");
    var headers = { "X-CSRF-Token": csrfToken(), "X-Designer-Fragment": "1", "HX-Request": "true" };
    if (!(body instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(body);
    }
    return fetch(url, { method: "POST", headers: headers, body: body, credentials: "same-origin" })
      .then(function (response) {
        var redirect = response.headers.get("HX-Redirect");
        if (redirect) { window.location.href = redirect; return; }
        return response.text().then(function (text) {
          if (response.headers.get("X-Designer-Fragment")) {
            swap(text, focusHint);
          } else {
            showMessage(text);
            refresh();
          }
        });
      })
      .catch(function () {
        var p = document.createElement("p");
        p.className = "message error";
        p.textContent = root.dataset.offline || "";
        var box = document.getElementById("messages");
        if (box) { box.innerHTML = ""; box.appendChild(p); }
      })
      .then(function () { root.removeAttribute("aria-busy"); });
  }

  function operate(args, focusHint) {
    if (isList) return send(opUrl, args, focusHint);
    return send(withView(opUrl, { selected: args.id || selectedId() }), args, focusHint);
  }

  function refresh(extra) {
    var url = isList ? window.location.pathname + window.location.search : withView(viewUrl, extra);
    return fetch(url, { headers: { "X-Designer-Fragment": "1" }, credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (text) { swap(text); });
  }

  /* --- tabs of the canvas ------------------------------------------------------------ */

  function showTab(tabId) {
    var w = work();
    if (!w || !tabId) return;
    w.dataset.activeTab = tabId;
    root.querySelectorAll(".d-tab").forEach(function (tab) {
      var on = tab.dataset.tabId === tabId;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.setAttribute("tabindex", on ? "0" : "-1");
    });
    root.querySelectorAll(".d-panel").forEach(function (panel) {
      panel.hidden = panel.dataset.tab !== tabId;
    });
    /* the palette's Place buttons follow the tab on show */
    var place = root.querySelector("#d-place-section");
    var shown = document.getElementById("dpanel-" + tabId);
    var first = shown ? shown.querySelector(".d-section") : null;
    if (place && first && !selectedId()) place.value = first.dataset.section;
  }

  root.addEventListener("click", function (event) {
    var tab = event.target.closest(".d-tab");
    if (tab) { showTab(tab.dataset.tabId); return; }
    var el = event.target.closest(".d-el");
    if (el && !event.target.closest(".d-resize")) select(el.dataset.id);
  });

  function select(id) {
    refresh({ selected: id });
  }

  /* --- keys on an element ------------------------------------------------------------ */

  var KEYS = { ArrowUp: "up", ArrowDown: "down", ArrowLeft: "left", ArrowRight: "right" };

  root.addEventListener("keydown", function (event) {
    var el = event.target.closest(".d-el");
    if (!el || event.target !== el) return;
    var id = el.dataset.id;
    if (event.key === "Enter" || event.key === " ") {
      select(id);
    } else if ((event.shiftKey && event.key === "ArrowRight") || event.key === "+" || event.key === "=") {
      operate({ op: "resize", id: id, delta: 1 });
    } else if ((event.shiftKey && event.key === "ArrowLeft") || event.key === "-") {
      operate({ op: "resize", id: id, delta: -1 });
    } else if (KEYS[event.key]) {
      operate({ op: "nudge", id: id, direction: KEYS[event.key] });
    } else if (event.key === "Delete" || event.key === "Backspace") {
      operate({ op: "remove", id: id }, "#d-palette-heading");
    } else {
      return;
    }
    event.preventDefault();
  });

  /* --- every form of the workspace goes through fetch ------------------------------------ */

  root.addEventListener("submit", function (event) {
    var form = event.target;
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post") return;
    if (new URL(form.action).pathname !== new URL(opUrl, window.location.href).pathname) return;  /* save, discard: a normal page load */
    event.preventDefault();
    var data = new FormData(form, event.submitter || undefined);
    var hint = null;
    if (data.get("op") === "add_tab") hint = ".d-tab:last-child";
    if (data.get("op") === "remove") hint = "#d-palette-heading";
    if (event.submitter && event.submitter.id) hint = "#" + event.submitter.id;
    send(isList ? form.action : withView(form.action), data, hint);
  });

  /* --- dragging ------------------------------------------------------------------------ */

  function track(event) {
    var point = event.touches ? event.touches[0] : event;
    if (!point) return;
    pointer.x = point.clientX;
    pointer.y = point.clientY;
  }
  ["pointermove", "mousemove", "touchmove", "pointerdown", "mousedown"].forEach(function (name) {
    document.addEventListener(name, track, { passive: true, capture: true });
  });

  function under() {
    var hit = document.elementFromPoint(pointer.x, pointer.y);
    var found = hit ? hit.closest(".d-row, .d-palette-list, .d-tab, .d-section") : null;
    /* a drop on a section but beside its rows: a new row at its end */
    if (found && found.classList.contains("d-section")) found = found.querySelector(".d-newrow");
    return found;
  }

  function columnAt(row, width) {
    var box = row.getBoundingClientRect();
    var col = Math.floor((pointer.x - box.left) / (box.width / 12)) - grab.cols;
    return Math.max(0, Math.min(col, 12 - Math.min(width, 12)));
  }

  var mark = null;
  function showMark(row, width) {
    clearMark();
    if (!row || !row.classList.contains("d-row")) return;
    row.classList.add("d-over");
    var col = columnAt(row, width);
    mark = document.createElement("div");
    mark.className = "d-drop-mark";
    mark.style.left = (col * 100 / 12) + "%";
    mark.style.width = (width * 100 / 12) + "%";
    row.appendChild(mark);
  }
  function clearMark() {
    root.querySelectorAll(".d-over").forEach(function (el) { el.classList.remove("d-over"); });
    if (mark && mark.parentNode) mark.parentNode.removeChild(mark);
    mark = null;
  }

  var dragging = null;

  function onMove() {
    if (!dragging) return;
    var target = under();
    clearMark();
    if (!target) return;
    if (target.classList.contains("d-tab")) {
      showTab(target.dataset.tabId);  /* spring-loaded: hovering a tab opens it */
      target.classList.add("d-over");
    } else if (target.classList.contains("d-row")) {
      showMark(target, dragging.width);
    } else {
      target.classList.add("d-over");
    }
  }
  document.addEventListener("pointermove", onMove, { passive: true });
  document.addEventListener("mousemove", onMove, { passive: true });

  function startDrag(evt) {
    var item = evt.item;
    var width = Number(item.dataset.width || (item.dataset.kind === "divider" || item.dataset.kind === "related" || item.dataset.kind === "child_table" ? 12 : 6));
    grab.cols = 0;
    if (item.classList.contains("d-el")) {
      var row = item.parentNode.getBoundingClientRect();
      var box = item.getBoundingClientRect();
      grab.cols = Math.max(0, Math.floor((pointer.x - box.left) / (row.width / 12)));
    }
    dragging = { item: item, width: width };
  }

  function dropArgs(item, target) {
    var fromPalette = item.classList.contains("d-item");
    if (target.classList.contains("d-palette-list")) {
      return fromPalette ? null : [{ op: "remove", id: item.dataset.id }, "#d-palette-heading"];
    }
    if (target.classList.contains("d-tab")) {
      var panel = document.getElementById("dpanel-" + target.dataset.tabId);
      var section = panel ? panel.querySelector(".d-section") : null;
      if (!section) return null;
      if (fromPalette) {
        var rows = section.querySelectorAll(".d-row");
        target = rows[rows.length - 1];
      } else {
        return [{ op: "to_section", id: item.dataset.id, section: section.dataset.section }];
      }
    }
    var args = {
      section: target.dataset.section,
      row: Number(target.dataset.row),
      col: columnAt(target, dragging.width),
      insert: target.dataset.insert === "1"
    };
    if (fromPalette) {
      args.op = "place";
      args.type = item.dataset.kind;
      if (item.dataset.field) args.field = Number(item.dataset.field);
      if (item.dataset.entity) args.entity = item.dataset.entity;
      if (args.type === "image") {
        var file = root.querySelector("#d-place-file");
        args.file = file && file.value ? file.value : null;
      }
    } else {
      args.op = "move";
      args.id = item.dataset.id;
    }
    return [args];
  }

  function endDrag(evt) {
    var target = under();
    clearMark();
    var item = dragging ? dragging.item : evt.item;
    var args = target && dragging ? dropArgs(item, target) : null;
    dragging = null;
    if (args) operate(args[0], args[1]); else refresh();
  }

  function resizeStart(event) {
    var handle = event.target.closest(".d-resize");
    if (!handle) return;
    event.preventDefault();
    event.stopPropagation();
    var el = handle.closest(".d-el");
    var row = el.parentNode.getBoundingClientRect();
    var left = el.getBoundingClientRect().left;
    var old = Number(el.dataset.width);
    var width = old;
    function move(e) {
      var x = e.clientX;
      width = Math.max(1, Math.min(12, Math.round((x - left) / (row.width / 12))));
      el.style.gridColumnEnd = "span " + width;
    }
    function up() {
      document.removeEventListener("pointermove", move);
      document.removeEventListener("pointerup", up);
      if (width !== old) operate({ op: "resize", id: el.dataset.id, width: width });
      else el.style.gridColumnEnd = "";
    }
    document.addEventListener("pointermove", move);
    document.addEventListener("pointerup", up);
  }

  var COMMON = {
    animation: 0,
    forceFallback: true,
    fallbackTolerance: 3,
    filter: ".d-resize, button, input, select, textarea, label",
    preventOnFilter: false,
    ghostClass: "d-ghost"
  };

  function sortable(el, options) {
    var merged = {};
    Object.keys(COMMON).forEach(function (k) { merged[k] = COMMON[k]; });
    Object.keys(options).forEach(function (k) { merged[k] = options[k]; });
    sortables.push(window.Sortable.create(el, merged));
  }

  function setupForm() {
    var palette = root.querySelector(".d-palette-list");
    if (palette) {
      sortable(palette, {
        group: { name: "layout", pull: "clone", put: true },
        sort: false,
        draggable: ".d-item",
        onStart: startDrag,
        onEnd: endDrag
      });
    }
    root.querySelectorAll(".d-row").forEach(function (row) {
      sortable(row, {
        group: { name: "layout", pull: true, put: true },
        draggable: ".d-el",
        onStart: startDrag,
        onEnd: endDrag
      });
    });
    root.querySelectorAll(".d-sections").forEach(function (list) {
      sortable(list, {
        group: "sections",
        draggable: ".d-section",
        handle: ".d-handle",
        onEnd: function (evt) {
          if (evt.from === evt.to && evt.oldDraggableIndex === evt.newDraggableIndex) return;
          operate({ op: "move_section", section: evt.item.dataset.section, tab: evt.to.dataset.tab,
                    index: evt.newDraggableIndex });
        }
      });
    });
    root.querySelectorAll(".d-tabs").forEach(function (list) {
      sortable(list, {
        group: "tabs",
        draggable: ".d-tab",
        onEnd: function (evt) {
          if (evt.oldDraggableIndex === evt.newDraggableIndex) return;
          operate({ op: "move_tab", tab: evt.item.dataset.tabId, index: evt.newDraggableIndex },
                  '.d-tab[data-tab-id="' + evt.item.dataset.tabId + '"]');
        }
      });
    });
    root.querySelectorAll(".d-resize").forEach(function (handle) {
      handle.addEventListener("pointerdown", resizeStart);
    });
  }

  function setupList() {
    root.querySelectorAll(".d-columns-list").forEach(function (list) {
      sortable(list, {
        draggable: ".d-column",
        handle: ".d-handle",
        onEnd: function (evt) {
          if (evt.oldDraggableIndex === evt.newDraggableIndex) return;
          operate({ op: "move_column", field: Number(evt.item.dataset.field), index: evt.newDraggableIndex },
                  '.d-column[data-field="' + evt.item.dataset.field + '"] button:not([disabled])');
        }
      });
    });
  }

  function setup() {
    sortables.forEach(function (s) { s.destroy(); });
    sortables = [];
    if (isList) setupList(); else setupForm();
  }

  setup();
})();
