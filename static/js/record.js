// Record an answer out loud (templates/speech/_recorder.html): MediaRecorder (Opus in WebM or Ogg; AAC in
// MP4 on Safari before 18.4, which records nothing else), a timer and a level meter, stop, play back, record again. The recording is uploaded when it stops;
// the status fragment the server sends polls (htmx) until the transcript is ready, and the transcript
// then becomes the draft, still editable. Where the browser cannot record, or the microphone is
// refused, a message says so and the text draft stays. Key: r starts and stops.
(function () {
  "use strict";

  var TYPES = [
    "audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/ogg",
    "audio/mp4;codecs=mp4a.40.2", "audio/mp4",
  ];
  // The upload's file name says what it is (the server goes by the first bytes, never by the name).
  var EXTENSIONS = { "audio/webm": "webm", "audio/ogg": "ogg", "audio/mp4": "mp4" };
  var active = null; // the recorder element that is recording now

  function supportedType() {
    if (!window.MediaRecorder || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return null;
    if (typeof MediaRecorder.isTypeSupported !== "function") return "";
    for (var i = 0; i < TYPES.length; i++) if (MediaRecorder.isTypeSupported(TYPES[i])) return TYPES[i];
    return null;
  }

  function say(box, text, isError) {
    var status = box.querySelector("[data-status]");
    status.innerHTML = "";
    var p = document.createElement("p");
    p.className = isError ? "field-error" : "hint";
    if (isError) p.setAttribute("role", "alert");
    p.textContent = text;
    status.appendChild(p);
  }

  function clock(seconds) {
    var s = Math.floor(seconds);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function csrfToken(box) {
    var form = box.closest("form");
    var field = form && form.querySelector("input[name=csrf_token]");
    if (field) return field.value;
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function setup(box) {
    if (box.dataset.ready) return;
    box.dataset.ready = "1";
    box.hidden = false;
    var type = supportedType();
    var recordButton = box.querySelector("[data-record]");
    if (type === null) {
      recordButton.disabled = true;
      say(box, "This browser cannot record audio here. Type your answer instead.", true);
      return;
    }
    recordButton.addEventListener("click", function () { start(box, type); });
    box.querySelector("[data-stop]").addEventListener("click", function () { stop(box); });
  }

  function start(box, type) {
    if (active) return;
    var state = { chunks: [], started: 0 };
    box._rec = state;
    active = box;
    say(box, "Asking for the microphone…", false);
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      if (active !== box) { stream.getTracks().forEach(function (t) { t.stop(); }); return; }
      state.stream = stream;
      var options = { audioBitsPerSecond: 32000 };
      if (type) options.mimeType = type;
      var recorder = new MediaRecorder(stream, options);
      state.recorder = recorder;
      recorder.ondataavailable = function (event) { if (event.data && event.data.size) state.chunks.push(event.data); };
      recorder.onstop = function () { finished(box, state, recorder.mimeType || type); };
      recorder.start(1000);
      state.started = Date.now();
      meter(box, state, stream);
      var max = parseFloat(box.dataset.maxSeconds) || 300;
      var timer = box.querySelector("[data-timer]");
      timer.hidden = false;
      timer.textContent = "0:00";
      state.tick = setInterval(function () {
        var elapsed = (Date.now() - state.started) / 1000;
        timer.textContent = clock(elapsed);
        if (elapsed >= max) stop(box);
      }, 250);
      box.querySelector("[data-record]").hidden = true;
      var stopButton = box.querySelector("[data-stop]");
      stopButton.hidden = false;
      stopButton.focus();
      say(box, "Recording… answer out loud, then press Stop (or r).", false);
    }).catch(function (error) {
      active = null;
      var denied = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
      say(box, denied
        ? "Microphone access was refused. Allow the microphone for this site to record, or type your answer."
        : "No microphone could be opened. Type your answer, or check your microphone and try again.", true);
    });
  }

  function meter(box, state, stream) {
    var Context = window.AudioContext || window.webkitAudioContext;
    var level = box.querySelector("[data-level]");
    if (!Context || !level) return;
    try {
      var context = new Context();
      var analyser = context.createAnalyser();
      analyser.fftSize = 512;
      context.createMediaStreamSource(stream).connect(analyser);
      var data = new Uint8Array(analyser.fftSize);
      level.hidden = false;
      state.context = context;
      (function draw() {
        if (!state.recorder || state.recorder.state !== "recording") return;
        analyser.getByteTimeDomainData(data);
        var sum = 0;
        for (var i = 0; i < data.length; i++) { var v = (data[i] - 128) / 128; sum += v * v; }
        level.value = Math.min(1, Math.sqrt(sum / data.length) * 4);
        requestAnimationFrame(draw);
      })();
    } catch (e) { /* the meter is a nicety: recording works without it */ }
  }

  function stop(box) {
    var state = box._rec;
    if (!state || !state.recorder || state.recorder.state === "inactive") return;
    state.recorder.stop();
  }

  function finished(box, state, type) {
    clearInterval(state.tick);
    if (state.stream) state.stream.getTracks().forEach(function (t) { t.stop(); });
    if (state.context) state.context.close();
    active = null;
    box.querySelector("[data-stop]").hidden = true;
    var recordButton = box.querySelector("[data-record]");
    recordButton.hidden = false;
    box.querySelector("[data-record-label]").textContent = "Record again";
    box.querySelector("[data-level]").hidden = true;
    var blob = new Blob(state.chunks, { type: mediaType(type) });
    var playback = box.querySelector("[data-playback]");
    if (playback.src) URL.revokeObjectURL(playback.src);
    playback.src = URL.createObjectURL(blob);
    playback.hidden = false;
    upload(box, blob);
  }

  // The recording's media type without parameters; Safari may call an audio-only MP4 "video/mp4".
  function mediaType(type) {
    var bare = (type || "audio/webm").split(";")[0].trim().toLowerCase();
    return bare === "video/mp4" ? "audio/mp4" : bare;
  }

  function upload(box, blob) {
    var data = new FormData();
    data.append("audio", blob, "answer." + (EXTENSIONS[blob.type] || "webm"));
    data.append("question_id", box.dataset.question);
    if (box.dataset.mock) data.append("mock_id", box.dataset.mock);
    say(box, "Uploading your recording…", false);
    fetch(box.dataset.upload, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(box), "HX-Request": "true" },
    }).then(function (response) {
      return response.text().then(function (html) {
        if (!html || response.status >= 500 && html.indexOf("speech-status") < 0) {
          say(box, "Transcription is unavailable right now: please type your answer.", true);
          return;
        }
        var status = box.querySelector("[data-status]");
        status.innerHTML = html;
        if (window.htmx) window.htmx.process(status);
        transcriptIn(status);
      });
    }).catch(function () {
      say(box, "The recording could not be uploaded. Check your connection, then record again or type your answer.", true);
    });
  }

  // The transcript is ready: it becomes the draft (still editable) and the form carries its id.
  function transcriptIn(root) {
    var ready = root.matches && root.matches("[data-transcript-ready]") ? root : root.querySelector && root.querySelector("[data-transcript-ready]");
    if (!ready || ready.dataset.used) return;
    ready.dataset.used = "1";
    var box = ready.closest("[data-recorder]");
    var form = box && box.closest("form");
    if (!form) return;
    var draft = form.querySelector("textarea[data-answer]");
    if (draft) {
      draft.value = ready.dataset.transcript;
      draft.dispatchEvent(new Event("input", { bubbles: true }));
    }
    box.querySelector("[data-recording-id]").value = ready.dataset.recording;
  }

  function setupAll(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("[data-recorder]").forEach(setup);
    if (root.matches && root.matches("[data-recorder]")) setup(root);
  }

  document.addEventListener("DOMContentLoaded", function () { setupAll(document); });
  document.addEventListener("htmx:load", function (event) {
    setupAll(event.detail.elt);
    transcriptIn(event.detail.elt);
  });

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.key !== "r") return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var box = active || document.querySelector("[data-recorder]:not([hidden])");
    if (!box) return;
    var button = box.querySelector(active ? "[data-stop]" : "[data-record]");
    if (button && !button.hidden && !button.disabled) {
      event.preventDefault();
      button.click();
    }
  });
})();
