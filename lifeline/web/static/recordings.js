// A session report's recordings. Screen videos get their length found (a browser's
// MediaRecorder writes WebM without one); command shells play from the screens the
// appliance replays (see lifeline/web/admin/recordings.py for what it sends).
"use strict";

(() => {
  // --- screen and presentation videos ----------------------------------------------------

  // Seeking past the end makes the browser read to the end and learn the duration; then
  // back. A long recording is read only once someone plays it, not whenever the page opens.
  const READ_AT_ONCE = 32 * 1024 * 1024;

  function findDuration(video) {
    if (Number(video.dataset.size) > READ_AT_ONCE) {
      video.addEventListener("play", () => findLength(video), { once: true });
    } else findLength(video);
  }

  function findLength(video) {
    const probe = () => {
      if (video.duration !== Infinity) return;
      const back = () => {
        if (video.duration === Infinity) return;
        video.removeEventListener("durationchange", back);
        video.currentTime = 0;
      };
      video.addEventListener("durationchange", back);
      video.currentTime = 1e101; // past any end
    };
    if (video.readyState >= HTMLMediaElement.HAVE_METADATA) probe();
    else video.addEventListener("loadedmetadata", probe, { once: true });
  }

  // --- command shells --------------------------------------------------------------------

  const BOLD = 1, ITALIC = 2, UNDERLINE = 4, REVERSE = 8, STRIKE = 16;
  const NAMED = /^(bright)?(black|red|green|brown|blue|magenta|cyan|white)$/;
  const HEX = /^[0-9a-fA-F]{6}$/;
  const ROW_EM = 1.25; // a row's height, as in lifeline.css

  function clock(seconds) {
    const minutes = Math.floor(seconds / 60);
    return `${minutes}:${(seconds - minutes * 60).toFixed(1).padStart(4, "0")}`;
  }

  function paint(span, colour, property, prefix) {
    if (NAMED.test(colour)) span.classList.add(`${prefix}-${colour}`);
    else if (HEX.test(colour)) span.style[property] = `#${colour}`; // CSSOM: allowed by the page's CSP
  }

  function lineElement(runs) {
    const row = document.createElement("div");
    row.className = "screen-line";
    for (const [text, fg, bg, flags] of runs) {
      const span = document.createElement("span");
      span.textContent = text;
      const reverse = Boolean(flags & REVERSE);
      paint(span, reverse ? bg : fg, "color", "fg");
      paint(span, reverse ? fg : bg, "backgroundColor", "bg");
      if (reverse) span.classList.add("reverse");
      if (flags & BOLD) span.classList.add("bold");
      if (flags & ITALIC) span.classList.add("italic");
      if (flags & UNDERLINE) span.classList.add("underline");
      if (flags & STRIKE) span.classList.add("strike");
      row.append(span);
    }
    return row;
  }

  class ShellPlayer {
    constructor(root) {
      this.url = root.dataset.screens;
      this.terminal = root.querySelector(".terminal");
      this.button = root.querySelector(".play");
      this.slider = root.querySelector(".position");
      this.clock = root.querySelector(".time");
      this.speed = root.querySelector(".speed");
      this.note = root.querySelector(".shell-note");
      this.cursor = document.createElement("span");
      this.cursor.className = "cursor";
      this.lines = []; // line number -> its element, cloned into rows
      this.frames = []; // {at, rows, cursor, width}, in time order
      this.width = 80;
      this.end = null; // the length, once every screen has come
      this.position = 0;
      this.playing = false;
      this.loading = null;
      this.shown = null;
      this.button.addEventListener("click", () => (this.playing ? this.pause() : this.play()));
      this.slider.addEventListener("input", () => {
        this.load();
        this.position = Number(this.slider.value);
        this.draw();
      });
    }

    // The screens arrive as JSON lines while the appliance replays the recording; playing
    // can start on the first of them.
    load() {
      if (this.loading) return;
      this.loading = this.fetchScreens().catch(() => this.say("This recording could not be loaded."));
    }

    async fetchScreens() {
      this.say("Loading…");
      const response = await fetch(this.url, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let rest = "";
      for (;;) {
        const { value, done } = await reader.read();
        rest += decoder.decode(value || new Uint8Array(), { stream: !done });
        const lines = rest.split("\n");
        rest = lines.pop();
        for (const line of lines) if (line) this.take(JSON.parse(line));
        this.draw();
        if (done) break;
      }
      if (this.end === null) throw new Error("the recording ended early");
    }

    take(item) {
      if ("size" in item) this.width = item.size[0];
      else if ("line" in item) this.lines[item.line] = lineElement(item.runs);
      else if ("at" in item) this.frames.push({ at: item.at, rows: item.rows, cursor: item.cursor, width: this.width });
      else if ("end" in item) {
        this.end = item.end;
        this.say(item.truncated ? "Only the beginning of this long recording plays here; download it for the rest." : "");
      }
    }

    say(text) {
      this.note.textContent = text;
      this.note.hidden = !text;
    }

    available() {
      if (this.end !== null) return this.end;
      return this.frames.length ? this.frames[this.frames.length - 1].at : 0;
    }

    play() {
      this.load();
      if (this.end !== null && this.position >= this.end) this.position = 0;
      this.playing = true;
      this.button.textContent = "Pause";
      let last = performance.now();
      const tick = (now) => {
        if (!this.playing) return;
        this.position = Math.min(this.position + ((now - last) / 1000) * Number(this.speed.value), this.available());
        last = now;
        this.draw();
        if (this.end !== null && this.position >= this.end) this.pause();
        else requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    }

    pause() {
      this.playing = false;
      this.button.textContent = "Play";
    }

    // The last frame at or before the position.
    frameAt(seconds) {
      let low = 0, high = this.frames.length - 1, found = -1;
      while (low <= high) {
        const middle = (low + high) >> 1;
        if (this.frames[middle].at <= seconds) {
          found = middle;
          low = middle + 1;
        } else high = middle - 1;
      }
      return found;
    }

    draw() {
      const length = this.available();
      this.slider.max = String(length);
      this.slider.value = String(this.position);
      this.clock.textContent = `${clock(this.position)} / ${clock(length)}${this.end === null ? "…" : ""}`;
      const index = this.frameAt(this.position);
      if (index < 0 || index === this.shown) return;
      this.shown = index;
      const frame = this.frames[index];
      const rows = this.terminal.querySelectorAll(":scope > .screen-line");
      if (rows.length !== frame.rows.length || !this.terminal.classList.contains("playing")) {
        this.terminal.replaceChildren(...frame.rows.map(() => document.createElement("div")), this.cursor);
        this.terminal.classList.add("playing");
      }
      this.terminal.style.width = `${frame.width}ch`;
      this.terminal.querySelectorAll(":scope > div").forEach((row, y) => {
        const number = String(frame.rows[y]);
        if (row.dataset.line === number) return;
        const line = this.lines[frame.rows[y]];
        row.className = "screen-line";
        row.dataset.line = number;
        row.replaceChildren(...(line ? line.cloneNode(true).childNodes : []));
      });
      this.cursor.hidden = frame.cursor === null;
      if (frame.cursor) {
        this.cursor.style.left = `${frame.cursor[0] + 1}ch`;
        this.cursor.style.top = `${frame.cursor[1] * ROW_EM + 0.5}em`;
      }
    }
  }

  document.querySelectorAll("video.recording-video").forEach(findDuration);
  document.querySelectorAll(".shell-player").forEach((root) => new ShellPlayer(root));
})();
