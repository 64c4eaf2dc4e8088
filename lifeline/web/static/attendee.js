// The presentation attendee page: join with a name, see who presents and who attends,
// chat with everyone, watch the presenter's screen, and learn when the presentation ends.
"use strict";

(() => {
  const { LiveSocket, el, time, PROTOCOL_VERSION } = Lifeline;
  const root = document.getElementById("attendee");
  const key = root.dataset.key;
  const statusLine = document.getElementById("status");
  const joinForm = document.getElementById("join");
  const nameInput = document.getElementById("name");
  const conversation = document.getElementById("conversation");
  const composer = document.getElementById("composer");
  const input = document.getElementById("message");
  const sendButton = document.getElementById("send");
  const presenterLine = document.getElementById("presenter");
  const attendeeList = document.getElementById("attendees");
  const seen = new Set();
  let me = null;
  let socket = null;
  let over = false;

  nameInput.value = sessionStorage.getItem("lifeline.attendee.name") || "";

  function enable(on) {
    input.disabled = sendButton.disabled = !on;
  }

  function show(presentation) {
    presenterLine.textContent = `${presentation.presenter || "The representative"} is presenting.`;
    attendeeList.replaceChildren(...presentation.attendees.map((a) =>
      el("li", { "data-gsnumber": a.gsnumber }, a.gsnumber === me ? `${a.name} (you)` : a.name)));
    if (presentation.status === "ended") end();
  }

  function end() {
    over = true;
    showShare(null);
    statusLine.textContent = "The presentation has ended. Thank you for attending.";
    enable(false);
  }

  function line(event) {
    if (seen.has(event.id)) return;
    seen.add(event.id);
    const who = event.performed_by ? event.performed_by.name : "";
    const mine = event.performed_by && event.performed_by.gsnumber === me;
    let content;
    if (event.type === "Chat Message") content = [el("span", { class: "who" }, mine ? "You" : who), el("span", { class: "body" }, event.body)];
    else if (event.type === "Session End") { content = ["The presentation has ended."]; end(); }
    else return;
    conversation.append(el("p", { class: `line ${event.type === "Chat Message" ? "chat" : "system"}` },
      el("time", {}, time(event.at)), ...content));
    conversation.scrollTop = conversation.scrollHeight;
  }

  // --- the presenter's screen: SCREEN frames of the presentation's stream, decoded with
  // WebCodecs onto the canvas (a picture needs the ones before it back to a key frame).
  const canvas = document.getElementById("screen");
  const noScreen = document.getElementById("no-screen");
  const REASK_EVERY_MS = 1000;
  const screen = { share: null, asked: 0 };
  const pictures = new ScreenDecoder({ canvas, onNeedKey: askForKeyFrame });

  function showShare(share) {
    const before = screen.share ? screen.share.stream : 0;
    screen.share = share;
    if (!share || share.stream !== before) pictures.reset();
    canvas.hidden = !share;
    noScreen.hidden = Boolean(share);
    if (!share) { pictures.frames = 0; canvas.dataset.frames = "0"; }
  }

  function askForKeyFrame() {
    if (Date.now() - screen.asked < REASK_EVERY_MS || !socket) return;
    screen.asked = Date.now();
    socket.request("key_frame").catch(() => {});
  }

  function frame(buffer) {
    if (typeof LifelineFrames === "undefined" || !ScreenDecoder.supported()) {
      noScreen.hidden = false;
      noScreen.textContent = "This browser cannot show the screen: use a current Chrome, Edge or Firefox.";
      return;
    }
    const header = LifelineFrames.parse(buffer);
    if (!header || !screen.share || header.stream !== screen.share.stream) return;
    pictures.decode(header, screen.share.codec);
  }

  function receive(message) {
    switch (message.type) {
      case "screen":
        showShare(message.share || null);
        break;
      case "welcome":
        me = message.gsnumber;
        for (const part of ["stage", "people", "conversation", "composer"]) document.getElementById(part).hidden = false;
        joinForm.hidden = true;
        show(message.presentation);
        message.history.forEach(line);
        if (!over) {
          statusLine.textContent = `You joined as ${message.name}.`;
          enable(true);
        }
        break;
      case "state":
        show(message.presentation);
        break;
      case "event":
        line(message.event);
        break;
      case "gone":
        statusLine.textContent = message.error;
        enable(false);
        joinForm.hidden = me !== null;
        break;
      case "error":
        statusLine.textContent = message.error;
        break;
    }
  }

  joinForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = nameInput.value.trim();
    if (!name) return;
    sessionStorage.setItem("lifeline.attendee.name", name);
    if (socket) socket.close();
    statusLine.textContent = "Joining…";
    socket = new LiveSocket("/ws/attendee", {
      hello: () => ({ type: "hello", key, name, timezone_offset: -new Date().getTimezoneOffset() * 60, version: PROTOCOL_VERSION }),
      onMessage: receive,
      onBinary: frame,
      onStatus: (state) => {
        root.dataset.connection = state;
        if (state === "reconnecting" && !over) statusLine.textContent = "Reconnecting…";
        if (state === "over" && !over && me !== null) end();
      },
    });
  });

  composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = input.value.trim();
    if (!body || !socket) return;
    input.value = "";
    try {
      await socket.request("chat", { body });
    } catch (error) {
      statusLine.textContent = error.message;
      input.value = body;
    }
  });

  window.LifelineAttendee = { socket: () => socket };
})();
