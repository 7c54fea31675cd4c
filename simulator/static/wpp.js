/*
 * The simulator's window.WPP: the subset of @wppconnect/wa-js 4.6.0 that the gateway bridge
 * uses, with the same names and parameter lists, backed by the simulator server instead of
 * WhatsApp. Server → page pushes come over one EventSource; page → server calls are fetches.
 */
(function () {
  "use strict";

  var listeners = {};
  var page = {
    authenticated: false,
    mainReady: false,
    authCode: null,
    me: null,
    lid: null,
    pushname: null,
    readyDelay: 50,
    helloSeen: false,
  };
  var deviceId = localStorage.getItem("wagwSim.deviceId");
  if (!deviceId) {
    deviceId = crypto.randomUUID();
    localStorage.setItem("wagwSim.deviceId", deviceId);
  }
  var seqKey = "wagwSim.lastSeq." + deviceId;

  function emit(event) {
    var args = Array.prototype.slice.call(arguments, 1);
    (listeners[event] || []).slice().forEach(function (listener) {
      try {
        listener.apply(null, args);
      } catch (err) {
        console.error("WPP listener for " + event + " failed", err);
      }
    });
    render();
  }

  function on(event, listener) {
    (listeners[event] = listeners[event] || []).push(listener);
    return WPP;
  }

  function off(event, listener) {
    listeners[event] = (listeners[event] || []).filter(function (l) {
      return l !== listener;
    });
    return WPP;
  }

  function once(event) {
    return new Promise(function (resolve) {
      on(event, function handler(value) {
        off(event, handler);
        resolve(value);
      });
    });
  }

  function Wid(jid) {
    this._serialized = jid;
    this.user = jid.split("@")[0];
    this.server = jid.split("@")[1];
  }
  Wid.prototype.toString = function () {
    return this._serialized;
  };
  Wid.prototype.toJSON = Wid.prototype.toString;

  function wid(jid) {
    return jid ? new Wid(jid) : undefined;
  }

  function jidOf(value) {
    if (!value) return "";
    if (typeof value === "string") return value;
    return value._serialized || (value.id && value.id._serialized) || String(value);
  }

  function api(path, body) {
    return fetch("/api/devices/" + deviceId + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error((data.error && data.error.message) || response.statusText);
        return data;
      });
    });
  }

  function toAuthCode(fullCode) {
    if (!fullCode) return null;
    var parts = fullCode.split(",");
    return {
      type: "multidevice",
      ref: parts[0],
      staticKeyPair: parts[1],
      identityKeyPair: parts[2],
      secretKey: parts[3],
      fullCode: fullCode,
    };
  }

  function quotedAuthor(serialized, remote) {
    // The quoted message's author: its participant in groups, else us or the chat partner.
    var parts = serialized.split("_");
    if (parts[3]) return parts[3];
    return parts[0] === "true" ? page.me : remote;
  }

  function toModel(m) {
    var key = m.id;
    var remote = key.remote;
    var model = {
      id: {
        fromMe: key.fromMe,
        remote: wid(remote),
        id: key.id,
        participant: wid(key.participant),
        _serialized: key._serialized,
        toString: function () {
          return key._serialized;
        },
      },
      from: wid(m.from),
      to: wid(m.to),
      author: wid(m.author),
      type: m.encrypted ? "ciphertext" : m.type,
      body: m.encrypted ? "" : m.body,
      caption: m.caption,
      mimetype: m.mimetype,
      filename: m.filename,
      size: m.size,
      lat: m.lat,
      lng: m.lng,
      loc: m.loc,
      t: m.t,
      notifyName: m.notifyName,
      mentionedJidList: (m.mentionedJidList || []).map(wid),
      broadcast: Boolean(m.broadcast),
      isNewMsg: true,
      isGroupMsg: /@g\.us$/.test(remote),
      isStatusV3: remote === "status@broadcast",
      quotedStanzaID: m.quotedMsgId ? m.quotedMsgId.split("_")[2] : undefined,
      quotedParticipant: m.quotedMsgId ? wid(quotedAuthor(m.quotedMsgId, remote)) : undefined,
      quotedRemoteJid: m.quotedMsgId ? wid(remote) : undefined,
      chat: { id: wid(m.chat.id), name: m.chat.name, formattedTitle: m.chat.name },
    };
    return model;
  }

  function fresh(data) {
    var lastSeq = Number(localStorage.getItem(seqKey) || 0);
    if (data.seq <= lastSeq) return false; // already shown before a reload or reconnect
    localStorage.setItem(seqKey, String(data.seq));
    return true;
  }

  function msgKey(serialized, remote, fromMe) {
    var parts = serialized.split("_");
    return {
      fromMe: fromMe,
      remote: wid(remote),
      id: parts[2],
      participant: wid(parts[3]),
      _serialized: serialized,
      toString: function () {
        return serialized;
      },
    };
  }

  function ack(data) {
    if (!fresh(data)) return;
    emit("chat.msg_ack_change", {
      ack: data.ack,
      chat: wid(data.chat),
      sender: wid(data.sender),
      ids: data.ids.map(function (id) {
        return msgKey(id, data.chat, true);
      }),
    });
  }

  function reaction(data) {
    if (!fresh(data)) return;
    emit("chat.new_reaction", {
      id: msgKey(data.id, data.remote, false),
      msgId: msgKey(data.msgId, data.remote, data.targetFromMe),
      reactionText: data.reactionText,
      read: false,
      sender: wid(data.sender),
      orphan: 0,
      orphanReason: null,
      timestamp: data.timestamp,
    });
  }

  function revoke(data) {
    if (!fresh(data)) return;
    emit("chat.msg_revoke", {
      author: /@g\.us$/.test(data.remote) ? wid(data.author) : undefined,
      from: wid(data.targetFromMe ? page.me : data.remote),
      id: msgKey(data.id, data.remote, data.targetFromMe),
      refId: msgKey(data.refId, data.remote, data.targetFromMe),
      to: wid(data.targetFromMe ? data.remote : page.me),
      type: data.type,
    });
  }

  function edited(data) {
    if (!fresh(data)) return;
    var key = msgKey(data.id, data.remote, data.targetFromMe);
    emit("chat.msg_edited", {
      chat: wid(data.remote),
      id: data.id,
      msg: {
        id: key,
        from: wid(data.targetFromMe ? page.me : data.remote),
        author: /@g\.us$/.test(data.remote) ? wid(data.author) : undefined,
        type: "chat",
        body: data.body,
        latestEditMsgKey: msgKey(data.editKey, data.remote, data.targetFromMe),
        latestEditSenderTimestampMs: data.t * 1000,
      },
    });
  }

  function deliver(data) {
    if (!fresh(data)) return;
    var model = toModel(data.message);
    emit("chat.new_message", model);
    if (data.message.encrypted) {
      // wa-js announces an encrypted arrival, then announces it again once decrypted.
      setTimeout(function () {
        model.type = data.message.type;
        model.body = data.message.body;
        emit("chat.new_message", model);
      }, 0);
    }
  }

  function showQr(fullCode) {
    if (page.authenticated) return;
    page.authCode = toAuthCode(fullCode);
    emit("conn.auth_code_change", page.authCode);
  }

  function linked(identity) {
    page.me = identity.me;
    page.lid = identity.lid;
    page.pushname = identity.pushname;
    page.authenticated = true;
    page.authCode = null;
    emit("conn.auth_code_change", null);
    emit("conn.authenticated");
    setTimeout(becomeReady, page.readyDelay);
  }

  function becomeReady() {
    if (!page.authenticated || page.mainReady) return;
    page.mainReady = true;
    emit("conn.main_ready");
  }

  function loggedOut(reason) {
    page.authenticated = false;
    page.mainReady = false;
    page.me = page.lid = page.pushname = null;
    page.authCode = null;
    emit("conn.logout_reason", reason);
    emit("conn.logout");
    emit("conn.require_auth");
  }

  function hello(data) {
    page.readyDelay = Math.round(data.readyDelay * 1000);
    var first = !page.helloSeen;
    page.helloSeen = true;
    if (first) {
      WPP.isReady = WPP.isFullReady = true;
      emit("loader.ready");
    }
    if (data.state === "linked" && !page.authenticated) {
      page.me = data.me;
      page.lid = data.lid;
      page.pushname = data.pushname;
      page.authenticated = true; // a remembered login: no QR, straight to loading chats
      setTimeout(becomeReady, page.readyDelay);
    } else if (data.state === "unpaired") {
      if (page.authenticated) loggedOut("unknown_companion");
      else if (first) emit("conn.require_auth");
      showQr(data.qr);
    }
  }

  function connect() {
    var after = Number(localStorage.getItem(seqKey) || 0);
    var source = new EventSource("/api/devices/" + deviceId + "/stream?after=" + after);
    function handle(kind, fn) {
      source.addEventListener(kind, function (event) {
        fn(JSON.parse(event.data));
      });
    }
    handle("hello", hello);
    handle("qr", function (data) {
      showQr(data.qr);
    });
    handle("idle", function () {
      page.authCode = null;
      emit("conn.qrcode_idle");
    });
    handle("linked", linked);
    handle("logout", function (data) {
      loggedOut(data.reason);
    });
    handle("auth_failure", function (data) {
      loggedOut(data.reason);
    });
    handle("message", deliver);
    handle("ack", ack);
    handle("reaction", reaction);
    handle("revoke", revoke);
    handle("edit", edited);
  }

  function requireMainReady() {
    if (!page.mainReady) return Promise.reject(new Error("WhatsApp Web is not logged in"));
    return null;
  }

  function quotedId(quoted) {
    if (!quoted) return null;
    if (typeof quoted === "string") return quoted;
    return quoted._serialized || (quoted.id && quoted.id._serialized) || null;
  }

  function sent(record, type) {
    var model = toModel({
      id: { fromMe: true, remote: record.to, id: record.key, participant: null, _serialized: record.id },
      from: record.from,
      to: record.to,
      type: type,
      body: record.text || "",
      caption: record.media ? record.media.caption : undefined,
      t: record.t,
      chat: { id: record.to, name: null },
    });
    emit("chat.new_message", model); // WhatsApp Web also announces our own messages
    return { id: record.id, from: record.from, to: record.to, ack: 1, sendMsgResult: null };
  }

  function mediaType(mimetype) {
    var kind = (mimetype || "").split("/")[0];
    return kind === "image" || kind === "video" || kind === "audio" ? kind : "document";
  }

  function serialized(value) {
    if (!value) return "";
    if (typeof value === "string") return value;
    return value._serialized || (value.id && value.id._serialized) || String(value);
  }

  function infoModel(info) {
    // What getMessageById gives the bridge: enough of a MsgModel to check and download.
    var parts = info.id.split("_");
    return {
      id: msgKey(info.id, info.remote, info.fromMe),
      type: info.revoked ? "revoked" : info.type,
      isRevoked: Boolean(info.revoked),
      t: info.t,
      body: info.body,
      mimetype: info.mimetype || undefined,
      filename: info.filename || undefined,
      size: info.size || undefined,
      from: wid(info.fromMe ? page.me : parts[3] || info.remote),
    };
  }

  function action(kind, body) {
    return requireMainReady() || api("/actions/" + kind, body);
  }

  var WPP = {
    version: "4.6.0-simulator",
    isInjected: true,
    isReady: false,
    isFullReady: false,
    on: on,
    off: off,
    loader: {
      onReady: function onReady(listener, delay) {
        on("loader.ready", function () {
          setTimeout(listener, delay || 0);
        });
      },
    },
    conn: {
      getAuthCode: function getAuthCode() {
        return Promise.resolve(page.authenticated ? null : page.authCode);
      },
      isAuthenticated: function isAuthenticated() {
        return page.authenticated;
      },
      isMainReady: function isMainReady() {
        return page.mainReady;
      },
      getMyUserId: function getMyUserId() {
        return wid(page.me);
      },
      getMyUserLid: function getMyUserLid() {
        return wid(page.lid);
      },
      refreshQR: function refreshQR() {
        if (page.authenticated) return Promise.resolve(null);
        return api("/refresh-qr").then(function (data) {
          return toAuthCode(data.qr);
        });
      },
      genLinkDeviceCodeForPhoneNumber: function genLinkDeviceCodeForPhoneNumber(phone, sendPushNotification) {
        if (page.authenticated) return Promise.reject(new Error("already authenticated"));
        return api("/pairing-code", { phone: String(phone), push: sendPushNotification !== false }).then(
          function (data) {
            return data.code;
          }
        );
      },
      logout: function logout() {
        if (!page.authenticated) return Promise.resolve(true);
        var done = once("conn.logout");
        return api("/logout").then(function () {
          return done.then(function () {
            return true;
          });
        });
      },
    },
    profile: {
      getMyProfileName: function getMyProfileName() {
        return page.pushname || "";
      },
    },
    chat: {
      sendTextMessage: function sendTextMessage(chatId, content, options) {
        var opts = options || {};
        var body = { to: jidOf(chatId), text: String(content), quotedMsgId: quotedId(opts.quotedMsg) };
        return (
          requireMainReady() ||
          api("/send", body).then(function (record) {
            return sent(record, "chat");
          })
        );
      },
      sendFileMessage: function sendFileMessage(chatId, content, options) {
        var opts = options || {};
        if (typeof content !== "string" || content.indexOf("data:") !== 0) {
          return Promise.reject(new Error("the simulator accepts media as a base64 data URL only"));
        }
        var media = { dataUrl: content, filename: opts.filename, mimetype: opts.mimetype, caption: opts.caption };
        return (
          requireMainReady() ||
          api("/send", { to: jidOf(chatId), media: media }).then(function (record) {
            return sent(record, mediaType(record.media.mimetype));
          })
        );
      },
      getMessageById: function getMessageById(id) {
        return api("/message", { id: serialized(id) }).then(infoModel);
      },
      sendLocationMessage: function sendLocationMessage(chatId, options) {
        var opts = options || {};
        var location = {
          latitude: Number(opts.lat),
          longitude: Number(opts.lng),
          name: opts.name || null,
          address: opts.address || null,
        };
        var body = { to: jidOf(chatId), location: location, quotedMsgId: quotedId(opts.quotedMsg) };
        return (
          requireMainReady() ||
          api("/send", body).then(function (record) {
            return sent(record, "location");
          })
        );
      },
      sendVCardContactMessage: function sendVCardContactMessage(chatId, contacts, options) {
        var list = Array.isArray(contacts) ? contacts : [contacts];
        var cards = list.map(function (contact) {
          var id = typeof contact === "object" && contact.id ? jidOf(contact.id) : jidOf(contact);
          return { phone: id.split("@")[0], name: (contact && contact.name) || id.split("@")[0] };
        });
        return (
          requireMainReady() ||
          api("/send", { to: jidOf(chatId), contacts: cards }).then(function (record) {
            return sent(record, "vcard");
          })
        );
      },
      sendCreatePollMessage: function sendCreatePollMessage(chatId, name, choices, options) {
        var opts = options || {};
        var poll = {
          name: String(name),
          options: choices.slice(),
          selectableCount: opts.selectableCount === undefined ? 1 : opts.selectableCount,
        };
        return (
          requireMainReady() ||
          api("/send", { to: jidOf(chatId), poll: poll }).then(function (record) {
            return sent(record, "poll_creation");
          })
        );
      },
      sendReactionToMessage: function sendReactionToMessage(messageId, reaction) {
        var emoji = reaction ? String(reaction) : "";
        return action("reaction", { messageId: serialized(messageId), emoji: emoji }).then(function () {
          return { sendMsgResult: "OK" };
        });
      },
      markIsRead: function markIsRead(chatId) {
        return action("seen", { chatId: jidOf(chatId) }).then(function () {
          return { wid: wid(jidOf(chatId)), unreadCount: 0 };
        });
      },
      editMessage: function editMessage(msgId, newText, options) {
        var id = serialized(msgId);
        return action("edit", { messageId: id, text: String(newText) }).then(function () {
          return { id: id, ack: 1, sendMsgResult: "OK" };
        });
      },
      deleteMessage: function deleteMessage(chatId, ids, deleteMediaInDevice, revoke) {
        var list = Array.isArray(ids) ? ids : [ids];
        var kind = revoke ? "delete" : "delete_for_me";
        return Promise.all(
          list.map(function (id) {
            return action(kind, { messageId: serialized(id), chatId: jidOf(chatId) }).then(function () {
              return { id: serialized(id), sendMsgResult: "OK", isRevoked: Boolean(revoke), isDeleted: true, isSentByMe: true };
            });
          })
        ).then(function (results) {
          return Array.isArray(ids) ? results : results[0];
        });
      },
      downloadMedia: function downloadMedia(id) {
        return fetch("/api/devices/" + deviceId + "/media?id=" + encodeURIComponent(serialized(id))).then(
          function (response) {
            if (!response.ok) throw new Error("media not found");
            return response.blob();
          }
        );
      },
      markIsComposing: function markIsComposing(chatId, duration) {
        var chat = jidOf(chatId);
        return (
          requireMainReady() ||
          api("/typing", { chatId: chat, state: "composing" }).then(function () {
            if (duration) setTimeout(WPP.chat.markIsPaused, duration, chat);
          })
        );
      },
      markIsPaused: function markIsPaused(chatId) {
        return requireMainReady() || api("/typing", { chatId: jidOf(chatId), state: "paused" }).then(function () {});
      },
    },
  };

  function render() {
    var status = document.getElementById("status");
    var qr = document.getElementById("qr");
    if (!status || !qr) return;
    if (page.mainReady) status.textContent = "Logged in as " + page.me;
    else if (page.authenticated) status.textContent = "Loading chats…";
    else status.textContent = WPP.isReady ? "Scan the QR code with WhatsApp" : "Loading…";
    qr.textContent = page.authenticated || !page.authCode ? "" : page.authCode.fullCode;
  }

  function detectionSignals() {
    // What a site can read to tell an automated or headless browser from a desktop Chrome.
    var data = navigator.userAgentData;
    var brands = data && data.brands ? data.brands.map(function (b) { return { brand: b.brand, version: b.version }; }) : null;
    var readable = [navigator.userAgent, navigator.appVersion, JSON.stringify(brands || [])].join(" ");
    return {
      userAgent: navigator.userAgent,
      brands: brands,
      webdriver: navigator.webdriver === undefined ? null : navigator.webdriver,
      chrome: typeof window.chrome,
      headlessChrome: readable.indexOf("HeadlessChrome") !== -1,
    };
  }

  window.WPP = WPP;
  window.__wagwSimulator = { deviceId: deviceId };
  api("/signals", detectionSignals()).catch(function (err) {
    console.error("could not report detection signals", err);
  });
  connect();
})();
