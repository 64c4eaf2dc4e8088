// Shared by the console and the customer client: a WebSocket that reconnects by itself,
// resumes where it left off, and resends what was not acknowledged.
"use strict";

const Lifeline = (() => {
  const RESEND = new Set(["chat", "note"]); // the server drops repeats of these by their ref
  const PROTOCOL_VERSION = 1; // lifeline_protocol.VERSION: what the hellos say they speak
  const NOT_PRIMARY = 4421; // this appliance is a failover backup: the reason is the primary's origin
  const ORIGIN = /^https:\/\/[^/?#@\s]+$/;
  const FOLLOW_AFTER_MS = 1500; // the page says why before it moves
  const PROBE_AFTER_FAILURES = 3; // tries without an answer before asking the other appliance

  function newRef() {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // Failover (docs/realtime.md "Following the primary"): the same page on the primary.
  function goToPrimary(origin) {
    setTimeout(() => location.assign(origin + location.pathname + location.search + location.hash), FOLLOW_AFTER_MS);
  }

  // Whether the appliance at `origin` is the primary now: its customer socket (the one any
  // page may open; the console's refuses other sites' pages) opens and is not refused with
  // 4421. Pages may only open sockets elsewhere, not fetch. It says hello to nobody and
  // closes as soon as it knows.
  function isPrimary(origin) {
    return new Promise((resolve) => {
      let probe;
      try {
        probe = new WebSocket(`wss://${origin.slice("https://".length)}/ws/customer`);
      } catch {
        resolve(false);
        return;
      }
      let opened = false;
      const settle = (primary) => {
        clearTimeout(timer);
        resolve(primary);
        try { probe.close(); } catch { /* already closed */ }
      };
      const timer = setTimeout(() => settle(opened), 3000);
      probe.onopen = () => { opened = true; setTimeout(() => settle(true), 1000); };
      probe.onclose = (closed) => settle(opened && closed.code !== NOT_PRIMARY);
    });
  }

  class LiveSocket {
    // `onBinary`, when given, gets each binary frame as an ArrayBuffer (the console's shell
    // output, docs/realtime.md "Binary frames"); without it a binary frame is ignored.
    constructor(path, { hello, onMessage, onStatus, onBinary }) {
      this.path = path;
      this.hello = hello;
      this.onMessage = onMessage;
      this.onBinary = onBinary || null;
      this.onStatus = onStatus || (() => {});
      this.pending = new Map(); // ref -> {message, resolve, reject}
      this.delay = 500;
      this.stopped = false;
      this.ready = false;
      this.appliances = []; // the failover pair the last welcome named, the primary first
      this.failures = 0; // closes in a row without a welcome
      this.connect();
    }

    connect() {
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      const socket = new WebSocket(`${scheme}//${location.host}${this.path}`);
      this.socket = socket;
      socket.binaryType = "arraybuffer";
      this.onStatus("connecting");
      socket.onopen = () => socket.send(JSON.stringify(this.hello()));
      socket.onmessage = (raw) => {
        if (typeof raw.data !== "string") {
          if (this.onBinary) this.onBinary(raw.data);
          return;
        }
        const message = JSON.parse(raw.data);
        if (message.type === "welcome") {
          this.ready = true;
          this.delay = 500;
          this.failures = 0;
          this.appliances = (message.appliances || []).filter((origin) => ORIGIN.test(origin));
          this.onStatus("connected");
          this.onMessage(message);
          this.resend();
          return;
        }
        if (message.type === "ack" && this.pending.has(message.ref)) {
          const waiting = this.pending.get(message.ref);
          this.pending.delete(message.ref);
          message.ok ? waiting.resolve(message) : waiting.reject(new Error(message.error));
        }
        this.onMessage(message);
      };
      socket.onclose = (closed) => {
        const welcomed = this.ready;
        this.ready = false;
        if (closed.code === NOT_PRIMARY && !this.stopped && ORIGIN.test(closed.reason)) {
          this.follow(closed.reason);
          return;
        }
        this.failures = welcomed ? 0 : this.failures + 1;
        if (this.failures >= PROBE_AFTER_FAILURES && !this.stopped) this.probe();
        if (closed.code === 4401 || closed.code === 4410 || this.stopped) {
          this.stopped = true;
          this.onStatus(closed.code === 4401 ? "signed-out" : "over");
          for (const waiting of this.pending.values()) waiting.reject(new Error("not connected"));
          this.pending.clear();
          return;
        }
        this.onStatus("reconnecting");
        for (const [ref, waiting] of this.pending) {
          if (!RESEND.has(waiting.message.type)) {
            this.pending.delete(ref);
            waiting.reject(new Error("The connection dropped; please try again."));
          }
        }
        setTimeout(() => { if (!this.stopped) this.connect(); }, this.delay);
        this.delay = Math.min(this.delay * 2, 5000);
      };
    }

    // The primary named by a backup (or the peer that answers when this one does not).
    follow(origin) {
      this.stopped = true;
      this.onStatus("backup");
      for (const waiting of this.pending.values()) waiting.reject(new Error("This appliance is now the backup."));
      this.pending.clear();
      goToPrimary(origin);
    }

    async probe() {
      const peers = this.appliances.filter((origin) => origin !== location.origin);
      if (!peers.length || this.probing) return;
      this.probing = true;
      try {
        for (const peer of peers) {
          if (!this.stopped && !this.ready && (await isPrimary(peer))) {
            if (!this.ready) this.follow(peer);
            return;
          }
        }
      } finally {
        this.probing = false;
      }
    }

    resend() {
      for (const waiting of this.pending.values()) this.socket.send(JSON.stringify(waiting.message));
    }

    request(type, fields = {}) {
      const message = { type, ref: newRef(), ...fields };
      return new Promise((resolve, reject) => {
        this.pending.set(message.ref, { message, resolve, reject });
        if (this.ready) this.socket.send(JSON.stringify(message));
        else if (!RESEND.has(type)) {
          this.pending.delete(message.ref);
          reject(new Error("Not connected yet; please try again in a moment."));
        }
      });
    }

    // A signal nobody answers ("typing"): sent if connected, else dropped.
    notify(type, fields = {}) {
      if (this.ready) this.socket.send(JSON.stringify({ type, ...fields }));
    }

    close() {
      this.stopped = true;
      this.socket.close();
    }
  }

  // The typing indicator (docs/realtime.md): while someone types, one signal every few
  // seconds; the other side shows "… is typing" until a little after the last one.
  const TYPING_EVERY_MS = 3000;
  const TYPING_SHOWN_MS = 6000;

  function typingSignal(send) {
    let last = 0;
    return () => {
      if (Date.now() - last < TYPING_EVERY_MS) return;
      last = Date.now();
      send();
    };
  }

  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === false || value === null || value === undefined) continue;
      if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // Redrawing a panel must not lose what the person is typing or choosing: the fields they
  // changed, and the one with the focus, carry over to the redrawn fields of the same form
  // and name (a choice only while the redrawn list still offers it).
  document.addEventListener("change", (event) => {
    if (event.target instanceof HTMLSelectElement) event.target.dataset.chosen = "1";
  }, true);

  function fieldKey(field) {
    const tick = field.type === "radio" || field.type === "checkbox" ? `=${field.value}` : "";
    return `${field.form ? field.form.className : ""}/${field.name}${tick}`;
  }

  function keepingInput(container, redraw) {
    const fields = () => [...container.querySelectorAll("input[name], select[name], textarea[name]")]
      .filter((field) => field.type !== "file");
    const kept = new Map();
    for (const field of fields()) {
      if (field.type === "radio" || field.type === "checkbox") {
        if (field.checked !== field.defaultChecked) kept.set(fieldKey(field), field.checked);
      } else if (field instanceof HTMLSelectElement ? field.dataset.chosen === "1" : field.value !== field.defaultValue) {
        kept.set(fieldKey(field), field.value);
      }
    }
    const active = document.activeElement;
    const focused = active && container.contains(active) && active.name ? fieldKey(active) : null;
    const caret = focused && typeof active.selectionStart === "number" ? [active.selectionStart, active.selectionEnd] : null;
    redraw();
    for (const field of fields()) {
      const key = fieldKey(field);
      if (kept.has(key)) {
        const value = kept.get(key);
        if (field.type === "radio" || field.type === "checkbox") field.checked = value;
        else if (!(field instanceof HTMLSelectElement)) field.value = value;
        else if ([...field.options].some((option) => option.value === value)) {
          field.value = value;
          field.dataset.chosen = "1";
        }
      }
      if (key === focused) {
        field.focus();
        if (caret) try { field.setSelectionRange(...caret); } catch (error) { /* not a text field */ }
      }
    }
  }

  function time(seconds) {
    return new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function waited(since, now) {
    const total = Math.max(0, Math.floor(now - since));
    const minutes = Math.floor(total / 60);
    const secs = String(total % 60).padStart(2, "0");
    return minutes >= 60 ? `${Math.floor(minutes / 60)}h ${minutes % 60}m` : `${minutes}:${secs}`;
  }

  function size(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  // The exit survey as a form: radio, checkbox, select, text, textarea questions.
  function surveyForm(form, questions, onSubmit) {
    form.replaceChildren();
    for (const q of questions) {
      const name = `q${q.id}`;
      let input;
      if (q.type === "radio" || q.type === "checkbox") {
        input = el("fieldset", {}, el("legend", {}, q.label),
          q.options.map((option) => el("label", {}, el("input", { type: q.type, name, value: option }), option)));
      } else if (q.type === "select") {
        input = el("label", {}, q.label, el("select", { name }, el("option", { value: "" }, "—"),
          q.options.map((option) => el("option", { value: option }, option))));
      } else if (q.type === "textarea") {
        input = el("label", {}, q.label, el("textarea", { name, maxlength: 4096, rows: 3 }));
      } else {
        input = el("label", {}, q.label, el("input", { name, maxlength: 255 }));
      }
      form.append(el("div", { class: "question", "data-question": q.id }, input));
    }
    form.append(el("button", { type: "submit" }, "Send"));
    form.onsubmit = (event) => {
      event.preventDefault();
      const answers = {};
      for (const q of questions) {
        const values = new FormData(form).getAll(`q${q.id}`).filter((v) => v !== "");
        if (values.length) answers[q.id] = values;
      }
      onSubmit(answers);
    };
  }

  return { LiveSocket, el, time, waited, size, surveyForm, newRef, keepingInput, typingSignal, TYPING_SHOWN_MS, PROTOCOL_VERSION };
})();
