// The console's presentation: "Present" starts one (a session of session_type
// "presentation"), the panel shows its key and attendee link, who attends, and its chat;
// "Share my screen" shows the rep's screen to the attendees (getDisplayMedia and VP8 with
// WebCodecs, screenshare.js's encoder, frames on the console's socket); "End presentation"
// ends it. console.js hands it every message first: what concerns a
// presentation is this module's, never a session tab.
"use strict";

const ConsolePresenting = (() => {
  const { el, time } = Lifeline;

  // The customer page's browser share (screenshare.js), announced as the presentation's.
  class PresenterShare extends BrowserShare.Share {
    constructor(socket, lsid, onEnded) {
      super(socket, onEnded);
      this.lsid = lsid;
    }

    async announce([width, height]) {
      this.size = [width, height];
      this.encoder.configure({ codec: "vp8", width, height, bitrate: 1_000_000, framerate: 15, latencyMode: "realtime" });
      const answer = await this.socket.request("presentation_share", { lsid: this.lsid, codec: "vp8", width, height });
      if (this.stream !== answer.result.stream) this.sequence = 0;
      this.stream = answer.result.stream;
      this.wantKey = true;
    }

    stop() {
      if (this.stopped) return;
      const stream = this.stream;
      this.stream = 0; // the page's own screen_unshare is not the console's
      super.stop();
      if (stream) this.socket.request("presentation_unshare", { lsid: this.lsid }).catch(() => {});
    }
  }

  function create({ socket, say, me }) {
    const panel = document.getElementById("presentation");
    const button = document.getElementById("present");
    const presentations = new Map(); // lsid -> state
    const history = new Map(); // lsid -> events
    const links = new Map(); // lsid -> the attendee link the start's ack gave
    let active = null; // lsid of the presentation this console gives now
    let share = null; // PresenterShare while the rep's screen is shown

    const isPresentation = (state) => state && state.session_type === "presentation";

    function addEvent(lsid, event) {
      const events = history.get(lsid) || [];
      if (events.some((e) => e.id === event.id)) return;
      events.push(event);
      events.sort((a, b) => a.id - b.id);
      history.set(lsid, events);
    }

    function take(state, gsnumber = me()) {
      presentations.set(state.lsid, state);
      if (state.status !== "ended" && state.owner === gsnumber) active = state.lsid;
      else if (active === state.lsid) {
        active = null;
        stopSharing();
      }
    }

    async function shareScreen() {
      if (share || !active) return;
      const started = new PresenterShare(socket, active, (error) => {
        if (share === started) share = null;
        if (error) say(`Screen sharing stopped: ${error.message || error}`);
        render();
      });
      share = started;
      try {
        await started.start();
      } catch (error) { // the rep chose nothing, or the browser refused
        started.stop();
        share = null;
        if (error.name !== "NotAllowedError") say(`Your screen could not be shared: ${error.message}`);
      }
      render();
    }

    function stopSharing() {
      if (!share) return;
      const stopping = share;
      share = null;
      stopping.stop();
    }

    // True when the message was about a presentation (console.js then leaves it alone).
    function receive(message) {
      switch (message.type) {
        case "key_frame":
          if (share) share.keyFrame(message.stream);
          return true;
        case "welcome": {
          if (share) share.resumed(); // announced again: the appliance forgot the share with the socket
          const mine = message.sessions.filter(isPresentation);
          message.sessions = message.sessions.filter((s) => !isPresentation(s));
          for (const state of mine) {
            take(state, message.gsnumber); // console.js learns its gsnumber after this
            (message.history[state.lsid] || []).forEach((e) => addEvent(state.lsid, e));
            delete message.history[state.lsid];
          }
          render();
          return false; // the rest of the welcome is console.js's
        }
        case "session":
          if (!isPresentation(message.session)) return false;
          take(message.session);
          render();
          return true;
        case "event":
        case "typing":
          if (!presentations.has(message.lsid)) return false;
          if (message.type === "event") addEvent(message.lsid, message.event);
          render();
          return true;
      }
      return false;
    }

    async function start() {
      say("");
      try {
        const answer = await socket.request("presentation_start", {});
        links.set(answer.result.lsid, answer.result.url);
        active = answer.result.lsid;
        render();
      } catch (error) {
        say(error.message);
      }
    }

    async function end() {
      if (!active) return;
      stopSharing();
      try {
        await socket.request("presentation_end", { lsid: active });
      } catch (error) {
        say(error.message);
      }
    }

    function line(event) {
      const who = event.performed_by ? event.performed_by.name : "";
      const mine = event.performed_by && event.performed_by.gsnumber === me();
      let content;
      switch (event.type) {
        case "Chat Message": content = [el("span", { class: "who" }, mine ? "You" : who), el("span", { class: "body" }, event.body)]; break;
        case "Session End": content = ["The presentation ended"]; break;
        default: return null;
      }
      return el("p", { class: "line" }, el("time", {}, time(event.at)), ...content);
    }

    function render() {
      button.hidden = Boolean(active);
      const state = active && presentations.get(active);
      if (!state) {
        panel.hidden = true;
        panel.replaceChildren();
        return;
      }
      const info = state.presentation;
      const link = links.get(state.lsid) || `${location.origin}/presentation/${info.url_key}`;
      const typed = panel.querySelector("input[name=body]");
      const draft = typed ? typed.value : "";
      const hadFocus = typed && document.activeElement === typed;
      const log = el("div", { class: "conversation" }, ...(history.get(state.lsid) || []).map(line).filter(Boolean));
      const form = el("form", { class: "composer", onsubmit: async (event) => {
        event.preventDefault();
        const field = event.target.elements.body;
        const body = field.value.trim();
        if (!body) return;
        field.value = "";
        try { await socket.request("chat", { lsid: state.lsid, body }); } catch (error) { say(error.message); field.value = body; }
      } }, el("input", { name: "body", maxlength: 16384, placeholder: "Message to everyone", "aria-label": "Message to attendees" }),
      el("button", { type: "submit" }, "Send"));
      panel.replaceChildren(
        el("div", { class: "presentation-info" },
          el("h2", {}, "You are presenting"),
          el("p", {}, "Presentation key: ", el("strong", { class: "presentation-key" }, info.short_key)),
          el("p", {}, "Attendee link: ", el("a", { class: "presentation-link", href: link, target: "_blank", rel: "noopener" }, link)),
          el("h3", {}, `Attendees (${info.attendees.length})`),
          el("ul", { class: "attendee-list" }, ...info.attendees.map((a) => el("li", { "data-gsnumber": a.gsnumber }, a.name))),
          el("div", { class: "presentation-actions" },
            share
              ? [el("span", { class: "sharing", role: "status" }, "Your screen is shown to the attendees."),
                el("button", { type: "button", class: "stop-sharing", onclick: () => { stopSharing(); render(); } }, "Stop sharing")]
              : BrowserShare.supported()
                ? el("button", { type: "button", class: "share-screen", onclick: shareScreen }, "Share my screen")
                : el("span", { class: "muted" }, "This browser cannot share a screen: use a current Chrome, Edge or Firefox."),
            el("button", { type: "button", class: "secondary end-presentation", onclick: end }, "End presentation"))),
        el("div", { class: "presentation-talk" }, log, form),
      );
      const field = form.elements.body;
      field.value = draft;
      if (hadFocus) field.focus();
      log.scrollTop = log.scrollHeight;
      panel.dataset.lsid = state.lsid;
      panel.hidden = false;
    }

    button.addEventListener("click", start);
    return { receive, active: () => active };
  }

  return { create };
})();
