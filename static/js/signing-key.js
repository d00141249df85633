// A tablet's signing key, for records signed where the server cannot be reached (#37; accounts/device_keys.py).
// Made when the person signs in on this tablet: the password they typed derives (PBKDF2-SHA-256, 600 000 rounds) an
// AES-GCM key that encrypts a new ECDSA P-256 private key. Only that encrypted copy is kept (IndexedDB "sixs-keys"),
// never the password; the server keeps the public half. Signing offline asks for the password again: it unlocks the
// key, or nothing (AES-GCM refuses a wrong one). WebCrypto needs a secure context (HTTPS, or localhost): on a plant's
// plain-HTTP address no key is made and records are signed online only.
(function () {
  "use strict";
  var S = window.Sixs, subtle = window.crypto && crypto.subtle;
  var DB = "sixs-keys", STORE = "keys", ROUNDS = 600000, PENDING_MS = 24 * 3600 * 1000;

  function store(mode, fn) {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) return reject(new Error("no IndexedDB"));
      var open = indexedDB.open(DB, 1);
      open.onupgradeneeded = function () { open.result.createObjectStore(STORE, { keyPath: "fingerprint" }); };
      open.onerror = function () { reject(open.error); };
      open.onsuccess = function () {
        var t = open.result.transaction(STORE, mode), out;
        Promise.resolve(fn(t.objectStore(STORE))).then(function (r) { out = r; });
        t.oncomplete = function () { open.result.close(); resolve(out); };
        t.onerror = t.onabort = function () { open.result.close(); reject(t.error); };
      };
    });
  }
  function everyKey() {
    return store("readonly", function (keys) {
      return new Promise(function (resolve) { var req = keys.getAll(); req.onsuccess = function () { resolve(req.result); }; });
    });
  }
  function b64(buffer) { return btoa(String.fromCharCode.apply(null, new Uint8Array(buffer))); }
  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }
  function unlocking(password, salt) {
    return subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveKey"]).then(function (base) {
      return subtle.deriveKey({ name: "PBKDF2", salt: salt, iterations: ROUNDS, hash: "SHA-256" }, base,
                              { name: "AES-GCM", length: 256 }, false, ["wrapKey", "unwrapKey"]);
    });
  }
  // a new key for this sign-in: the public half (base64 SubjectPublicKeyInfo) goes with the sign-in form
  function make(username, password) {
    var salt = crypto.getRandomValues(new Uint8Array(16)), iv = crypto.getRandomValues(new Uint8Array(12));
    return Promise.all([
      subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]), unlocking(password, salt)
    ]).then(function (made) {
      var pair = made[0], aes = made[1];
      return Promise.all([subtle.exportKey("spki", pair.publicKey),
                          subtle.wrapKey("pkcs8", pair.privateKey, aes, { name: "AES-GCM", iv: iv })]);
    }).then(function (parts) {
      return subtle.digest("SHA-256", parts[0]).then(function (digest) {
        var record = { fingerprint: hex(digest), username: username, user: null, salt: salt, iv: iv, rounds: ROUNDS,
                       wrapped: parts[1], made: Date.now() };
        return store("readwrite", function (keys) { keys.put(record); }).then(function () { return b64(parts[0]); });
      });
    });
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form[data-login]") || !subtle || form.getAttribute("data-key-made")) return;
    var username = form.elements.username.value.trim(), password = form.elements.password.value;
    if (!username || !password) return;
    e.preventDefault();
    // the sign-in never waits long for the key: a tablet whose storage stalls signs in without one (online only)
    var late = new Promise(function (resolve, reject) { setTimeout(function () { reject(new Error("slow")); }, 3000); });
    Promise.race([make(username, password), late]).then(function (publicKey) {
      var field = document.createElement("input");
      field.type = "hidden"; field.name = "device_key"; field.value = publicKey;
      form.appendChild(field);
    }).catch(function () { /* no key: this tablet signs online only */ }).then(function () {
      form.setAttribute("data-key-made", "yes");
      form.submit();
    });
  });

  // Signed in: the server names the key it kept for this session (data-signing-key); that one becomes this user's,
  // their older ones and keys never confirmed go.
  var confirmed = document.body && document.body.getAttribute("data-signing-key");
  if (S.ME && confirmed && subtle) {
    everyKey().then(function (keys) {
      return store("readwrite", function (st) {
        keys.forEach(function (k) {
          if (k.fingerprint === confirmed) {
            if (k.user !== S.ME) { k.user = S.ME; st.put(k); }
          } else if (k.user === S.ME || (k.user === null && Date.now() - k.made > PENDING_MS)) {
            st.delete(k.fingerprint);
          }
        });
      });
    }).catch(function () {});
  }

  function mine() {
    if (!subtle || !S.ME) return Promise.resolve(null);
    return everyKey().then(function (keys) {
      return keys.filter(function (k) { return k.user === S.ME; }).sort(function (a, b) { return b.made - a.made; })[0] || null;
    }, function () { return null; });
  }
  // Sign these bytes as the person whose password this is: {key: fingerprint, signature: base64 r‖s}, or an error
  // named "wrong-password" / "no-key".
  function sign(password, bytes) {
    return mine().then(function (record) {
      if (!record) throw new Error("no-key");
      return unlocking(password, record.salt).then(function (aes) {
        return subtle.unwrapKey("pkcs8", record.wrapped, aes, { name: "AES-GCM", iv: record.iv },
                                { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
      }).catch(function () { throw new Error("wrong-password"); }).then(function (key) {
        return subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, bytes);
      }).then(function (signature) { return { key: record.fingerprint, signature: b64(signature) }; });
    });
  }
  function digest(text) {
    return subtle.digest("SHA-256", new TextEncoder().encode(text)).then(hex);
  }
  // signing out of a shared tablet: this user's keys go with the pages (the server revokes the session's key)
  function forget() {
    return everyKey().then(function (keys) {
      return store("readwrite", function (st) {
        keys.forEach(function (k) { if (k.user === S.ME) st.delete(k.fingerprint); });
      });
    }).catch(function () {});
  }
  S.signing = { available: function () { return mine().then(function (r) { return !!r; }); }, sign: sign,
                digest: digest, forget: forget, supported: !!subtle };
})();
