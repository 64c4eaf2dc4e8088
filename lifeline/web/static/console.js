// The representative console: queues, session tabs, chat, files, notes, the Summary tab
// with the external key, transfers, invitations, ending and the exit survey; the customer's
// computer is computer.js's.
"use strict";

(() => {
  const { LiveSocket, el, time, waited, size, surveyForm, newRef, keepingInput, typingSignal, TYPING_SHOWN_MS, PROTOCOL_VERSION } = Lifeline;
  const root = document.getElementById("console");
  const csrf = root.dataset.csrf;
  const RESUME = "lifeline.console.resume";

  const view = {
    me: null,
    user: null,
    queues: [],
    sessions: new Map(), // lsid -> state
    history: new Map(), // lsid -> events
    lastEventIds: {},
    reps: [],
    teams: [],
    survey: [],
    open: new Set(), // tabs: sessions this console is in or was in until closed
    unread: new Set(), // tabs with news the rep has not looked at
    surveyed: new Set(),
    typing: new Map(), // lsid -> {name, timer}: who is typing there now
    active: null,
    clock: 0,
  };

  const queuesPanel = document.getElementById("queues");
  const tabsBar = document.getElementById("tabs");
  const sessionPanel = document.getElementById("session");
  const statusLine = document.getElementById("connection");
  const showing = document.getElementById("showing");
  const notice = document.getElementById("notice");

  function say(text) {
    notice.textContent = text;
    notice.hidden = !text;
  }

  function mine(state) {
    return state.members.some((m) => m.gsnumber === view.me);
  }

  // What survives a reload, per rep (two reps may share a browser): the open tab, and what
  // was typed and not sent in each session.
  function remembered(name) {
    return `lifeline.console.${view.user.id}.${name}`;
  }

  function makeActive(lsid) {
    view.active = lsid;
    view.unread.delete(lsid);
    if (lsid) sessionStorage.setItem(remembered("active"), lsid);
    else sessionStorage.removeItem(remembered("active"));
  }

  function select(lsid) {
    makeActive(lsid);
    render();
  }

  function forgetDrafts(lsid) {
    const prefix = remembered(`draft.${lsid}.`);
    for (const key of Object.keys(sessionStorage)) if (key.startsWith(prefix)) sessionStorage.removeItem(key);
  }

  function keepDraft(lsid, field) {
    const key = remembered(`draft.${lsid}.${field.name}`);
    field.value = sessionStorage.getItem(key) || "";
    field.addEventListener("input", () => {
      if (field.value) sessionStorage.setItem(key, field.value);
      else sessionStorage.removeItem(key);
    });
    return () => sessionStorage.removeItem(key);
  }

  // --- the socket ------------------------------------------------------------------------

  const socket = new LiveSocket("/ws/console", {
    hello: () => ({
      type: "hello",
      resume_token: sessionStorage.getItem(RESUME),
      last_event_ids: view.lastEventIds,
      hostname: "browser",
      timezone_offset: -new Date().getTimezoneOffset() * 60,
      version: PROTOCOL_VERSION,
    }),
    onStatus: (state) => {
      statusLine.textContent = {
        connecting: "Connecting…",
        connected: "Online",
        reconnecting: "Reconnecting…",
        "signed-out": "Signed out",
        over: "Signed out",
        backup: "This appliance is now the backup: going to the primary…",
      }[state];
      statusLine.dataset.state = state;
      if (state === "signed-out") location.href = "/console/login";
    },
    onMessage: receive,
    onBinary: (buffer) => computer.frame(buffer),
  });

  const computer = ConsoleComputer.create({
    socket, csrf, me: () => view.me, say,
    members: (lsid) => (view.sessions.get(lsid) || { members: [] }).members,
  });

  const presenting = ConsolePresenting.create({ socket, say, me: () => view.me });

  // A Jump's new session opens as the rep's current one, as a taken session does.
  const jump = ConsoleJump.create({ socket, say, open: (lsid) => select(lsid) });

  function receive(message) {
    if (computer.receive(message)) return;
    if (presenting.receive(message)) return;
    switch (message.type) {
      case "welcome":
        if (message.resumed) computer.resumed();
        if (!message.resumed) {
          view.sessions.clear();
          view.history.clear();
          view.lastEventIds = {};
        }
        view.me = message.gsnumber;
        view.user = message.user;
        if (message.resume_token) sessionStorage.setItem(RESUME, message.resume_token);
        view.queues = message.queues;
        view.reps = message.reps;
        view.teams = message.teams;
        view.survey = message.survey;
        view.clock = message.server_time - Date.now() / 1000;
        showing.checked = message.showing;
        for (const state of message.sessions) view.sessions.set(state.lsid, state);
        for (const [lsid, events] of Object.entries(message.history)) events.forEach((e) => addEvent(lsid, e));
        for (const state of message.sessions) if (mine(state)) view.open.add(state.lsid);
        if (!view.active) {
          const kept = sessionStorage.getItem(remembered("active"));
          view.active = kept && view.open.has(kept) ? kept : null;
        }
        render();
        break;
      case "gone":
      case "refused":
        sessionStorage.removeItem(RESUME);
        say(message.error === "resume" ? "Your console connection ended; reload to sign in again." : message.error);
        if (message.type === "gone") setTimeout(() => location.reload(), 500);
        break;
      case "session":
        noticeArrival(message.session);
        view.sessions.set(message.session.lsid, message.session);
        if (mine(message.session)) {
          if (!view.open.has(message.session.lsid)) {
            view.open.add(message.session.lsid);
            if (!view.active) makeActive(message.session.lsid);
          }
        }
        render();
        break;
      case "typing":
        showTyping(message.lsid, message.who);
        break;
      case "event":
        if (message.event.type === "Chat Message") hideTyping(message.lsid, message.event.performed_by);
        addEvent(message.lsid, message.event);
        if (message.lsid === view.active) renderSession();
        else {
          if (view.open.has(message.lsid) && !byMe(message.event)) view.unread.add(message.lsid);
          renderTabs();
        }
        break;
      case "reps":
        view.reps = message.reps;
        if (view.active) renderActions();
        break;
      case "error":
        say(message.error);
        break;
    }
  }

  function showTyping(lsid, who) {
    const state = view.sessions.get(lsid);
    const name = who.type === "customer" ? (state ? state.customer.name : "The customer") : who.name;
    const shown = view.typing.get(lsid);
    if (shown) clearTimeout(shown.timer);
    const timer = setTimeout(() => { view.typing.delete(lsid); if (lsid === view.active) renderSession(); }, TYPING_SHOWN_MS);
    view.typing.set(lsid, { gsnumber: who.gsnumber, name, timer });
    if (lsid === view.active) renderSession();
  }

  function hideTyping(lsid, who) {
    const shown = view.typing.get(lsid);
    if (!shown || !who || who.gsnumber !== shown.gsnumber) return;
    clearTimeout(shown.timer);
    view.typing.delete(lsid);
  }

  function byMe(event) {
    return Boolean(event.performed_by) && event.performed_by.gsnumber === view.me;
  }

  function addEvent(lsid, event) {
    const events = view.history.get(lsid) || [];
    if (events.some((e) => e.id === event.id)) return;
    events.push(event);
    events.sort((a, b) => a.id - b.id);
    view.history.set(lsid, events);
    view.lastEventIds[lsid] = Math.max(view.lastEventIds[lsid] || 0, event.id);
  }

  async function act(type, fields, success) {
    say("");
    try {
      const answer = await socket.request(type, fields);
      if (success) success(answer);
    } catch (error) {
      say(error.message);
    }
  }

  // --- queues ----------------------------------------------------------------------------

  function queueKey(state) {
    const q = state.queue;
    return q.kind === "general" ? "general" : `${q.kind}:${q.id}`;
  }

  function inMyQueues(state) {
    return state.status === "waiting" && view.queues.some((queue) => queue.key === queueKey(state));
  }

  function renderQueues() {
    const now = Date.now() / 1000 + view.clock;
    const waitingForMe = [...view.sessions.values()].filter(inMyQueues).length;
    document.title = waitingForMe ? `(${waitingForMe}) ${pageTitle}` : pageTitle;
    const sections = view.queues.map((queue) => {
      const waiting = [...view.sessions.values()]
        .filter((s) => s.status === "waiting" && queueKey(s) === queue.key)
        .sort((a, b) => a.start_time - b.start_time);
      return el("section", { class: `queue queue-${queue.kind}`, "data-queue": queue.key },
        el("h3", {}, queue.name, el("span", { class: "count" }, String(waiting.length))),
        waiting.length === 0 ? el("p", { class: "empty" }, "No one waiting") : el("ul", {},
          waiting.map((s) => el("li", { class: "waiting", "data-lsid": s.lsid },
            el("div", { class: "customer" }, s.customer.name),
            s.customer.issue_title ? el("div", { class: "issue" }, s.customer.issue_title) : null,
            s.external_key ? el("div", { class: "external-key" }, `Ticket ${s.external_key}`) : null,
            el("div", { class: "waited" }, `waiting ${waited(s.start_time, now)}`),
            customerConnection(s),
            el("button", { type: "button", onclick: () => act("take", { lsid: s.lsid }, () => select(s.lsid)) }, "Take"),
          ))));
    });
    queuesPanel.replaceChildren(...sections);
  }

  // --- noticing work: a chime, a browser notification and the title's count ----------------

  const pageTitle = document.title;
  let sound = null; // one AudioContext, made when first needed
  let woken = false;

  // Called before the console's view of the session changes: only a session newly waiting
  // in one of this rep's queues is news.
  function noticeArrival(state) {
    const before = view.sessions.get(state.lsid);
    if (!inMyQueues(state) || (before && inMyQueues(before) && queueKey(before) === queueKey(state))) return;
    chime();
    if ("Notification" in window && Notification.permission === "granted") {
      const queue = view.queues.find((q) => q.key === queueKey(state));
      const notification = new Notification(`${state.customer.name} is waiting`, {
        body: queue ? `In ${queue.name}` : "", tag: state.lsid,
      });
      notification.onclick = () => { window.focus(); notification.close(); };
    }
  }

  function chime() {
    if (!sound && window.AudioContext) sound = new AudioContext();
    if (!sound) return;
    const tone = sound.createOscillator();
    const volume = sound.createGain();
    const now = sound.currentTime;
    tone.frequency.setValueAtTime(880, now);
    tone.frequency.setValueAtTime(660, now + 0.15);
    volume.gain.setValueAtTime(0.2, now);
    volume.gain.exponentialRampToValueAtTime(0.001, now + 0.4);
    tone.connect(volume).connect(sound.destination);
    tone.start(now);
    tone.stop(now + 0.4);
  }

  // Browsers play sound and ask about notifications only once the person has acted on the page.
  function wake() {
    if (woken) return;
    woken = true;
    if (!sound && window.AudioContext) sound = new AudioContext();
    if (sound && sound.state === "suspended") sound.resume();
    if ("Notification" in window && Notification.permission === "default") Notification.requestPermission();
  }
  document.addEventListener("pointerdown", wake, true);
  document.addEventListener("keydown", wake, true);

  // --- tabs and the session view -----------------------------------------------------------

  function renderTabs() {
    const tabs = [...view.open].map((lsid) => {
      const state = view.sessions.get(lsid);
      if (!state) return null;
      const unread = view.unread.has(lsid);
      const classes = ["tab", lsid === view.active && "active", state.status === "ended" && "ended", unread && "unread"];
      return el("button", {
        type: "button", role: "tab", class: classes.filter(Boolean).join(" "),
        "data-lsid": lsid, "aria-selected": lsid === view.active ? "true" : "false",
        onclick: () => select(lsid),
      }, state.customer.name, unread ? el("span", { class: "unread-mark", "aria-label": "unread" }) : null);
    });
    tabsBar.replaceChildren(...tabs.filter(Boolean));
  }

  function renderSession() {
    const state = view.active && view.sessions.get(view.active);
    computer.show(state && state.status !== "ended" && mine(state) ? state.lsid : null);
    if (!state) {
      delete sessionPanel.dataset.lsid;
      sessionPanel.replaceChildren(el("p", { class: "empty" }, "Take a session from a queue to start."));
      return;
    }
    const ended = state.status === "ended" || !mine(state);
    // What is typed carries over a redraw of the same session, never into another one's.
    const redraw = sessionPanel.dataset.lsid === state.lsid ? keepingInput : (panel, draw) => draw();
    sessionPanel.dataset.lsid = state.lsid;
    redraw(sessionPanel, () => {
      sessionPanel.replaceChildren(...[
        summary(state),
        conversation(state),
        ended ? afterwards(state) : composer(state),
        ended ? null : el("div", { id: "actions" }),
      ].flat().filter(Boolean));
      if (!ended) renderActions();
    });
    const log = sessionPanel.querySelector(".conversation");
    if (log) log.scrollTop = log.scrollHeight;
  }

  function summary(state) {
    const c = state.customer;
    const keyForm = el("form", { class: "external-key-form", onsubmit: (event) => {
      event.preventDefault();
      act("external_key", { lsid: state.lsid, value: keyInput.value });
    } });
    const keyInput = el("input", { name: "external_key", maxlength: 1024, value: state.external_key, "aria-label": "External key" });
    keyForm.append(keyInput, el("button", { type: "submit" }, "Edit"));
    return el("section", { class: "summary", id: "summary-tab" },
      el("h2", {}, "Summary"),
      el("dl", {},
        el("dt", {}, "Customer"), el("dd", { class: "customer-name" }, c.name),
        c.company ? [el("dt", {}, "Company"), el("dd", {}, c.company)] : null,
        c.issue_title ? [el("dt", {}, "Issue"), el("dd", {}, c.issue_title)] : null,
        c.details ? [el("dt", {}, "Details"), el("dd", {}, c.details)] : null,
        el("dt", {}, "External key"), el("dd", { class: "external-key" }, state.external_key || "—", keyForm),
        el("dt", {}, "Started"), el("dd", {}, time(state.start_time)),
        el("dt", {}, "Representatives"), el("dd", { class: "members" }, state.members.map((m) => m.name).join(", ") || "—"),
        el("dt", {}, "Status"), el("dd", { class: "status" }, state.status),
        el("dt", {}, "Customer is"), el("dd", {}, customerConnection(state)),
      ));
  }

  // Live from the appliance: the customer's socket closed (a reload comes back within
  // seconds) or they did not come back (see docs/consoles.md).
  const CONNECTION = { connected: "connected", reconnecting: "reconnecting…", gone: "gone" };

  function customerConnection(state) {
    const value = state.customer.connection || "connected";
    return el("span", { class: `customer-connection ${value}`, "data-connection": value }, CONNECTION[value] || value);
  }

  function conversation(state) {
    const events = view.history.get(state.lsid) || [];
    const typing = view.typing.get(state.lsid);
    return [
      el("section", { class: "conversation", "aria-live": "polite" }, events.map(describe)),
      typing && state.status !== "ended" ? el("p", { class: "typing" }, `${typing.name} is typing…`) : null,
    ];
  }

  function describe(event) {
    const who = event.performed_by ? event.performed_by.name : "";
    const target = event.destination ? event.destination.name : "";
    let content;
    switch (event.type) {
      case "Chat Message": content = [el("span", { class: "who" }, who), el("span", { class: "body" }, event.body)]; break;
      case "Session Note Added": content = [el("span", { class: "who" }, `Note by ${who}`), el("span", { class: "body" }, event.body)]; break;
      case "File Upload":
      case "File Download":
        content = [el("span", { class: "who" }, who), " sent ",
          el("a", { href: `/console/files/${event.file_id}`, download: event.filename }, event.filename), ` (${size(event.filesize)})`];
        break;
      case "Conference Member Added": content = [`${target || who} joined`]; break;
      case "Conference Member Departed": content = [`${target || who} left`]; break;
      case "Conference Owner Changed": content = [`${target} owns the session`]; break;
      case "Session Transferred to Queue": content = [`Transferred to ${(event.data.find((d) => d[0] === "queue_name") || [])[1] || "a queue"}`]; break;
      case "External Key": content = [`External key set to ${event.body ?? "(cleared)"} by ${who}`]; break;
      case "Session Start": content = [`${who} started the session`]; break;
      case "Service Access Allowed": {
        const value = (name) => (event.data.find((d) => d[0] === name) || [])[1];
        const what = { system_info: "system information", shell: "the command shell", files: "files" }[value("capability")] || value("capability");
        content = [`${who} ${String(value("allowed")) === "1" ? "allowed" : "did not allow"} ${what}`];
        break;
      }
      case "Command Shell Session Started": content = [`${who} opened a command shell`]; break;
      case "System Information Retrieved": content = ["System information collected from the customer's computer"]; break;
      case "Session End": content = [`Session ended by ${who}`]; break;
      default: content = [`${event.type} (${who})`];
    }
    const kind = event.type === "Chat Message" ? "chat" : event.type === "Session Note Added" ? "note" : "notice";
    return el("p", { class: `line ${kind}`, "data-event": event.id }, el("time", {}, time(event.at)), " ", ...content);
  }

  function composer(state) {
    const input = el("input", { name: "message", maxlength: 16384, placeholder: "Message to the customer", "aria-label": "Message" });
    input.addEventListener("input", typingFor(state.lsid));
    const note = el("input", { name: "note", maxlength: 16384, placeholder: "Private note", "aria-label": "Note" });
    const forgetMessage = keepDraft(state.lsid, input);
    const forgetNote = keepDraft(state.lsid, note);
    const file = el("input", { type: "file", "aria-label": "Send a file", onchange: () => sendFile(state.lsid, file) });
    return el("div", { class: "composer" },
      el("form", { class: "chat-form", onsubmit: (event) => {
        event.preventDefault();
        const body = input.value;
        if (!body.trim()) return;
        input.value = "";
        forgetMessage();
        act("chat", { lsid: state.lsid, body });
      } }, input, el("button", { type: "submit" }, "Send")),
      el("label", { class: "file-button" }, "Send a file", file),
      el("form", { class: "note-form", onsubmit: (event) => {
        event.preventDefault();
        const text = note.value;
        if (!text.trim()) return;
        note.value = "";
        forgetNote();
        act("note", { lsid: state.lsid, text });
      } }, note, el("button", { type: "submit" }, "Add note")));
  }

  const typingSignals = new Map(); // lsid -> its throttled signal (the composer is redrawn often)
  function typingFor(lsid) {
    if (!typingSignals.has(lsid)) typingSignals.set(lsid, typingSignal(() => socket.notify("typing", { lsid })));
    return typingSignals.get(lsid);
  }

  async function sendFile(lsid, input) {
    const file = input.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("ref", newRef());
    form.append("file", file);
    const response = await fetch(`/console/sessions/${lsid}/files`, {
      method: "POST", body: form, headers: { "x-csrf-token": csrf, "x-gsnumber": String(view.me) },
    });
    const answer = await response.json();
    if (!answer.ok) say(answer.error);
    input.value = "";
  }

  function renderActions() {
    const box = document.getElementById("actions");
    const state = view.sessions.get(view.active);
    if (!box || !state) return;
    const owner = state.owner === view.me;
    const others = view.reps.filter((r) => r.id !== view.user.id);
    const targets = el("select", { name: "queue", "aria-label": "Transfer to" },
      el("option", { value: "general" }, "General queue"),
      view.teams.map((t) => el("option", { value: `${t.embassy ? "embassy" : "team"}:${t.id}` }, `${t.embassy ? "Embassy" : "Team"}: ${t.name}`)),
      others.map((r) => el("option", { value: `rep:${r.id}` }, `Rep: ${r.name}`)));
    const invitable = others.filter((r) => !state.members.some((m) => m.user_id === r.id));
    const invitees = el("select", { name: "rep", "aria-label": "Invite" },
      invitable.map((r) => el("option", { value: r.id }, r.name)));
    keepingInput(box, () => box.replaceChildren(...[
      owner ? el("form", { class: "transfer-form", onsubmit: (event) => {
        event.preventDefault();
        act("transfer", { lsid: state.lsid, queue: targets.value });
      } }, targets, el("button", { type: "submit" }, "Transfer")) : null,
      invitable.length ? el("form", { class: "invite-form", onsubmit: (event) => {
        event.preventDefault();
        if (invitees.value) act("invite", { lsid: state.lsid, rep_id: Number(invitees.value) });
      } }, invitees, el("button", { type: "submit" }, "Invite"))
        : el("p", { class: "invite-none" }, "No other representative is online to invite."),
      owner ? null : el("button", { type: "button", class: "leave", onclick: () => act("leave", { lsid: state.lsid }) }, "Leave session"),
      owner ? el("button", { type: "button", class: "end danger", onclick: () => act("end", { lsid: state.lsid }) }, "End session") : null,
    ].filter(Boolean)));
  }

  function afterwards(state) {
    const close = el("button", { type: "button", onclick: () => {
      view.open.delete(state.lsid);
      forgetDrafts(state.lsid);
      select([...view.open][0] || null);
    } }, "Close");
    if (state.status !== "ended") return el("section", { class: "afterwards" }, el("p", {}, "You left this session."), close);
    if (!view.survey.length || view.surveyed.has(state.lsid) || !endedByMe(state)) {
      return el("section", { class: "afterwards" }, el("p", {}, "The session has ended."), close);
    }
    const form = el("form", { class: "rep-survey" });
    surveyForm(form, view.survey, (answers) => act("survey", { lsid: state.lsid, answers }, () => {
      view.surveyed.add(state.lsid);
      renderSession();
    }));
    return el("section", { class: "afterwards" }, el("h2", {}, "Representative exit survey"), form, close);
  }

  // The representative exit survey is for the rep who ended the session, not the members.
  function endedByMe(state) {
    const end = (view.history.get(state.lsid) || []).find((e) => e.type === "Session End");
    return Boolean(end && end.performed_by && end.performed_by.type === "representative" && end.performed_by.gsnumber === view.me);
  }

  function render() {
    renderQueues();
    renderTabs();
    renderSession();
  }

  // --- the top bar -------------------------------------------------------------------------

  showing.addEventListener("change", () => act("showing", { value: showing.checked }));

  document.getElementById("logout-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    sessionStorage.removeItem(RESUME);
    try { await socket.request("logout"); } catch (error) { /* the page leaves anyway */ }
    socket.close();
    event.target.submit();
  });

  // --- Generate Session Key dialog, and client scripts --------------------------------------

  const keyDialog = document.getElementById("key-dialog");
  document.getElementById("generate-key").addEventListener("click", () => openKeyDialog({}));

  function openKeyDialog({ externalKey = "", portal = "" }) {
    const form = keyDialog.querySelector("form");
    form.elements.external_key.value = externalKey;
    const portals = form.elements.hostname;
    if (portal && [...portals.options].some((o) => o.value === portal)) portals.value = portal;
    keyDialog.querySelector(".result").replaceChildren();
    keyDialog.showModal();
  }

  keyDialog.querySelector("form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    if (event.submitter && event.submitter.value === "cancel") { keyDialog.close(); return; }
    act("generate_key", { external_key: form.elements.external_key.value, hostname: form.elements.hostname.value }, (answer) => {
      const key = answer.result;
      keyDialog.querySelector(".result").replaceChildren(
        el("p", {}, "Session key: ", el("strong", { class: "short-key" }, key.short_key)),
        el("p", {}, "Or send this link: ", el("a", { class: "key-url", href: key.key_url }, key.key_url)),
        el("textarea", { readonly: true, rows: 6, class: "mail-body" }, key.mail_body),
      );
    });
  });

  const scripts = document.getElementById("script-file");
  const dropZone = document.getElementById("script-drop");
  scripts.addEventListener("change", () => scripts.files[0] && runScriptFile(scripts.files[0]));
  dropZone.addEventListener("dragover", (event) => { event.preventDefault(); dropZone.classList.add("over"); });
  dropZone.addEventListener("dragleave", () => dropZone.classList.remove("over"));
  dropZone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropZone.classList.remove("over");
    if (event.dataTransfer.files[0]) runScriptFile(event.dataTransfer.files[0]);
  });

  async function runScriptFile(file) {
    if (file.size > 64 * 1024) { say("That is not a client script file."); return; }
    runScript(await file.text());
  }

  function runScript(text) {
    act("open_script", { text }, (answer) => {
      if (answer.result.warning) say(answer.result.warning);
      for (const command of answer.result.commands) {
        if (command.action === "generate_session_key") {
          openKeyDialog({ externalKey: command.external_key || "", portal: command.public_portal_hostname || "" });
        } else if (command.action === "start_pinned_client_session" && command.jump_clients) {
          jump.pinned(command);
        } else if (command.action === "push_and_start_local" && command.jumpoints) {
          jump.pushLocal(command);
        } else {
          showScriptResult(command);
        }
      }
    });
  }

  function showScriptResult(command) {
    const dialog = document.getElementById("script-dialog");
    dialog.querySelector(".result").replaceChildren(
      el("h2", {}, command.title), el("p", {}, command.explanation),
      command.jump_clients ? el("p", { class: "jump-clients" }, command.jump_clients.length
        ? `${command.jump_clients.length} Jump Clients match.` : "No Jump Clients match: this appliance has no Jump Clients yet.") : null);
    dialog.showModal();
  }
  document.getElementById("script-dialog").querySelector("button").addEventListener("click", () => {
    document.getElementById("script-dialog").close();
  });

  // A link can carry a client script: /console#script=<the script's text, percent-encoded>
  function scriptFromLink() {
    const match = location.hash.match(/^#script=(.*)$/);
    if (!match) return;
    history.replaceState(null, "", location.pathname);
    const text = decodeURIComponent(match[1]);
    const start = () => (socket.ready ? runScript(text) : setTimeout(start, 200));
    start();
  }
  scriptFromLink();

  setInterval(renderQueues, 1000);
})();
