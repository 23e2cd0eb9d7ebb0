/* Recordbase: the print-template editor. The page works without this file (plain
   textareas, forms aimed at the preview frames); this adds CodeMirror with Jinja over
   HTML, inserting the palette's placeholders at the cursor, debounced previews, and
   marking the lines the server reports. No eval, no inline script. */
(function () {
  "use strict";

  var DELAY = 700;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function defineMode() {
    if (!window.CodeMirror || CodeMirror.modes["rb-jinja-html"]) return;
    CodeMirror.defineMode("rb-jinja-html", function (config) {
      return CodeMirror.overlayMode(
        CodeMirror.getMode(config, "htmlmixed"), CodeMirror.getMode(config, "jinja2"), true);
    });
  }

  function textareaEditor(area) {
    /* the same small interface as CodeMirror's, for a plain textarea */
    return {
      plain: true,
      area: area,
      getValue: function () { return area.value; },
      save: function () {},
      focus: function () { area.focus(); },
      replaceSelection: function (text) {
        var start = area.selectionStart, end = area.selectionEnd;
        area.value = area.value.slice(0, start) + text + area.value.slice(end);
        area.selectionStart = area.selectionEnd = start + text.length;
        area.dispatchEvent(new Event("input", { bubbles: true }));
      },
      on: function (name, fn) { area.addEventListener(name === "change" ? "input" : name, fn); },
      markLine: function () {},
      clearMarks: function () {},
      jumpTo: function (line) {
        var lines = area.value.split("\n").slice(0, line - 1);
        var pos = lines.reduce(function (n, l) { return n + l.length + 1; }, 0);
        area.focus();
        area.selectionStart = area.selectionEnd = pos;
      },
      refresh: function () {}
    };
  }

  function codeEditor(area, mode) {
    if (!window.CodeMirror) return textareaEditor(area);
    var cm = CodeMirror.fromTextArea(area, {
      mode: mode,
      lineNumbers: true,
      lineWrapping: true,
      indentUnit: 2,
      /* Tab leaves the editor, as everywhere else on the page */
      extraKeys: { Tab: false, "Shift-Tab": false }
    });
    cm.getWrapperElement().setAttribute("data-editor-for", area.id);
    cm.getInputField().setAttribute("aria-label", (document.querySelector('label[for="' + area.id + '"]') || {}).textContent || "");
    var marked = [];
    return {
      plain: false,
      cm: cm,
      area: area,
      getValue: function () { return cm.getValue(); },
      save: function () { cm.save(); },
      focus: function () { cm.focus(); },
      replaceSelection: function (text) { cm.replaceSelection(text); cm.focus(); },
      on: function (name, fn) { cm.on(name, fn); },
      markLine: function (line) {
        var index = Math.max(0, Math.min(line - 1, cm.lineCount() - 1));
        var handle = cm.addLineClass(index, "background", "rb-error-line");
        cm.addLineClass(index, "gutter", "rb-error-gutter");
        marked.push(handle);
      },
      clearMarks: function () {
        marked.forEach(function (handle) {
          cm.removeLineClass(handle, "background", "rb-error-line");
          cm.removeLineClass(handle, "gutter", "rb-error-gutter");
        });
        marked = [];
      },
      jumpTo: function (line) {
        cm.focus();
        cm.setCursor({ line: Math.max(0, line - 1), ch: 0 });
        cm.scrollIntoView(null, 80);
      },
      refresh: function () { cm.refresh(); }
    };
  }

  function replaceFrame(name) {
    /* a fresh frame per preview: its navigations never pile up in the page's history */
    var old = document.querySelector('iframe[name="' + name + '"]');
    if (!old) return null;
    var fresh = document.createElement("iframe");
    fresh.name = old.name;
    fresh.id = old.id;
    fresh.title = old.title;
    old.parentNode.replaceChild(fresh, old);
    return fresh;
  }

  function showProblems(box, problems, editor, message) {
    box.textContent = "";
    editor.clearMarks();
    if (!problems.length && !message) return;
    var panel = document.createElement("div");
    panel.className = "message error";
    panel.setAttribute("role", "alert");
    var list = document.createElement("ul");
    (problems.length ? problems : [{ line: null, message: message, source: "" }]).forEach(function (p) {
      var item = document.createElement("li");
      if (p.line) {
        item.dataset.line = String(p.line);
        var link = document.createElement("a");
        link.href = "#t-body";
        link.className = "problem-line";
        link.dataset.line = String(p.line);
        link.textContent = box.dataset.lineWord.replace("{n}", String(p.line));
        item.appendChild(link);
        item.appendChild(document.createTextNode(": "));
        editor.markLine(p.line);
      }
      item.appendChild(document.createTextNode(p.message));
      if (p.source) {
        item.appendChild(document.createElement("br"));
        var code = document.createElement("code");
        code.textContent = p.source;
        item.appendChild(code);
      }
      list.appendChild(item);
    });
    panel.appendChild(list);
    box.appendChild(panel);
  }

  function setup(form) {
    defineMode();
    var bodyArea = form.querySelector("#t-body");
    if (!bodyArea) return;
    var body = codeEditor(bodyArea, "rb-jinja-html");
    var cssArea = form.querySelector("#t-css");
    var css = cssArea ? codeEditor(cssArea, "css") : null;
    var lastFocused = body;
    var problems = form.querySelector("#problems");
    var status = form.querySelector("#preview-status");
    var htmlButton = form.querySelector("#preview-html-button");
    var pdfButton = form.querySelector("#preview-pdf-button");
    var timer = null;
    var sequence = 0;
    form.dataset.ready = "1";

    body.on("focus", function () { lastFocused = body; });
    if (css) css.on("focus", function () { lastFocused = css; });
    var cssBox = form.querySelector(".css-box");
    if (cssBox && css) cssBox.addEventListener("toggle", function () { css.refresh(); });

    /* lines the server marked when the page came back from a failed save */
    problems.querySelectorAll("li[data-line]").forEach(function (li) {
      var line = Number(li.dataset.line);
      if (line) body.markLine(line);
    });

    form.addEventListener("click", function (event) {
      var button = event.target.closest("button.snippet");
      if (button) {
        (lastFocused || body).replaceSelection(button.dataset.snippet);
        schedule();
        return;
      }
      var jump = event.target.closest(".problem-line");
      if (jump) {
        event.preventDefault();
        body.jumpTo(Number(jump.dataset.line));
      }
    });

    function submitTo(button, frameName) {
      if (!button || !replaceFrame(frameName)) return;
      if (form.requestSubmit) form.requestSubmit(button); else button.click();
    }

    function update() {
      body.save();
      if (css) css.save();
      var mine = ++sequence;
      status.textContent = status.dataset.checking || "";
      var data = new FormData(form);
      fetch(form.dataset.checkUrl, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrfToken(), "Accept": "application/json" }
      }).then(function (response) {
        return response.json().catch(function () {
          return { ok: false, problems: [], message: status.dataset.failed };
        });
      }).then(function (answer) {
        if (mine !== sequence) return;  /* a newer update is on its way */
        showProblems(problems, answer.problems || [], body, answer.ok ? "" : answer.message);
        if (!answer.ok) { status.textContent = status.dataset.failed || ""; return; }
        status.textContent = status.dataset.updated || "";
        form.dataset.previews = String(Number(form.dataset.previews || "0") + 1);
        submitTo(htmlButton, "preview-html");
        /* one form plans one navigation at a time: the PDF frame's comes a moment later */
        setTimeout(function () { submitTo(pdfButton, "preview-pdf"); }, 50);
      }).catch(function () {
        if (mine === sequence) status.textContent = status.dataset.failed || "";
      });
    }

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(update, DELAY);
    }

    body.on("change", schedule);
    if (css) css.on("change", schedule);
    form.querySelectorAll("select, .margins input").forEach(function (control) {
      control.addEventListener("change", schedule);
    });
    /* the preview buttons keep working by hand; Save is a normal submit */
    form.addEventListener("submit", function () {
      body.save();
      if (css) css.save();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("template-form");
    if (form && form.dataset.kind !== "docx") setup(form);
  });
})();
