/*
 * WhatsApp Agent Gateway bridge: the only code that calls window.WPP.
 *
 * Installs window.__wagw (commands, see PROTOCOL.md) and pushes events to the session host
 * through window.wagwEmit (a CDP binding). Works unchanged on WhatsApp Web with the pinned
 * @wppconnect/wa-js and on the offline simulator page. Safe to inject more than once.
 */
(function () {
  "use strict";

  var VERSION = "1";
  if (typeof window.WPP === "undefined") throw new Error("window.WPP is missing: inject wa-js first");
  if (window.__wagw && window.__wagw.version === VERSION) {
    window.__wagw.replay();
    return;
  }
  // Another bridge version in this page: take over from it rather than listen twice.
  if (window.__wagw && window.__wagw.uninstall) window.__wagw.uninstall();

  var SEEN_LIMIT = 5000; // remembered message ids; wa-js repeats an id within milliseconds
  var pending = []; // events waiting for the wagwEmit binding
  var flushTimer = null;
  var seen = new Set();
  var seenOrder = [];
  var listening = []; // [event, listener] pairs, so uninstall() can remove them
  // Our own sends come back as `chat.new_message` (fromMe) while the send is in flight:
  // fromMe messages wait until no send is pending, and those we sent are not announced
  // as messages (the host reports them as sent).
  var sending = 0;
  var heldOwn = [];
  var ownIds = new Set();
  var ownOrder = [];
  var state = { installed: false, qr: null, ready: false, me: null, lid: null, pushname: null, logoutReason: null };

  function emit(event) {
    pending.push(JSON.stringify(event));
    flush();
  }

  function flush() {
    if (typeof window.wagwEmit !== "function") {
      // The binding is added by the host over CDP; until then keep events in order.
      if (!flushTimer) flushTimer = setInterval(flush, 50);
      return;
    }
    if (flushTimer) {
      clearInterval(flushTimer);
      flushTimer = null;
    }
    while (pending.length) window.wagwEmit(pending.shift());
  }

  function jid(value) {
    if (!value) return null;
    if (typeof value === "string") return value;
    return value._serialized || String(value);
  }

  function remember(id) {
    if (seen.has(id)) return false;
    seen.add(id);
    seenOrder.push(id);
    if (seenOrder.length > SEEN_LIMIT) seen.delete(seenOrder.shift());
    return true;
  }

  function quotedId(msg, chatId) {
    if (!msg.quotedStanzaID) return msg.quotedMsgId ? jid(msg.quotedMsgId) : null;
    var participant = jid(msg.quotedParticipant);
    var mine = Boolean(participant && participant === state.me);
    var parts = [mine ? "true" : "false", chatId, msg.quotedStanzaID];
    if (/@g\.us$/.test(chatId) && participant && !mine) parts.push(participant);
    return parts.join("_");
  }

  function toMessage(msg) {
    var key = msg.id || {};
    var chatId = jid(key.remote) || jid(key.fromMe ? msg.to : msg.from) || "";
    var fromMe = Boolean(key.fromMe);
    var isStatus = chatId === "status@broadcast" || Boolean(msg.isStatusV3);
    var isNewsletter = /@newsletter$/.test(chatId);
    var type = msg.type || "chat";
    var chat = msg.chat || null;
    return {
      id: key._serialized || String(key),
      chatId: chatId,
      sender: jid(msg.author) || jid(msg.from) || chatId,
      fromMe: fromMe,
      type: type,
      // For media WhatsApp keeps a base64 thumbnail in `body`; the text is the caption.
      body: type === "chat" ? msg.body || "" : msg.caption || "",
      timestamp: msg.t || Math.floor(Date.now() / 1000),
      isGroup: /@g\.us$/.test(chatId),
      isStatus: isStatus,
      isBroadcast: !isStatus && (Boolean(msg.broadcast) || /@broadcast$/.test(chatId)),
      isNewsletter: isNewsletter,
      mentionedIds: (msg.mentionedJidList || []).map(jid),
      notifyName: msg.notifyName || null,
      chatName: chat ? chat.name || chat.formattedTitle || null : null,
      botId: state.me,
      botLid: state.lid,
      quotedMessageId: quotedId(msg, chatId),
      mimetype: msg.mimetype || null,
      filename: msg.filename || null,
      size: msg.size || null,
      location: type === "location" ? toLocation(msg) : null,
    };
  }

  function toLocation(msg) {
    // WhatsApp keeps a pin's name and address as one text, the name on the first line.
    var lines = String(msg.loc || "").split("\n");
    return {
      latitude: Number(msg.lat),
      longitude: Number(msg.lng),
      name: lines[0] || null,
      address: lines.slice(1).join("\n") || null,
    };
  }

  function onMessage(msg) {
    // An encrypted arrival is announced first as "ciphertext", then again once decrypted.
    if (!msg || !msg.id || msg.type === "ciphertext") return;
    var message = toMessage(msg);
    if (!remember(message.id)) return;
    if (message.fromMe && sending > 0) heldOwn.push(message);
    else if (!(message.fromMe && ownIds.has(message.id))) emit({ type: "message", message: message });
  }

  function rememberOwn(id) {
    if (!id || ownIds.has(id)) return;
    ownIds.add(id);
    ownOrder.push(id);
    if (ownOrder.length > SEEN_LIMIT) ownIds.delete(ownOrder.shift());
  }

  function sendSettled() {
    sending -= 1;
    if (sending > 0) return;
    var held = heldOwn;
    heldOwn = [];
    held.forEach(function (message) {
      if (!ownIds.has(message.id)) emit({ type: "message", message: message });
    });
  }

  function tracked(promise) {
    // Counts the send as pending until WhatsApp answered, and remembers the id it got.
    sending += 1;
    return promise.then(
      function (result) {
        rememberOwn(jid(result && result.id));
        sendSettled();
        return result;
      },
      function (err) {
        sendSettled();
        throw err;
      }
    );
  }

  function key(value) {
    if (!value) return null;
    if (typeof value === "string") return value;
    return value._serialized || String(value);
  }

  function onAck(change) {
    if (!change || !change.ids) return;
    var chatId = jid(change.chat) || "";
    change.ids.forEach(function (id) {
      var messageId = key(id);
      if (!messageId) return;
      emit({
        type: "ack",
        update: {
          messageId: messageId,
          chatId: chatId,
          ack: change.ack,
          sender: jid(change.sender),
          fromMe: Boolean(id.fromMe),
          eventKey: String(change.ack) + ":" + (jid(change.sender) || ""),
          timestamp: Math.floor(Date.now() / 1000),
        },
      });
    });
  }

  function onReaction(reaction) {
    if (!reaction || !reaction.msgId) return;
    var target = reaction.msgId;
    emit({
      type: "reaction",
      update: {
        messageId: key(target),
        chatId: jid(target.remote) || "",
        sender: jid(reaction.sender),
        fromMe: Boolean(reaction.id && reaction.id.fromMe),
        reaction: reaction.reactionText || "",
        eventKey: key(reaction.id) + ":" + (reaction.reactionText || "") + ":" + (reaction.timestamp || 0),
        timestamp: reaction.timestamp || Math.floor(Date.now() / 1000),
      },
    });
  }

  function onRevoke(revoke) {
    if (!revoke || !revoke.refId) return;
    var target = revoke.refId;
    emit({
      type: "revoke",
      update: {
        messageId: key(target),
        chatId: jid(target.remote) || jid(revoke.from) || "",
        sender: jid(revoke.author) || jid(revoke.from),
        fromMe: Boolean(target.fromMe),
        revokeType: revoke.type || "revoke",
        eventKey: key(revoke.id) || "",
        timestamp: Math.floor(Date.now() / 1000),
      },
    });
  }

  function onEdited(edit) {
    if (!edit || !edit.msg) return;
    var msg = edit.msg;
    var target = msg.id || {};
    var body = msg.type === "chat" || !msg.caption ? msg.body || "" : msg.caption;
    emit({
      type: "edit",
      update: {
        messageId: key(target) || String(edit.id || ""),
        chatId: jid(edit.chat) || jid(target.remote) || "",
        sender: jid(msg.author) || jid(msg.from),
        fromMe: Boolean(target.fromMe),
        body: body,
        eventKey: String(edit.id || "") + ":" + (msg.latestEditMsgKey ? key(msg.latestEditMsgKey) : body),
        timestamp: msg.latestEditSenderTimestampMs
          ? Math.floor(msg.latestEditSenderTimestampMs / 1000)
          : Math.floor(Date.now() / 1000),
      },
    });
  }

  function emitQr(authCode) {
    var qr = authCode && authCode.fullCode;
    if (!qr || qr === state.qr || WPP.conn.isAuthenticated()) return;
    state.qr = qr;
    emit({ type: "qr", qr: qr });
  }

  function optional(read) {
    try {
      return read();
    } catch (err) {
      return null;
    }
  }

  function emitReady() {
    if (state.ready || !WPP.conn.isMainReady()) return;
    var me = WPP.conn.getMyUserId();
    state.ready = true;
    state.qr = null;
    state.me = jid(me);
    // Neither is needed to send; a WhatsApp build that lacks them must not block `ready`.
    state.lid = optional(function () {
      return jid(WPP.conn.getMyUserLid());
    });
    state.pushname = optional(function () {
      return WPP.profile.getMyProfileName() || null;
    });
    emit({ type: "ready", me: state.me, lid: state.lid, pushname: state.pushname });
  }

  function onLogout() {
    // "user_initiated" (phone or our logout()) is a disconnect; any other reason means the
    // linked credentials are no longer valid and a new QR scan is needed.
    var reason = state.logoutReason;
    state.logoutReason = null;
    state.ready = false;
    state.qr = null;
    if (reason && reason !== "user_initiated") emit({ type: "auth_failure", reason: reason });
    else emit({ type: "disconnected", reason: "logout" });
  }

  function refreshAuthCode() {
    return WPP.conn.getAuthCode().then(emitQr, function () {
      return null;
    });
  }

  function listen(event, listener) {
    listening.push([event, listener]);
    return listener;
  }

  function install() {
    if (state.installed) return;
    state.installed = true;
    WPP.on("conn.auth_code_change", listen("conn.auth_code_change", emitQr));
    WPP.on("conn.require_auth", listen("conn.require_auth", refreshAuthCode));
    // WhatsApp stops rotating the QR after a few codes; ask for a fresh one instead.
    WPP.on(
      "conn.qrcode_idle",
      listen("conn.qrcode_idle", function () {
        WPP.conn.refreshQR().then(emitQr, function () {
          return null;
        });
      })
    );
    WPP.on(
      "conn.authenticated",
      listen("conn.authenticated", function () {
        state.qr = null;
        emit({ type: "authenticated" });
      })
    );
    WPP.on("conn.main_ready", listen("conn.main_ready", emitReady));
    WPP.on(
      "conn.logout_reason",
      listen("conn.logout_reason", function (reason) {
        state.logoutReason = reason || null;
      })
    );
    WPP.on("conn.logout", listen("conn.logout", onLogout));
    WPP.on("chat.new_message", listen("chat.new_message", onMessage));
    WPP.on("chat.msg_ack_change", listen("chat.msg_ack_change", onAck));
    WPP.on("chat.new_reaction", listen("chat.new_reaction", onReaction));
    WPP.on("chat.msg_revoke", listen("chat.msg_revoke", onRevoke));
    WPP.on("chat.msg_edited", listen("chat.msg_edited", onEdited));
    replay();
  }

  function uninstall() {
    listening.forEach(function (pair) {
      WPP.off(pair[0], pair[1]);
    });
    listening = [];
    state.installed = true; // a pending loader.onReady must not install it again
  }

  function replay() {
    if (!state.installed) return;
    emit({ type: "bridge_ready", version: VERSION, wppVersion: WPP.version || null });
    var qr = state.qr;
    state.qr = null;
    state.ready = false;
    if (WPP.conn.isMainReady()) emitReady();
    else if (qr) emitQr({ fullCode: qr });
    else refreshAuthCode();
  }

  function requireReady() {
    if (!state.installed) throw new Error("WhatsApp Web is still loading");
    if (!WPP.conn.isMainReady()) throw new Error("not logged in");
  }

  // WhatsApp's windows: a text can be edited for 15 minutes, a message deleted for everyone
  // for about two days.
  var EDIT_WINDOW_SECONDS = 15 * 60;
  var REVOKE_WINDOW_SECONDS = 2 * 24 * 3600;

  function coded(code, message) {
    // The host reads the code before the colon (session_host.failures).
    return new Error(code + ": " + message);
  }

  function findMessage(messageId) {
    return WPP.chat.getMessageById(messageId).then(
      function (msg) {
        if (!msg) throw coded("MESSAGE_NOT_FOUND", "no message " + messageId);
        return msg;
      },
      function () {
        throw coded("MESSAGE_NOT_FOUND", "no message " + messageId);
      }
    );
  }

  function ownAndRecent(msg, windowSeconds, what) {
    if (!msg.id || !msg.id.fromMe) throw coded("MESSAGE_NOT_EDITABLE", "only our own messages can be " + what);
    if (msg.type === "revoked" || msg.isRevoked) throw coded("MESSAGE_NOT_EDITABLE", "the message was deleted for everyone");
    var age = Math.floor(Date.now() / 1000) - (msg.t || 0);
    if (age > windowSeconds) {
      throw coded("MESSAGE_NOT_EDITABLE", "the message is too old to be " + what + " (" + age + " s)");
    }
  }

  function blobBase64(blob) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () {
        var url = String(reader.result);
        resolve(url.slice(url.indexOf(",") + 1));
      };
      reader.onerror = function () {
        reject(reader.error || new Error("could not read the media"));
      };
      reader.readAsDataURL(blob);
    });
  }

  function done(messageId) {
    return function () {
      return { done: true, messageId: messageId || null };
    };
  }

  function sent(result) {
    return { id: jid(result && result.id), timestamp: Math.floor(Date.now() / 1000) };
  }

  function command(fn) {
    return function () {
      var args = arguments;
      return new Promise(function (resolve) {
        resolve(fn.apply(null, args));
      });
    };
  }

  window.__wagw = {
    version: VERSION,
    replay: replay,
    uninstall: uninstall,
    status: command(function () {
      var loaded = state.installed;
      return {
        wppReady: loaded,
        authenticated: loaded && WPP.conn.isAuthenticated(),
        ready: loaded && WPP.conn.isMainReady(),
        qr: state.qr,
        me: state.me,
      };
    }),
    sendText: command(function (to, text, quotedMessageId) {
      requireReady();
      // wa-js would otherwise send every URL in the text to third-party preview servers.
      var options = { waitForAck: true, linkPreview: false };
      if (quotedMessageId) options.quotedMsg = quotedMessageId;
      return tracked(WPP.chat.sendTextMessage(to, text, options)).then(sent);
    }),
    sendMedia: command(function (to, dataUrl, options) {
      requireReady();
      var opts = options || {};
      return tracked(
        WPP.chat.sendFileMessage(to, dataUrl, {
          type: "auto-detect",
          filename: opts.filename || undefined,
          mimetype: opts.mimetype || undefined,
          caption: opts.caption || undefined,
          waitForAck: true,
        })
      ).then(sent);
    }),
    sendLocation: command(function (to, location, quotedMessageId) {
      requireReady();
      var options = {
        lat: location.latitude,
        lng: location.longitude,
        name: location.name || undefined,
        address: location.address || undefined,
        waitForAck: true,
      };
      if (quotedMessageId) options.quotedMsg = quotedMessageId;
      return tracked(WPP.chat.sendLocationMessage(to, options)).then(sent);
    }),
    sendContacts: command(function (to, contacts) {
      requireReady();
      var cards = contacts.map(function (contact) {
        return { id: String(contact.phone).replace(/\D/g, "") + "@c.us", name: contact.name };
      });
      return tracked(WPP.chat.sendVCardContactMessage(to, cards, { waitForAck: true })).then(sent);
    }),
    sendPoll: command(function (to, name, choices, selectableCount) {
      requireReady();
      var options = { selectableCount: selectableCount, waitForAck: true };
      return tracked(WPP.chat.sendCreatePollMessage(to, name, choices, options)).then(sent);
    }),
    react: command(function (messageId, emoji) {
      requireReady();
      return findMessage(messageId)
        .then(function () {
          // wa-js takes `false` to remove our reaction.
          return WPP.chat.sendReactionToMessage(messageId, emoji ? emoji : false);
        })
        .then(done(messageId));
    }),
    markSeen: command(function (chatId) {
      requireReady();
      return WPP.chat.markIsRead(chatId).then(done(null));
    }),
    editMessage: command(function (messageId, text) {
      requireReady();
      return findMessage(messageId)
        .then(function (msg) {
          ownAndRecent(msg, EDIT_WINDOW_SECONDS, "edited");
          if (msg.type !== "chat") throw coded("MESSAGE_NOT_EDITABLE", "only text messages can be edited");
          return WPP.chat.editMessage(messageId, text);
        })
        .then(done(messageId));
    }),
    deleteMessage: command(function (messageId) {
      requireReady();
      return findMessage(messageId)
        .then(function (msg) {
          ownAndRecent(msg, REVOKE_WINDOW_SECONDS, "deleted for everyone");
          return WPP.chat.deleteMessage(jid(msg.id.remote), messageId, false, true);
        })
        .then(done(messageId));
    }),
    downloadMedia: command(function (messageId, maxBytes) {
      requireReady();
      return findMessage(messageId).then(function (msg) {
        var info = {
          mimetype: msg.mimetype || "application/octet-stream",
          filename: msg.filename || null,
          size: msg.size || 0,
          tooLarge: false,
          data: null,
        };
        if (info.size > maxBytes) {
          info.tooLarge = true;
          return info;
        }
        return WPP.chat.downloadMedia(messageId).then(function (blob) {
          info.size = blob.size;
          if (blob.size > maxBytes) {
            info.tooLarge = true;
            return info;
          }
          return blobBase64(blob).then(function (data) {
            info.data = data;
            return info;
          });
        });
      });
    }),
    setTyping: command(function (chatId, on) {
      requireReady();
      var call = on ? WPP.chat.markIsComposing(chatId) : WPP.chat.markIsPaused(chatId);
      return call.then(function () {
        return true;
      });
    }),
    requestPairingCode: command(function (phone) {
      if (!state.installed) throw new Error("WhatsApp Web is still loading");
      if (WPP.conn.isAuthenticated()) throw new Error("already logged in");
      return WPP.conn.genLinkDeviceCodeForPhoneNumber(String(phone).replace(/\D/g, "")).then(function (code) {
        emit({ type: "pairing_code", code: code });
        return code;
      });
    }),
    logout: command(function () {
      if (!state.installed) throw new Error("WhatsApp Web is still loading");
      return WPP.conn.logout().then(function () {
        return true;
      });
    }),
  };

  if (WPP.isReady) install();
  else WPP.loader.onReady(install);
})();
