// Keep one session's page current by polling the JSON API: the QR as WhatsApp rotates it,
// "connected as …" once the phone scans, and the reconnect / logout / pairing-code actions.
(function () {
  "use strict";

  var POLL_MS = 1000;
  var root = document.getElementById("session");
  var base = root.dataset.api + "/sessions/" + encodeURIComponent(root.dataset.agent);
  var shownQr = null;
  var started = false;

  function byId(id) {
    return document.getElementById(id);
  }

  function say(text) {
    byId("message").textContent = text;
  }

  function call(method, path, body) {
    var options = { method: method, credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(base + path, options).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          var error = (data && data.error) || {};
          throw new Error((error.code || response.status) + ": " + (error.message || response.statusText));
        }
        return data;
      });
    });
  }

  function render(body) {
    var live = body.liveState || {};
    byId("status").textContent = body.status;
    byId("live-state").textContent = live.sessionState || "not started";
    byId("host").textContent = live.host || "—";
    byId("last-connected").textContent = body.lastConnectedAt || "—";
    byId("reason").hidden = !live.reason;
    byId("reason").textContent = live.reason || "";
    byId("connected").hidden = !live.isReady;
    byId("linking").hidden = !!live.isReady;
    if (live.isReady) {
      byId("phone").textContent = body.linkedPhone ? "+" + body.linkedPhone : "this WhatsApp account";
      byId("pairing-code").hidden = true;
      shownQr = null;
      return;
    }
    var img = byId("qr");
    if (live.qr && body.qr && live.qr !== shownQr) {
      img.src = "data:image/png;base64," + body.qr.base64;
      img.dataset.qr = live.qr;
      shownQr = live.qr;
    }
    img.hidden = !live.qr;
    byId("qr-waiting").hidden = !!live.qr;
    if (live.pairingCode) {
      byId("pairing-code").textContent = "Pairing code: " + live.pairingCode;
      byId("pairing-code").hidden = false;
    }
  }

  function ensureRunning(body) {
    // A session nobody started (or one a host dropped) only gets a QR once it is asked for.
    var live = body.liveState || {};
    if (started || live.isReady || live.qr) return;
    started = true;
    call("POST", "/qr?wait=30").catch(function (err) {
      if (String(err.message).indexOf("ALREADY_CONNECTED") !== 0) say(err.message);
    });
  }

  function poll() {
    call("GET", "")
      .then(function (body) {
        render(body);
        ensureRunning(body);
      })
      .catch(function (err) {
        say("Could not refresh: " + err.message);
      })
      .then(function () {
        window.setTimeout(poll, POLL_MS);
      });
  }

  byId("pairing").addEventListener("submit", function (event) {
    event.preventDefault();
    say("Asking WhatsApp for a pairing code…");
    call("POST", "/pairing-code", { phoneNumber: byId("phone-number").value })
      .then(function (data) {
        byId("pairing-code").textContent = "Pairing code: " + data.code + " — enter it on the phone with number +" + data.phoneNumber;
        byId("pairing-code").hidden = false;
        say("");
      })
      .catch(function (err) {
        say(err.message);
      });
  });

  byId("reconnect").addEventListener("click", function () {
    if (!window.confirm("Log this WhatsApp out and show a new QR code?")) return;
    say("Reconnecting…");
    call("POST", "/reconnect?wait=0")
      .then(function () {
        say("Restarted: scan the new QR code.");
      })
      .catch(function (err) {
        say(err.message);
      });
  });

  byId("logout").addEventListener("click", function () {
    if (!window.confirm("Log this WhatsApp account out of the gateway?")) return;
    say("Logging out…");
    call("POST", "/logout")
      .then(function () {
        say("Logged out.");
      })
      .catch(function (err) {
        say(err.message);
      });
  });

  poll();
})();
