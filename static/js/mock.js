// Mock interviews: a live countdown per question (auto-submits when time is up) and, on the results
// page, the suggested rating selected as key points are ticked. Without JavaScript the page states the
// time allowed and the server applies the suggestion to questions left unrated.
(function () {
  "use strict";

  var tick = null;

  function announce(text) {
    var status = document.getElementById("status");
    if (!status || !text) return;
    status.textContent = "";
    // A fresh text node each time so screen readers announce repeats too.
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  function clock(seconds) {
    var rest = seconds % 60;
    return Math.floor(seconds / 60) + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function startTimer(root) {
    if (tick) window.clearInterval(tick);
    tick = null;
    var timer = root && root.querySelector('[role="timer"]');
    if (!timer) return;
    var remaining = parseInt(timer.getAttribute("data-remaining"), 10);
    // Loaded after the time ran out (a reload): say so, but do not submit an answer never typed.
    if (!(remaining > 0)) return;
    var form = root.querySelector("#mock-answer-form");
    var deadline = Date.now() + remaining * 1000;
    var warned = remaining <= 60;
    var shown = timer.querySelector(".mock-time-left");

    function update() {
      var left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      if (left > 0 && shown) shown.textContent = clock(left);
      if (!warned && left <= 60) {
        warned = true;
        timer.classList.add("mock-time-low");
        announce("1 minute left");
      }
      if (left > 0) return;
      window.clearInterval(tick);
      tick = null;
      timer.textContent = "Time is up";
      timer.classList.add("mock-time-up");
      announce("Time is up. Submitting your answer.");
      if (!form) return;
      if (form.requestSubmit) form.requestSubmit();
      else form.submit();
    }

    tick = window.setInterval(update, 1000);
  }

  function enterQuestion(root, focus) {
    if (!root) return;
    startTimer(root);
    if (!focus) return;
    // The clock is running: focus goes straight to the answer (the first line of a listing to pick
    // from, or the answer box; the heading when there is none).
    var target = root.querySelector("[data-line-picker] input, [data-answer]") || root.querySelector("#mock-heading");
    if (target) target.focus({ preventScroll: false });
    announce(root.getAttribute("data-announce"));
  }

  // Results: keep the rating radios in step with the ticked key points until the user picks one.
  function suggest(article) {
    if (article.getAttribute("data-picked") === "true") return;
    var table = (article.getAttribute("data-suggestions") || "").split(",");
    var count = article.querySelectorAll('.mock-points input[type="checkbox"]:checked').length;
    var value = table[count];
    if (!value) return;
    var radio = article.querySelector('.mock-rating input[type="radio"][value="' + value + '"]');
    if (radio && !radio.checked) {
      radio.checked = true;
      var label = radio.parentNode.textContent.trim();
      announce("Suggested rating: " + label + ".");
    }
  }

  function markPicked(root) {
    // A rating already checked when the page loads (re-shown after an error) was the user's choice.
    var articles = (root || document).querySelectorAll(".mock-result");
    for (var i = 0; i < articles.length; i++) {
      if (articles[i].querySelector('.mock-rating input[type="radio"]:checked')) {
        articles[i].setAttribute("data-picked", "true");
      }
    }
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    var article = input.closest && input.closest(".mock-result");
    if (!article) return;
    if (input.type === "radio") article.setAttribute("data-picked", "true");
    else if (input.type === "checkbox") suggest(article);
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    if (!target) return;
    if (target.id === "mock") enterQuestion(document.getElementById("mock"), true);
    if (target.id === "results") markPicked(document.getElementById("results"));
  });

  function init() {
    enterQuestion(document.getElementById("mock"), false);
    markPicked(document);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
