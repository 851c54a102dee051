// CareerPrep enhancements: drill keyboard shortcuts, focus on the new card, announcements.
// Everything here is optional: every page works with plain links and forms.
(function () {
  "use strict";

  function isTyping(el) {
    if (!el) return false;
    var tag = el.tagName;
    return el.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
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

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    if (isTyping(event.target)) return;
    var card = document.getElementById("card");
    if (!card) return;
    var key = event.key;
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
