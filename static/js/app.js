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
      if (reveal && !(key === "Enter" && onControl)) {
        event.preventDefault();
        reveal.click();
      }
      return;
    }
    if (/^[1-4]$/.test(key)) {
      var button = card.querySelector('button[name="rating"][value="' + key + '"]');
      if (button && !button.disabled) {
        event.preventDefault();
        button.click();
      }
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail && event.detail.target && event.detail.target.id === "card") focusCard();
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "card") focusCard();
  });
})();
