// The browser customer client: waiting position, chat, files both ways, the exit survey,
// what representatives may do on the customer's computer (the Lifeline client), and the
// customer's screen: shared by the client, or from this page (screenshare.js).
"use strict";

(() => {
  const { LiveSocket, el, time, size, surveyForm, newRef, typingSignal, TYPING_SHOWN_MS, PROTOCOL_VERSION } = Lifeline;
  const root = document.getElementById("customer");
  const token = root.dataset.token;
  const conversation = document.getElementById("conversation");
  const statusLine = document.getElementById("status");
  const input = document.getElementById("message");
  const sendButton = document.getElementById("send");
  const fileInput = document.getElementById("file");
  const endButton = document.getElementById("end");
  const surveySection = document.getElementById("survey");
  const thanks = document.getElementById("thanks");
  let lastEventId = 0;
  let me = null;
  let ended = false;
  let survey = [];
  let surveyDone = false;
  let waiting = null; // {queueName, position} while in a queue
  let onDuty = true;
  const seen = new Set();
  const typing = el("p", { id: "typing", class: "typing", "aria-live": "polite", hidden: true });
  conversation.after(typing);
  let typingTimer = null;

  function showTyping(who) {
    typing.textContent = `${who.name || "The representative"} is typing…`;
    typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_SHOWN_MS);
  }

  function hideTyping() {
    typing.hidden = true;
    clearTimeout(typingTimer);
  }

  function setStatus(text) {
    statusLine.textContent = text;
  }

  function enable(on) {
    for (const control of [input, sendButton, fileInput, endButton]) control.disabled = !on;
  }

  function describe(session, position) {
    waiting = session.status === "waiting" ? { queueName: session.queue_name, position } : null;
    if (session.status === "ended") return "The session has ended.";
    if (session.status === "waiting") {
      const line = position ? ` You are number ${position} in line.` : "";
      const away = onDuty ? "" : " Nobody is on duty right now: you keep your place if you wait, or come back later.";
      return `Waiting for a representative${session.queue_name ? ` (${session.queue_name})` : ""}.${line}${away}`;
    }
    return `You are chatting with ${session.reps.join(", ") || "a representative"}.`;
  }

  function describeWaiting() {
    return describe({ status: "waiting", queue_name: waiting ? waiting.queueName : "", reps: [] }, waiting && waiting.position);
  }

  function line(event) {
    if (seen.has(event.id)) return;
    seen.add(event.id);
    lastEventId = Math.max(lastEventId, event.id);
    const who = event.performed_by ? event.performed_by.name : "";
    const mine = event.performed_by && event.performed_by.gsnumber === me;
    let content;
    switch (event.type) {
      case "Chat Message":
        if (!mine) hideTyping();
        content = [el("span", { class: "who" }, mine ? "You" : who), el("span", { class: "body" }, event.body)];
        break;
      case "File Upload":
      case "File Download":
        content = [el("span", { class: "who" }, mine ? "You" : who), " sent ",
          el("a", { href: `/chat/${token}/files/${event.file_id}`, download: event.filename }, event.filename),
          ` (${size(event.filesize)})`];
        break;
      case "Conference Member Added":
        content = [`${event.destination ? event.destination.name : who} joined the session.`];
        break;
      case "Conference Member Departed":
        content = [`${event.destination ? event.destination.name : who} left the session.`];
        break;
      case "Session Transferred to Queue":
        content = ["You are being transferred to another representative."];
        break;
      case "Session End":
        content = ["The session has ended."];
        finish();
        break;
      default:
        return;
    }
    conversation.append(el("p", { class: `line ${event.type === "Chat Message" ? "chat" : "notice"}`, "data-event": event.id },
      el("time", {}, time(event.at)), " ", ...content));
    conversation.scrollTop = conversation.scrollHeight;
  }

  function finish() {
    if (ended) return;
    ended = true;
    document.getElementById("computer").hidden = true;
    if (browserShare) browserShare.stop();
    browserShare = null;
    screenSection.hidden = true;
    enable(false);
    setStatus("The session has ended.");
    if (survey.length && !surveyDone) {
      surveySection.hidden = false;
      surveyForm(document.getElementById("survey-form"), survey, async (answers) => {
        try {
          await socket.request("survey", { answers });
          surveySection.hidden = true;
          goodbye();
        } catch (error) {
          setStatus(error.message);
        }
      });
    } else {
      goodbye();
    }
  }

  function goodbye() {
    thanks.hidden = false;
    if (socket.ready) socket.socket.send(JSON.stringify({ type: "bye" }));
  }

  const socket = new LiveSocket("/ws/customer", {
    hello: () => ({ type: "hello", token, last_event_id: lastEventId, version: PROTOCOL_VERSION }),
    onStatus: (state) => {
      if (state === "reconnecting") setStatus("Reconnecting…");
      if (state === "backup") { enable(false); setStatus("This appliance is now the backup: going to the primary…"); }
      if (state === "over") { enable(false); if (!ended) setStatus("This support session is over."); }
    },
    onMessage: (message) => {
      if (message.type === "welcome") {
        me = message.gsnumber;
        survey = message.survey;
        surveyDone = message.survey_done;
        message.history.forEach(line);
        if (browserShare) browserShare.resumed();
        if (message.session.status === "ended") finish();
        else { enable(true); setStatus(describe(message.session, message.position)); }
      } else if (message.type === "event") {
        line(message.event);
      } else if (message.type === "state") {
        if (message.session.status !== "ended") setStatus(describe(message.session, waiting && waiting.position));
      } else if (message.type === "position") {
        if (waiting) waiting.position = message.position;
        setStatus(describeWaiting());
      } else if (message.type === "duty") {
        onDuty = message.on_duty;
        if (waiting && !ended) setStatus(describeWaiting());
      } else if (message.type === "typing") {
        if (!ended) showTyping(message.who);
      } else if (message.type === "computer") {
        showComputer(message);
      } else if (message.type === "screen") {
        showScreen(message);
      } else if (message.type === "key_frame") {
        if (browserShare) browserShare.keyFrame(message.stream);
      } else if (message.type === "gone") {
        setStatus(message.error);
      }
    },
  });

  // --- the customer's computer: the customer allows, denies and takes back ------------------

  const computerSection = document.getElementById("computer");
  const ASKING = {
    system_info: "to see system information about your computer (hardware, programs, processes)",
    shell: "to open a command shell on your computer",
    files: "to browse your computer's files and transfer files to and from it",
    screen: "to see your screen",
    control: "to control your mouse and keyboard",
  };
  const ALLOWED = {
    system_info: "See system information", shell: "Open command shells", files: "Browse and transfer files",
    screen: "See your screen", control: "Control your mouse and keyboard",
  };

  let clientSeen = false; // a chat-only customer is not told about a program they never ran

  function showComputer(view) {
    clientSeen = clientSeen || view.connected || view.allowed.length > 0 || view.asked.length > 0;
    computerSection.hidden = ended || !clientSeen;
    if (computerSection.hidden) return;
    computerSection.replaceChildren(...[
      el("p", { class: "client-running", "data-connected": view.connected ? "yes" : "no" }, view.connected
        ? "The Lifeline client is running on your computer."
        : "The Lifeline client is not running on your computer."),
      ...view.asked.map((asked) => el("div", { class: "asking", "data-capability": asked.capability, role: "alert" },
        el("p", {}, `${asked.rep || "A representative"} asks ${ASKING[asked.capability] || asked.capability}.`),
        el("button", { type: "button", class: "allow", onclick: () => consent(asked.capability, true) }, "Allow"),
        el("button", { type: "button", class: "deny secondary", onclick: () => consent(asked.capability, false) }, "Deny"))),
      view.allowed.length ? el("div", { class: "allowed" },
        el("p", {}, "You allow the representatives to:"),
        el("ul", {}, view.allowed.map((capability) => el("li", { "data-capability": capability },
          ALLOWED[capability] || capability, " ",
          el("button", { type: "button", class: "stop secondary", onclick: () => consent(capability, false) }, "Stop"))))) : null,
    ].filter(Boolean));
  }

  // --- the customer's screen: who sees it, and sharing it from this page -------------------

  const screenSection = el("section", { id: "screen-share", "aria-label": "Your screen", hidden: true });
  computerSection.after(screenSection);
  let browserShare = null; // BrowserShare.Share while this page shares
  let screenView = { shared: false, source: null, viewers: [], controller: "", wanted: "" };

  function names(list) {
    return list.length > 1 ? `${list.slice(0, -1).join(", ")} and ${list[list.length - 1]}` : list[0] || "the representative";
  }

  function showScreen(view) {
    screenView = view;
    const sharing = view.shared || browserShare;
    screenSection.hidden = ended || (!sharing && !view.wanted);
    if (screenSection.hidden) return screenSection.replaceChildren();
    const byPage = browserShare || view.source === "browser";
    screenSection.replaceChildren(...[
      sharing ? el("p", { class: "sharing", role: "status" },
        `You are sharing your screen${byPage ? " from this page" : ""} with ${names(view.viewers)}.`,
        view.controller ? ` ${view.controller} controls your mouse and keyboard.` : "", " ",
        el("button", { type: "button", class: "stop-sharing danger", onclick: stopSharing }, "Stop sharing")) : null,
      !sharing && view.wanted ? el("div", { class: "asking screen-wanted", role: "alert" },
        el("p", {}, `${view.wanted} asks to see your screen.`),
        BrowserShare.supported()
          ? el("button", { type: "button", class: "share-screen", onclick: shareScreen }, "Share my screen")
          : el("p", { class: "muted" }, "This browser cannot share a screen: use a current Chrome, Edge or Firefox, or run the Lifeline client.")) : null,
    ].filter(Boolean));
  }

  async function shareScreen() {
    if (browserShare) return;
    const share = new BrowserShare.Share(socket, (error) => {
      if (browserShare === share) browserShare = null;
      if (error) setStatus(`Screen sharing stopped: ${error.message || error}`);
      showScreen(screenView);
    });
    browserShare = share;
    try {
      await share.start();
    } catch (error) { // the customer chose nothing, or the browser refused
      share.stop();
      browserShare = null;
      if (error.name !== "NotAllowedError") setStatus(`Your screen could not be shared: ${error.message}`);
    }
    showScreen(screenView);
  }

  function stopSharing() {
    if (browserShare) {
      const share = browserShare;
      browserShare = null;
      share.stop();
      showScreen({ ...screenView, shared: false, wanted: "" });
    } else {
      consent("screen", false); // the client's share ends when seeing the screen is no longer allowed
    }
  }

  async function consent(capability, allowed) {
    try {
      await socket.request("consent", { capability, allowed });
    } catch (error) {
      setStatus(error.message);
    }
  }

  document.getElementById("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = input.value;
    if (!body.trim()) return;
    input.value = "";
    try {
      await socket.request("chat", { body });
    } catch (error) {
      setStatus(error.message);
      input.value = body;
    }
  });

  input.addEventListener("input", typingSignal(() => socket.notify("typing")));

  fileInput.addEventListener("change", async () => {
    const file = fileInput.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("ref", newRef());
    form.append("file", file);
    const response = await fetch(`/chat/${token}/files`, { method: "POST", body: form });
    const answer = await response.json();
    if (!answer.ok) setStatus(answer.error);
    fileInput.value = "";
  });

  endButton.addEventListener("click", async () => {
    try {
      await socket.request("end");
    } catch (error) {
      setStatus(error.message);
    }
  });
})();
