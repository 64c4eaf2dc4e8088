// The console's Jump view: the Jump Clients and Jumpoints this rep may use (`jump_list`),
// searched as the rep types, filtered by group and online state, sorted by a column, a page
// at a time, refreshed every 15 s while open. Jump starts a session with the computer (it
// opens like a taken session); a Jumpoint offers Shell Jump… and Push and start… dialogs.
// The view sits above the workspace, so the session in progress stays in sight. Client
// scripts (console.js) come here for start_pinned_client_session and push_and_start_local.
"use strict";

const ConsoleJump = (() => {
  const { el, time } = Lifeline;
  const PAGE = 50;
  const REFRESH_MS = 15000;
  const SEARCH_DELAY_MS = 250; // debounce: one request per pause in typing, not per key
  const COLUMNS = [
    ["name", "Name"], ["hostname", "Hostname"], ["comments", "Comments"],
    ["tag", "Tag"], ["last_seen", "Last seen"], ["group", "Group"],
  ];

  function uptime(seconds) {
    const days = Math.floor(seconds / 86400);
    const hours = Math.floor((seconds % 86400) / 3600);
    return days ? `${days} d ${hours} h` : `${hours} h ${Math.floor((seconds % 3600) / 60)} min`;
  }

  // `open(lsid)` shows a new session as the rep's current one (console.js's select).
  function create({ socket, say, open }) {
    const panel = document.getElementById("jump");
    const button = document.getElementById("jump-button");
    const chooser = document.getElementById("jump-chooser");
    const shellDialog = document.getElementById("shell-jump-dialog");
    const pushDialog = document.getElementById("push-dialog");
    const query = { search: "", group: "", online: null, sort: "name", descending: false, offset: 0 };
    let answer = { items: [], total: 0, groups: [] };
    let error = "";
    let timer = null; // the 15 s refresh while open
    let typing = null; // the debounce of the search box
    let asked = 0; // only the latest request's answer is drawn

    async function load() {
      const mine = ++asked;
      const fields = { search: query.search, group: query.group, sort: query.sort,
        descending: query.descending, offset: query.offset, limit: PAGE };
      if (query.online !== null) fields.online = query.online;
      try {
        const ack = await socket.request("jump_list", fields);
        if (mine !== asked) return;
        answer = ack.result;
        error = "";
      } catch (failure) {
        if (mine !== asked) return;
        error = failure.message;
      }
      render();
    }

    function show(visible = true) {
      panel.hidden = !visible;
      button.setAttribute("aria-pressed", visible ? "true" : "false");
      clearInterval(timer);
      timer = null;
      if (!visible) return;
      render();
      load();
      timer = setInterval(() => { if (socket.ready) load(); }, REFRESH_MS);
    }
    button.addEventListener("click", () => show(panel.hidden));

    function change(fields) {
      Object.assign(query, fields, { offset: fields.offset ?? 0 });
      load();
    }

    // --- the view ----------------------------------------------------------------------------

    function filters() {
      const search = el("input", { type: "search", name: "jump_search", value: query.search, maxlength: 1024,
        placeholder: "Search hostname, name, comments, tag or IP", "aria-label": "Search Jump Clients" });
      search.addEventListener("input", () => {
        clearTimeout(typing);
        typing = setTimeout(() => change({ search: search.value }), SEARCH_DELAY_MS);
      });
      const group = el("select", { name: "jump_group", "aria-label": "Jump Group", onchange: () => change({ group: group.value }) },
        el("option", { value: "" }, "All groups"),
        answer.groups.map((g) => el("option", { value: g.key }, g.name)));
      group.value = query.group;
      const online = el("select", { name: "jump_online", "aria-label": "Online", onchange: () => {
        change({ online: online.value === "" ? null : online.value === "online" });
      } }, el("option", { value: "" }, "Online and offline"), el("option", { value: "online" }, "Online"),
      el("option", { value: "offline" }, "Offline"));
      online.value = query.online === null ? "" : query.online ? "online" : "offline";
      return el("form", { class: "jump-filters", onsubmit: (event) => {
        event.preventDefault();
        clearTimeout(typing);
        change({ search: search.value });
      } }, search, group, online,
      el("button", { type: "button", class: "secondary", onclick: () => load() }, "Refresh"),
      el("button", { type: "button", class: "secondary", onclick: () => show(false) }, "Close"));
    }

    function heading([key, label]) {
      const sorted = query.sort === key;
      return el("th", { "aria-sort": sorted ? (query.descending ? "descending" : "ascending") : "none" },
        // The query, not this drawing, decides: a second click before the answer is drawn
        // still turns the order round.
        el("button", { type: "button", class: "link sort", "data-sort": key, onclick: () => {
          change(query.sort === key ? { descending: !query.descending } : { sort: key, descending: false });
        } }, label, sorted ? (query.descending ? " ▼" : " ▲") : ""));
    }

    function row(item) {
      const stats = [
        item.console_user ? `User: ${item.console_user}` : null,
        item.cpu !== null && item.cpu !== undefined ? `CPU ${Math.round(item.cpu)}%` : null,
        item.disk !== null && item.disk !== undefined ? `Disk ${Math.round(item.disk)}%` : null,
        item.uptime !== null && item.uptime !== undefined ? `Up ${uptime(item.uptime)}` : null,
      ].filter(Boolean);
      const jumpoint = item.mode === "jumpoint";
      return el("tr", { class: `jump-item ${item.online ? "online" : "offline"}`, "data-jump-client": item.id },
        el("td", { class: "name" },
          el("span", { class: "online-dot", title: item.online ? "Online" : "Offline", "aria-label": item.online ? "Online" : "Offline" }),
          item.thumbnail && item.thumbnail.startsWith("data:image/") ? el("img", { class: "jump-thumbnail", src: item.thumbnail, alt: "" }) : null,
          el("span", {}, item.name || item.hostname), jumpoint ? el("span", { class: "jumpoint-mark" }, " (Jumpoint)") : null,
          item.consent_required ? el("div", { class: "consent-mark" }, "asks the user first") : null),
        el("td", { class: "hostname" }, item.hostname,
          item.os ? el("div", { class: "os" }, item.os) : null,
          el("div", { class: "ips" }, [item.private_ip, item.public_ip].filter(Boolean).join(" · ")),
          stats.length ? el("div", { class: "stats" }, stats.join(" · ")) : null),
        el("td", { class: "comments" }, item.comments),
        el("td", { class: "jump-tag" }, item.tag),
        el("td", { class: "last-seen" }, item.online ? "now" : item.last_seen ? time(item.last_seen) : "never"),
        el("td", { class: "group" }, item.group_name),
        el("td", { class: "jump-actions" },
          jumpoint ? [
            el("button", { type: "button", class: "shell-jump", onclick: () => openSecretDialog(shellDialog, item, {}) }, "Shell Jump…"),
            el("button", { type: "button", class: "push-start secondary", onclick: () => openSecretDialog(pushDialog, item, {}) }, "Push and start…"),
          ] : el("button", { type: "button", class: "jump", disabled: !item.online, onclick: () => jumpTo(item.id) }, "Jump"),
          el("button", { type: "button", class: "remove secondary", onclick: () => remove(item) }, "Remove")));
    }

    function pager() {
      const first = answer.total ? query.offset + 1 : 0;
      const last = query.offset + answer.items.length;
      return el("div", { class: "jump-pager" },
        el("span", { class: "jump-count" }, `${first}–${last} of ${answer.total}`),
        el("button", { type: "button", class: "secondary", disabled: query.offset === 0,
          onclick: () => change({ offset: Math.max(0, query.offset - PAGE) }) }, "Previous"),
        el("button", { type: "button", class: "secondary", disabled: last >= answer.total,
          onclick: () => change({ offset: query.offset + PAGE }) }, "Next"));
    }

    function render() {
      if (panel.hidden) return;
      const focused = document.activeElement && panel.contains(document.activeElement) ? document.activeElement.name : null;
      const position = focused === "jump_search" ? document.activeElement.selectionStart : null;
      panel.replaceChildren(...[
        el("h2", {}, "Jump Clients"),
        filters(),
        error ? el("p", { class: "pane-error" }, error) : null,
        answer.items.length === 0 ? el("p", { class: "empty" }, query.search || query.group || query.online !== null
          ? "No Jump Client matches." : "No Jump Clients yet: an administrator deploys them in /login.") :
          el("table", { class: "grid jump-list" },
            el("thead", {}, el("tr", {}, COLUMNS.map(heading), el("th", {}, ""))),
            el("tbody", {}, answer.items.map(row))),
        pager(),
      ].filter(Boolean));
      // The search box is redrawn with each answer: typing must carry on where it was.
      if (focused) {
        const field = panel.querySelector(`[name="${focused}"]`);
        if (field) {
          field.focus();
          if (position !== null) field.setSelectionRange(position, position);
        }
      }
    }

    // --- doing ------------------------------------------------------------------------------

    async function jumpTo(id, externalKey = "") {
      say("");
      try {
        const ack = await socket.request("jump", { jump_client: id, external_key: externalKey });
        open(ack.result.lsid);
      } catch (failure) {
        say(`The Jump did not start: ${failure.message}`);
      }
    }

    async function remove(item) {
      if (!confirm(`Remove ${item.name || item.hostname}? It is revoked now and uninstalls itself.`)) return;
      say("");
      try {
        await socket.request("jump_remove", { jump_client: item.id });
      } catch (failure) {
        say(failure.message);
      }
      load();
    }

    // Shell Jump and Push and start: host, port, username, and a password or a private key.
    // The secrets leave the form as soon as they are sent, whatever the answer.
    function openSecretDialog(dialog, jumpoint, { host = "", externalKey = "", jumpoints = null }) {
      const form = dialog.querySelector("form");
      form.reset();
      form.elements.host.value = host;
      form.dataset.externalKey = externalKey;
      const pick = form.elements.jumpoint;
      const choices = jumpoints || [jumpoint];
      pick.replaceChildren(...choices.map((j) => el("option", { value: j.id }, j.name || j.hostname)));
      pick.closest("label").hidden = choices.length < 2;
      dialog.querySelector(".result").replaceChildren();
      dialog.showModal();
    }

    function secretForm(dialog, type) {
      const form = dialog.querySelector("form");
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        if (event.submitter && event.submitter.value === "cancel") {
          form.reset();
          dialog.close();
          return;
        }
        const f = form.elements;
        const fields = { jumpoint: Number(f.jumpoint.value), host: f.host.value.trim(), port: Number(f.port.value) || 22,
          username: f.username.value.trim(), password: f.password.value, private_key: f.private_key.value,
          external_key: form.dataset.externalKey || "" };
        f.password.value = "";
        f.private_key.value = "";
        const result = dialog.querySelector(".result");
        result.replaceChildren(el("p", {}, "Starting…"));
        try {
          const ack = await socket.request(type, fields);
          form.reset();
          dialog.close();
          open(ack.result.lsid);
        } catch (failure) {
          result.replaceChildren(el("p", { class: "pane-error" }, failure.message));
        }
      });
    }
    secretForm(shellDialog, "shell_jump");
    secretForm(pushDialog, "push_start");

    // --- client scripts ------------------------------------------------------------------------

    // start_pinned_client_session: one match jumps at once, several ask which, none says so.
    function pinned(command) {
      const matches = command.jump_clients || [];
      const key = command.external_key || "";
      if (matches.length === 1) { jumpTo(matches[0].id, key); return; }
      const list = chooser.querySelector(".result");
      if (!matches.length) {
        list.replaceChildren(el("h2", {}, "Start a session with a Jump Client"),
          el("p", { class: "no-match" }, command.explanation || "No Jump Client matches this script."));
      } else {
        list.replaceChildren(el("h2", {}, "Which computer?"),
          el("p", {}, `${matches.length} Jump Clients match this script.`),
          el("ul", { class: "jump-choices" }, matches.map((item) => el("li", {},
            el("button", { type: "button", class: "choose", "data-jump-client": item.id, disabled: !item.online, onclick: () => {
              chooser.close();
              jumpTo(item.id, key);
            } }, item.name || item.hostname),
            ` ${item.hostname} · ${item.group_name} · ${item.online ? "online" : "offline"}`,
            item.comments ? ` · ${item.comments}` : ""))));
      }
      chooser.showModal();
    }

    // push_and_start_local: the push dialog, prefilled with the host the script names.
    function pushLocal(command) {
      const jumpoints = command.jumpoints || [];
      if (!jumpoints.length) {
        say(command.explanation || "No Jumpoint you may use can reach that computer.");
        return;
      }
      openSecretDialog(pushDialog, jumpoints[0], { host: command.hostname || "", externalKey: command.external_key || "", jumpoints });
    }

    chooser.querySelector(".close").addEventListener("click", () => chooser.close());

    return { show, pinned, pushLocal };
  }

  return { create };
})();
