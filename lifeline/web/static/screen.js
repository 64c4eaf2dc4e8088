// The customer's screen in the console (the Screen pane of the Computer column): asking for
// it, showing it (VP8 frames decoded with WebCodecs onto a canvas), and, for the one rep in
// control, the mouse, keyboard and clipboard. computer.js makes one per session and hands it
// the session's `screen` and `clipboard` pushes and its SCREEN frames.
"use strict";

const ConsoleScreen = (() => {
  const { el, newRef } = Lifeline;

  const MAX_EVENTS = 64; // per screen_input (lifeline_protocol.screen.MAX_INPUT_EVENTS)
  const SEND_EVERY_MS = 17; // at most ~60 screen_input messages a second
  const QUEUE_LIMIT = 512; // events waiting to go; past this the oldest moves are dropped
  const REWATCH_EVERY_MS = 1000; // a key frame is asked for (by watching anew) at most this often
  // lifeline_protocol.screen.KEYS: keys that are not one printable character.
  const KEYS = new Set([
    "Alt", "AltGraph", "ArrowDown", "ArrowLeft", "ArrowRight", "ArrowUp", "Backspace", "CapsLock",
    "ContextMenu", "Control", "Delete", "End", "Enter", "Escape", "Home", "Insert", "Meta", "NumLock",
    "PageDown", "PageUp", "Pause", "PrintScreen", "ScrollLock", "Shift", "Tab",
    ...Array.from({ length: 12 }, (_, i) => `F${i + 1}`),
  ]);
  const BUTTONS = ["left", "middle", "right"];

  function knownKey(key) {
    return KEYS.has(key) || [...key].length === 1;
  }

  // One session's screen. `computer` is its Computer (computer.js): whether the client is
  // connected and what the customer allowed; `members()` the session's representatives.
  class ScreenView {
    constructor({ lsid, socket, me, members, say, computer }) {
      Object.assign(this, { lsid, socket, me, members, say, computer });
      this.state = { share: null, controller: null, controller_name: "", error: "" };
      this.shown = false; // the console shows this session
      this.watching = 0; // the stream watched, 0: none
      this.fit = true;
      this.large = false; // the screen takes most of the session's width, the chat a narrow column
      this.lastRewatch = 0;
      this.queue = [];
      this.sendTimer = null;
      this.movePending = null;
      this.held = new Set(); // keys down on the canvas, let go when it loses the focus
      this.refs = new Set(); // refs of screen_input: only a refusal is answered
      this.clipboardIn = ""; // the customer's last copied text
      this.note = "";

      this.root = el("section", { class: "pane pane-screen", "aria-label": "Screen" });
      this.bar = el("div", { class: "pane-bar screen-bar" });
      this.status = el("p", { class: "pane-error", role: "alert", hidden: true });
      this.message = el("div", { class: "screen-message" });
      this.canvas = el("canvas", { class: "screen-canvas", tabindex: "0", width: 0, height: 0, "aria-label": "The customer's screen" });
      this.view = el("div", { class: "screen-view fit", hidden: true }, this.canvas);
      this.control = el("div", { class: "screen-control" });
      this.clipboard = el("div", { class: "screen-clipboard" });
      this.root.append(this.bar, this.status, this.message, this.view, this.control, this.clipboard);
      this.pictures = new ScreenDecoder({
        canvas: this.canvas,
        onNeedKey: () => this.askForKeyFrame(),
        onDrawn: () => { if (this.view.hidden) this.render(); },
      });
      this.listen();
      this.render();
    }

    get share() {
      return this.state.share;
    }

    inControl() {
      return Boolean(this.share) && this.state.controller !== null && this.state.controller === this.me();
    }

    // --- pushes ----------------------------------------------------------------------------

    update(message) {
      const before = this.share ? this.share.stream : 0;
      this.state = {
        share: message.share || null, controller: message.controller ?? null,
        controller_name: message.controller_name || "", error: message.error || "",
      };
      if (!this.share || this.share.stream !== before) { // another picture: nothing of the old one stays
        this.pictures.reset();
        this.pictures.frames = 0;
        this.canvas.width = 0;
      }
      if (!this.inControl()) this.letGo();
      this.syncWatch();
      this.render();
    }

    pushedClipboard(text) {
      this.clipboardIn = text;
      this.renderClipboard();
    }

    setShown(shown) {
      this.shown = shown;
      this.syncWatch();
    }

    // Frames come only while watched: a session the console does not show costs nothing.
    syncWatch() {
      const want = this.shown && this.share ? this.share.stream : 0;
      if (want === this.watching) return;
      if (this.watching && !want) this.request("screen_unwatch", {}).catch(() => {});
      this.watching = want;
      if (want) this.watch();
    }

    async watch() {
      this.pictures.reset();
      try {
        await this.request("screen_watch", {});
      } catch (error) {
        this.watching = 0;
        this.showError(error.message);
      }
    }

    // After the socket came back the appliance no longer sends frames: watch again.
    resumed() {
      this.watching = 0;
      this.syncWatch();
    }

    request(type, fields) {
      return this.socket.request(type, { lsid: this.lsid, ...fields });
    }

    // --- pictures --------------------------------------------------------------------------

    frame(header) {
      if (!this.share || header.stream !== this.share.stream || !this.watching) return;
      if (!ScreenDecoder.supported()) {
        this.showError("This browser cannot show the screen (it has no WebCodecs): use a current Chrome, Edge or Firefox.");
        return;
      }
      this.pictures.decode(header, this.share.codec);
    }

    // The appliance asks the sender for a key frame when a viewer starts watching.
    askForKeyFrame() {
      if (Date.now() - this.lastRewatch < REWATCH_EVERY_MS || !this.watching) return;
      this.lastRewatch = Date.now();
      this.request("screen_unwatch", {}).catch(() => {});
      this.request("screen_watch", {}).catch(() => {});
    }

    // --- what the pane shows ------------------------------------------------------------------

    render() {
      this.renderBar();
      this.renderMessage();
      this.renderControl();
      this.renderClipboard();
    }

    showError(text) {
      this.status.textContent = text;
      this.status.hidden = !text;
    }

    renderBar() {
      const share = this.share;
      const connected = this.computer.state.connected;
      const monitors = share && share.monitors.length > 1 ? el("select", {
        name: "monitor", class: "monitor", "aria-label": "Monitor",
        onchange: (event) => this.start(Number(event.target.value)),
      }, share.monitors.map((m) => el("option", { value: m.number, selected: m.number === share.monitor },
        `Monitor ${m.number}${m.primary ? " (main)" : ""} — ${m.width}×${m.height}`))) : null;
      const mayShow = !connected || this.computer.allowed("screen");
      if (!share && this.large) this.enlarge(false); // nothing to make large
      this.bar.replaceChildren(...[
        share ? null : el("button", { type: "button", class: "show-screen", disabled: !mayShow, onclick: () => this.start(null) },
          connected ? "Show screen" : "Ask the customer to share their screen"),
        monitors,
        share ? el("span", { class: "screen-source" }, share.source === "browser"
          ? `Shared from the customer's browser, ${share.width}×${share.height}`
          : `${share.width}×${share.height}`) : null,
        share ? el("button", { type: "button", class: `fit secondary${this.fit ? " active" : ""}`, "aria-pressed": String(this.fit),
          onclick: () => this.scale(true) }, "Fit") : null,
        share ? el("button", { type: "button", class: `one-to-one secondary${this.fit ? "" : " active"}`, "aria-pressed": String(!this.fit),
          onclick: () => this.scale(false) }, "1:1") : null,
        share ? el("button", { type: "button", class: `enlarge secondary${this.large ? " active" : ""}`, "aria-pressed": String(this.large),
          title: "Give the screen most of the session's width", onclick: () => this.enlarge(!this.large) }, "Large") : null,
        share ? el("button", { type: "button", class: "stop-screen danger", onclick: () => this.stop() }, "Stop") : null,
      ].filter(Boolean));
    }

    // Why there is no picture, when there is none.
    renderMessage() {
      const share = this.share;
      const connected = this.computer.state.connected;
      const lines = [];
      if (this.state.error) lines.push(el("p", { class: "screen-error" }, `Sharing stopped: ${this.state.error}`));
      if (!share) {
        if (!connected) {
          lines.push(el("p", { class: "not-allowed no-client" },
            "The Lifeline client is not running, so the screen cannot be controlled. The customer can share a screen or window from their browser for you to see."));
        } else if (!this.computer.allowed("screen")) {
          const asked = this.computer.state.asked.includes("screen");
          lines.push(el("p", { class: "not-allowed" }, "The customer has not allowed you to see their screen. ",
            asked ? "Asked, waiting for the customer…"
              : el("button", { type: "button", class: "ask secondary", onclick: () => this.computer.ask("screen") }, "Ask to see the screen")));
        } else {
          lines.push(el("p", { class: "empty" }, "Nothing is shared yet: press Show screen."));
        }
      } else if (!this.pictures.frames) {
        lines.push(el("p", { class: "empty waiting" }, "Waiting for the first picture…"));
      }
      this.message.replaceChildren(...lines);
      this.view.hidden = !share || !this.pictures.frames;
      this.view.classList.toggle("fit", this.fit);
      this.view.classList.toggle("in-control", this.inControl());
    }

    renderControl() {
      const share = this.share;
      if (!share) return this.control.replaceChildren();
      const me = this.me();
      const { controller, controller_name: controllerName } = this.state;
      let parts;
      if (!share.control) {
        parts = [el("p", { class: "not-allowed" }, "A screen shared from the customer's browser can be seen, not controlled.")];
      } else if (!this.computer.allowed("control")) {
        const asked = this.computer.state.asked.includes("control");
        parts = [el("p", { class: "not-allowed" }, "The customer has not allowed control of their mouse and keyboard. ",
          asked ? "Asked, waiting for the customer…"
            : el("button", { type: "button", class: "ask secondary", onclick: () => this.computer.ask("control") }, "Ask for control"))];
      } else if (controller === null) {
        parts = [el("span", { class: "controller" }, "Nobody is in control."),
          el("button", { type: "button", class: "take-control", onclick: () => this.takeControl({}) }, "Take control")];
      } else if (controller === me) {
        const others = (this.members() || []).filter((m) => m.gsnumber !== me);
        parts = [el("span", { class: "controller mine" }, "You are in control: click the picture, then use your mouse and keyboard."),
          el("button", { type: "button", class: "ctrl-alt-del secondary", onclick: () => this.send({ kind: "ctrl_alt_del" }) }, "Ctrl+Alt+Del"),
          el("button", { type: "button", class: "release secondary", onclick: () => this.takeControl({ release: true }) }, "Release"),
          ...others.map((m) => el("button", { type: "button", class: "hand-over secondary", "data-gsnumber": m.gsnumber,
            onclick: () => this.takeControl({ to: m.gsnumber }) }, `Hand over to ${m.name}`))];
      } else {
        parts = [el("span", { class: "controller" }, `${controllerName || "Another representative"} is in control.`)];
      }
      this.control.replaceChildren(...parts);
    }

    renderClipboard() {
      if (!this.inControl()) return this.clipboard.replaceChildren();
      const text = el("textarea", { name: "clipboard", rows: 2, maxlength: 65536, placeholder: "Text for the customer's clipboard", "aria-label": "Text for the customer's clipboard" });
      const form = el("form", { class: "send-clipboard" }, text,
        el("button", { type: "submit", class: "secondary" }, "Send clipboard text"));
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          await this.request("screen_clipboard", { text: text.value });
          this.showError("");
          text.value = "";
        } catch (error) {
          this.showError(error.message);
        }
      });
      const copied = this.clipboardIn ? el("div", { class: "customer-clipboard" },
        el("p", {}, "The customer copied:"),
        el("textarea", { class: "copied", rows: 2, readonly: true, "aria-label": "What the customer copied" }, this.clipboardIn),
        el("button", { type: "button", class: "copy secondary", onclick: () => copy(this.clipboardIn, this.root) }, "Copy")) : null;
      Lifeline.keepingInput(this.clipboard, () => this.clipboard.replaceChildren(...[form, copied].filter(Boolean)));
    }

    scale(fit) {
      this.fit = fit;
      this.renderBar();
      this.view.classList.toggle("fit", fit);
    }

    enlarge(large) {
      this.large = large;
      this.renderBar();
      document.querySelector(".session-body")?.classList.toggle("screen-large", large);
    }

    // --- the rep's actions ---------------------------------------------------------------------

    async start(monitor) {
      this.showError("");
      try {
        await this.request("screen_start", monitor ? { monitor } : {});
      } catch (error) {
        this.showError(error.message);
      }
    }

    async stop() {
      try {
        await this.request("screen_stop", {});
      } catch (error) {
        this.showError(error.message);
      }
    }

    async takeControl(fields) {
      this.showError("");
      try {
        await this.request("screen_control", fields);
        if (!fields.release && fields.to === undefined) this.canvas.focus();
      } catch (error) {
        this.showError(error.message);
      }
    }

    // --- mouse and keyboard, in the picture's pixels --------------------------------------------

    point(event) {
      const rect = this.canvas.getBoundingClientRect();
      const { width, height } = this.share;
      const x = Math.floor(((event.clientX - rect.left) * width) / Math.max(rect.width, 1));
      const y = Math.floor(((event.clientY - rect.top) * height) / Math.max(rect.height, 1));
      return { x: Math.min(Math.max(x, 0), width - 1), y: Math.min(Math.max(y, 0), height - 1) };
    }

    listen() {
      const canvas = this.canvas;
      const active = (event) => {
        if (!this.inControl()) return false;
        event.preventDefault();
        return true;
      };
      // One move per animation frame: the latest place wins.
      canvas.addEventListener("pointermove", (event) => {
        if (!this.inControl()) return;
        const first = this.movePending === null;
        this.movePending = this.point(event);
        if (first) requestAnimationFrame(() => this.flushMove());
      });
      canvas.addEventListener("pointerdown", (event) => {
        if (!active(event)) return;
        canvas.focus();
        canvas.setPointerCapture(event.pointerId);
        this.flushMove();
        this.send({ kind: "button", ...this.point(event), button: BUTTONS[event.button] || "left", down: true });
      });
      canvas.addEventListener("pointerup", (event) => {
        if (!active(event)) return;
        this.flushMove();
        this.send({ kind: "button", ...this.point(event), button: BUTTONS[event.button] || "left", down: false });
      });
      canvas.addEventListener("contextmenu", (event) => active(event));
      canvas.addEventListener("wheel", (event) => {
        if (!active(event)) return;
        const steps = (delta) => {
          if (!delta) return 0;
          const lines = event.deltaMode === 0 ? delta / 100 : event.deltaMode === 1 ? delta / 3 : delta * 3;
          return Math.max(-20, Math.min(20, Math.sign(delta) * Math.max(1, Math.round(Math.abs(lines)))));
        };
        this.send({ kind: "wheel", ...this.point(event), dx: steps(event.deltaX), dy: steps(event.deltaY) });
      }, { passive: false });
      const key = (down) => (event) => {
        if (!active(event) || !knownKey(event.key)) return;
        if (down) this.held.add(event.key);
        else this.held.delete(event.key);
        this.send({ kind: "key", key: event.key, down });
      };
      canvas.addEventListener("keydown", key(true));
      canvas.addEventListener("keyup", key(false));
      canvas.addEventListener("blur", () => this.letGo());
    }

    flushMove() {
      if (this.movePending === null) return;
      const at = this.movePending;
      this.movePending = null;
      if (this.inControl()) this.send({ kind: "move", ...at });
    }

    // Keys still down when the canvas loses the focus (or control ends) come up.
    letGo() {
      const held = [...this.held];
      this.held.clear();
      if (this.inControl()) for (const key of held) this.send({ kind: "key", key, down: false });
    }

    send(event) {
      const last = this.queue[this.queue.length - 1];
      if (event.kind === "move" && last && last.kind === "move") this.queue[this.queue.length - 1] = event;
      else this.queue.push(event);
      if (this.queue.length > QUEUE_LIMIT) {
        const at = this.queue.findIndex((e) => e.kind === "move");
        this.queue.splice(at >= 0 ? at : 0, 1);
      }
      if (!this.sendTimer) this.sendTimer = setTimeout(() => this.sendQueued(), 0);
    }

    sendQueued() {
      this.sendTimer = null;
      if (!this.queue.length) return;
      const events = this.queue.splice(0, MAX_EVENTS);
      if (this.socket.ready) {
        const ref = newRef();
        if (this.refs.size > 1000) this.refs.clear();
        this.refs.add(ref);
        this.socket.socket.send(JSON.stringify({ type: "screen_input", ref, lsid: this.lsid, events }));
      }
      // The next batch waits its turn (~60 a second); an empty turn ends the wait.
      this.sendTimer = setTimeout(() => this.sendQueued(), SEND_EVERY_MS);
    }

    // A refused screen_input (the only answer it gets); true when the ack was one of them.
    refused(message) {
      if (!this.refs.has(message.ref)) return false;
      this.refs.delete(message.ref);
      if (!message.ok) this.showError(message.error);
      return true;
    }
  }

  async function copy(text, near) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (error) { // no clipboard permission: select it for Ctrl+C
      const box = near.querySelector("textarea.copied");
      if (box) { box.focus(); box.select(); }
    }
  }

  return { ScreenView };
})();
