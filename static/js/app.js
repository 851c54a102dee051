// CareerPrep enhancements: drill keyboard shortcuts, focus on the new card, announcements.
// Everything here is optional: every page works with plain links and forms.
(function () {
  "use strict";

  // Keys typed into text go to the text. Checkboxes, radios and buttons are not typing: after
  // ticking key points the rating keys must still work.
  var NOT_TEXT = { checkbox: 1, radio: 1, button: 1, submit: 1, reset: 1, range: 1, color: 1, file: 1 };

  function isTyping(el) {
    if (!el) return false;
    var tag = el.tagName;
    if (tag === "INPUT") return !NOT_TEXT[(el.type || "text").toLowerCase()];
    return el.isContentEditable || tag === "TEXTAREA" || tag === "SELECT";
  }

  function announce(text) {
    var status = document.getElementById("status");
    if (!status || !text) return;
    status.textContent = "";
    // A fresh text node each time so screen readers announce repeats too.
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  function focusCard() {
    var card = document.getElementById("card");
    if (!card) return;
    var heading = card.querySelector(".card-heading");
    if (heading) heading.focus({ preventScroll: false });
    announce(card.getAttribute("data-announce"));
  }

  // While htmx is swapping the card, the new buttons exist before htmx has bound them; a key
  // pressed then would fall back to a full page submit. Hold it and run it once the card settles.
  var swapping = false;
  var pending = null;

  function act(fn) {
    if (swapping) pending = fn;
    else fn();
  }

  function clickIn(selector) {
    var el = document.querySelector(selector);
    if (el && !el.disabled) el.click();
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented) return;
    var card = document.getElementById("card");
    if (!card) return;
    // Ctrl/Cmd+Enter in an answer box (the draft, a predicted output, code) reveals or checks it.
    var answerBox = event.target.closest && event.target.closest("[data-answer]");
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && answerBox) {
      event.preventDefault();
      act(function () { clickIn("#card #reveal"); });
      return;
    }
    if (isTyping(event.target)) return;
    // A line of a spot-the-bug listing: arrows move between lines, Space chooses (the checkbox's own
    // behaviour), Enter checks the answer.
    var line = event.target.closest && event.target.closest("[data-line-picker] input");
    if (line && !event.altKey && !event.ctrlKey && !event.metaKey) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        var lines = Array.prototype.slice.call(line.closest("[data-line-picker]").querySelectorAll("input"));
        var next = lines[lines.indexOf(line) + (event.key === "ArrowDown" ? 1 : -1)];
        event.preventDefault();
        if (next) next.focus();
        return;
      }
      if (event.key === " ") return;
      if (event.key === "Enter") {
        event.preventDefault();
        act(function () { clickIn("#card #reveal"); });
        return;
      }
    }
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "z") {
      event.preventDefault();
      act(function () { clickIn("#card #undo"); });
      return;
    }
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var key = event.key;
    if (key === "u") {
      event.preventDefault();
      act(function () { clickIn("#card #undo"); });
      return;
    }
    if (key === "d") {
      var draft = card.querySelector("[data-answer]");
      if (draft) {
        event.preventDefault();
        draft.focus();
      }
      return;
    }
    if (key === "?") {
      var help = document.getElementById("shortcuts");
      if (help && typeof help.showModal === "function") {
        event.preventDefault();
        if (!help.open) help.showModal();
      }
      return;
    }
    if (key === " " || key === "Enter") {
      var reveal = card.querySelector("#reveal");
      // Enter on a focused link or button already activates it: leave that to the browser.
      var onControl = event.target.closest && event.target.closest("a, button, summary");
      if (swapping || (reveal && !(key === "Enter" && onControl))) {
        event.preventDefault();
        act(function () {
          var current = document.querySelector("#card #reveal");
          if (current) current.click();
        });
      }
      return;
    }
    if (/^[1-4]$/.test(key)) {
      if (!swapping && !card.querySelector('button[name="rating"]')) return;
      event.preventDefault();
      act(function () {
        var button = document.querySelector('#card button[name="rating"][value="' + key + '"]');
        if (button && !button.disabled) button.click();
      });
    }
  });

  // The key-point checklist suggests a rating. The rule lives on the server (practice/rating.py): the
  // rating form carries the suggestion for 0, 1, ... n key points ticked in data-suggestions.
  var LABELS = { 1: "Again", 2: "Hard", 3: "Good", 4: "Easy" };

  function suggestionFor(form, ticked) {
    var table = (form.dataset.suggestions || "").split(",");
    return Number(table[Math.min(ticked, table.length - 1)]) || 3;
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches('#card input[name="covered"]')) return;
    var form = box.form;
    var boxes = form.querySelectorAll('input[name="covered"]');
    var ticked = form.querySelectorAll('input[name="covered"]:checked').length;
    var rating = suggestionFor(form, ticked);
    form.querySelectorAll('button[name="rating"]').forEach(function (button) {
      var on = button.value === String(rating);
      button.classList.toggle("suggested", on);
      if (on) button.setAttribute("aria-describedby", "suggestion");
      else button.removeAttribute("aria-describedby");
    });
    var text = document.getElementById("suggestion");
    if (text) {
      text.textContent = "Suggested: " + LABELS[rating] + " (" + ticked + " of " + boxes.length +
        " key points). Press " + rating + " to accept, or choose another rating.";
    }
  });

  // A code box: Tab inserts four spaces and Shift+Tab removes up to four before the caret's line.
  // Escape first, then Tab, leaves the box as usual (so the keyboard is never trapped).
  var INDENT = "    ";
  var escaped = null;

  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("textarea[data-tab-indent]")) return;
    if (event.key === "Escape") { escaped = box; return; }
    if (event.key !== "Tab" || event.ctrlKey || event.altKey || event.metaKey) { escaped = null; return; }
    if (escaped === box) { escaped = null; return; }
    event.preventDefault();
    var start = box.selectionStart;
    var end = box.selectionEnd;
    var text = box.value;
    if (event.shiftKey) {
      var lineStart = text.lastIndexOf("\n", start - 1) + 1;
      var spaces = /^ {0,4}/.exec(text.slice(lineStart))[0].length;
      if (!spaces) return;
      box.setRangeText("", lineStart, lineStart + spaces, "preserve");
      box.setSelectionRange(Math.max(lineStart, start - spaces), Math.max(lineStart, end - spaces));
    } else {
      box.setRangeText(INDENT, start, end, "end");
    }
  }, true);

  // The browser's time zone: filled in at sign-up, and offered on the account page when it differs.
  function browserZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return ""; }
  }

  function offerZone() {
    var zone = browserZone();
    document.querySelectorAll("input[data-browser-zone]").forEach(function (input) { input.value = zone; });
    var offer = document.querySelector(".zone-offer");
    if (!offer || !zone || zone === offer.getAttribute("data-account-zone")) return;
    offer.querySelector('input[name="timezone"]').value = zone;
    offer.querySelectorAll(".browser-zone").forEach(function (el) { el.textContent = zone; });
    offer.hidden = false;
  }

  // A page load lands focus on the card (or the mock question's answer box), as each swap does.
  function focusOnLoad() {
    if (document.activeElement && document.activeElement !== document.body) return;
    var answer = document.querySelector("#mock.mock-question [data-line-picker] input, #mock.mock-question [data-answer]");
    if (answer) { answer.focus({ preventScroll: true }); return; }
    var heading = document.querySelector("#card .card-heading");
    if (heading) heading.focus({ preventScroll: true });
  }

  function ready() { offerZone(); focusOnLoad(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();

  function targetsCard(event) {
    var target = event.detail && event.detail.target;
    return !!(target && target.id === "card");
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (targetsCard(event)) swapping = true;
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    // A failed request swaps nothing into the card: stop holding keys.
    if (targetsCard(event) && !event.detail.successful) swapping = false;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!targetsCard(event)) return;
    swapping = false;
    focusCard();
    if (pending) {
      var next = pending;
      pending = null;
      next();
    }
  });
})();
