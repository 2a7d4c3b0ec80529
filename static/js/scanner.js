/* Card scanner: camera, photo or hardware scanner → the server resolves the household.
 *
 * On success it fires  document "merit:household"  with the household JSON as detail;
 * a card that opens nothing fires  document "merit:scan-error"  with {error, status}.
 * The camera needs a secure context (HTTPS or localhost); on http://192.168.x.x only the
 * photo button and the text box work. The browser's BarcodeDetector is used where it
 * exists; otherwise the vendored qr-scanner library is loaded, only when first needed.
 */
(function () {
  "use strict";
  if (window.meritScanner) return; // the partial may be included more than once
  window.meritScanner = true;

  var libPromise = null;

  function loadLibrary(url) {
    if (window.QrScanner) return Promise.resolve(window.QrScanner);
    if (!libPromise) {
      libPromise = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = url;
        script.async = true;
        script.onload = function () {
          if (window.QrScanner) resolve(window.QrScanner);
          else reject(new Error("qr-scanner did not load"));
        };
        script.onerror = function () {
          libPromise = null;
          reject(new Error("qr-scanner could not be fetched"));
        };
        document.head.appendChild(script);
      });
    }
    return libPromise;
  }

  function nativeDetector() {
    if (!("BarcodeDetector" in window)) return Promise.resolve(null);
    return window.BarcodeDetector.getSupportedFormats()
      .then(function (formats) {
        return formats.indexOf("qr_code") >= 0
          ? new window.BarcodeDetector({ formats: ["qr_code"] })
          : null;
      })
      .catch(function () { return null; });
  }

  function setup(root) {
    var resolveUrl = root.getAttribute("data-resolve-url");
    var libUrl = root.getAttribute("data-lib-url");
    var input = root.querySelector("[data-scan-input]");
    var status = root.querySelector("[data-scan-status]");
    var liveButton = root.querySelector("[data-scan-live]");
    var photoLabel = root.querySelector("[data-scan-photo-label]");
    var photoInput = root.querySelector("[data-scan-photo]");
    var view = root.querySelector("[data-scan-view]");
    var video = root.querySelector("[data-scan-video]");
    var stopButton = root.querySelector("[data-scan-stop]");
    var stopCamera = null;
    var busy = false;

    function msg(name) { return root.getAttribute("data-msg-" + name) || ""; }

    function say(text, kind) {
      status.textContent = text;
      status.className = "scanner-status" + (kind ? " scanner-status-" + kind : "");
      status.setAttribute("role", kind === "error" ? "alert" : "status");
    }

    function resolve(text) {
      text = (text || "").trim();
      if (!text) return;
      if (busy) return; // one lookup at a time
      busy = true;
      say(msg("looking"), "busy");
      var url = resolveUrl + (resolveUrl.indexOf("?") >= 0 ? "&" : "?") + "u=" + encodeURIComponent(text);
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          if (type.indexOf("application/json") < 0) {
            say(msg("login"), "error");
            return null;
          }
          return response.json();
        })
        .then(function (body) {
          if (!body) return;
          if (body.household) {
            say(msg("found").replace("{name}", body.household.head_name), "ok");
            if (input) input.value = "";
            document.dispatchEvent(new CustomEvent("merit:household", { detail: body.household }));
          } else {
            say(body.error || msg("failed"), "error");
            document.dispatchEvent(new CustomEvent("merit:scan-error", { detail: body }));
          }
        })
        .catch(function () { say(msg("failed"), "error"); })
        .then(function () { busy = false; });
    }

    // -- the text box: a hardware scanner types the URL and presses Enter --------------
    if (input) {
      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter") {
          event.preventDefault(); // never submit a surrounding form
          resolve(input.value);
        }
      });
    }

    // A scanner that types while nothing is focused: fast keys ending in Enter.
    var burst = "";
    var burstAt = 0;
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      var tag = target && target.tagName;
      if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) return;
      var now = Date.now();
      if (now - burstAt > 80) burst = "";
      burstAt = now;
      if (event.key === "Enter") {
        if (burst.length >= 10 && /\/c\/|^[A-Z0-9_-]+-\d+-\d+$/i.test(burst)) {
          event.preventDefault();
          resolve(burst);
        }
        burst = "";
      } else if (event.key.length === 1) {
        burst += event.key;
      }
    });

    // -- a photo: works on plain http too --------------------------------------------
    if (photoLabel && photoInput) {
      photoLabel.hidden = false;
      photoInput.addEventListener("change", function () {
        var file = photoInput.files && photoInput.files[0];
        if (!file) return;
        say(msg("looking"), "busy");
        decodeImage(file)
          .then(function (text) {
            photoInput.value = "";
            if (text) resolve(text);
            else say(msg("no-code"), "error");
          })
          .catch(function () {
            photoInput.value = "";
            say(msg("no-code"), "error");
          });
      });
    }

    function decodeImage(file) {
      return nativeDetector().then(function (detector) {
        if (detector && window.createImageBitmap) {
          return window.createImageBitmap(file).then(function (bitmap) {
            return detector.detect(bitmap).then(function (codes) {
              return codes.length ? codes[0].rawValue : null;
            });
          });
        }
        return loadLibrary(libUrl).then(function (QrScanner) {
          return QrScanner.scanImage(file, { returnDetailedScanResult: true })
            .then(function (result) { return result.data; })
            .catch(function () { return null; });
        });
      });
    }

    // -- the live camera: secure contexts only ----------------------------------------
    var cameraPossible = window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
    if (liveButton && cameraPossible) {
      liveButton.hidden = false;
      liveButton.addEventListener("click", startCamera);
    } else if (photoLabel) {
      photoLabel.classList.add("btn-primary"); // the photo is the main way in then
    }
    if (stopButton) stopButton.addEventListener("click", function () { halt(); say("", ""); });

    function halt() {
      if (stopCamera) stopCamera();
      stopCamera = null;
      if (view) view.hidden = true;
    }

    function found(text) {
      halt();
      resolve(text);
    }

    function startCamera() {
      if (stopCamera) return;
      view.hidden = false;
      say(msg("scanning"), "busy");
      nativeDetector().then(function (detector) {
        return detector ? nativeCamera(detector) : libraryCamera();
      }).catch(function () {
        halt();
        say(msg("no-camera"), "error");
      });
    }

    function nativeCamera(detector) {
      return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (stream) {
          var running = true;
          video.srcObject = stream;
          video.play();
          stopCamera = function () {
            running = false;
            stream.getTracks().forEach(function (track) { track.stop(); });
            video.srcObject = null;
          };
          (function tick() {
            if (!running) return;
            if (video.readyState < 2) { setTimeout(tick, 150); return; }
            detector.detect(video).then(function (codes) {
              if (!running) return;
              if (codes.length) found(codes[0].rawValue);
              else setTimeout(tick, 150);
            }).catch(function () { setTimeout(tick, 300); });
          })();
        });
    }

    function libraryCamera() {
      return loadLibrary(libUrl).then(function (QrScanner) {
        var scanner = new QrScanner(video, function (result) { found(result.data); }, {
          returnDetailedScanResult: true,
          preferredCamera: "environment",
          maxScansPerSecond: 8,
        });
        stopCamera = function () { scanner.stop(); scanner.destroy(); };
        return scanner.start();
      });
    }
  }

  function init() {
    var roots = document.querySelectorAll("[data-scanner]");
    for (var i = 0; i < roots.length; i++) setup(roots[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
