// The customer's computer in the console (the Lifeline client): whether it is connected,
// what the customer allowed, and the rep's tools there: system information, command shells
// (xterm.js), files and the screen (screen.js). console.js hands it the socket's computer
// messages and binary frames.
"use strict";

const ConsoleComputer = (() => {
  const { el, size, time, newRef } = Lifeline;

  const CAPABILITIES = {
    system_info: { name: "System information", ask: "Ask for system information" },
    shell: { name: "Command shell", ask: "Ask for a shell" },
    files: { name: "Files", ask: "Ask for files" },
    screen: { name: "Screen", ask: "Ask to see the screen" },
    control: { name: "Control", ask: "Ask for control" },
  };
  const PANES = [["system_info", "System information"], ["shell", "Shell"], ["files", "Files"], ["screen", "Screen"]];
  // Without the client only the browser can share a screen: the Screen pane stays.
  const PANES_WITHOUT_CLIENT = [["screen", "Screen"]];

  const INPUT_EVERY_MS = 35; // keys go out at most this often per shell (the socket allows 30 messages a second)
  const INPUT_CHUNK = 8192; // characters per shell_input: under the 64 KiB message limit even escaped
  const HELD_OUTPUT = 4 * 1024 * 1024; // bytes kept for a shell nobody has looked at yet
  const TRANSFER_IDLE_MS = 11 * 60 * 1000; // the appliance drops a transfer idle for 10 minutes
  const UPLOADS_AT_ONCE = 4; // files on their way to the customer's computer at once (the client takes 16 requests)

  function create({ socket, csrf, me, say, members }) {
    const computers = new Map(); // lsid -> Computer
    const shells = new Map(); // shell number -> ShellView (shell numbers are unique appliance-wide)
    const early = new Map(); // shell number -> frames that came before the answer naming it
    const inputRefs = new Set(); // refs of shell input: only a refusal is answered
    const host = document.getElementById("computer");
    let shown = null;

    function computerOf(lsid) {
      if (!computers.has(lsid)) computers.set(lsid, new Computer(lsid));
      return computers.get(lsid);
    }

    // --- one session's computer -------------------------------------------------------

    class Computer {
      constructor(lsid) {
        this.lsid = lsid;
        this.state = { connected: false, computer: null, allowed: [], asked: [], shells: [] };
        this.pane = "system_info";
        this.info = null; // the last system_info push
        this.infoNote = ""; // what the last action there did
        this.category = null;
        this.filter = "";
        this.listing = null;
        this.transfers = new Map(); // id -> TransferState
        this.mine = new Set(); // transfer ids this console started: saved when done
        this.shownAs = new Map(); // transfer id -> "folders/name" for a file of a folder this console sends
        this.waiting = new Map(); // transfer id -> its upload's wait for the end of it
        this.listTurn = 0; // listings asked for
        this.listedTurn = 0; // the last of them answered (a refresh waits while one is on its way)
        this.shellViews = []; // ShellView, in the order opened
        this.activeShell = null;
        this.opening = 0; // shell_open requests waiting for their answer
        this.root = el("div", { class: "computer-panel", "data-lsid": lsid });
        this.header = el("div", { class: "computer-state" });
        this.tabs = el("nav", { class: "computer-tabs", role: "tablist", "aria-label": "Computer" });
        this.panes = {
          system_info: el("section", { class: "pane pane-system-info", "aria-label": "System information" }),
          shell: el("section", { class: "pane pane-shell", "aria-label": "Shell" }),
          files: el("section", { class: "pane pane-files", "aria-label": "Files" }),
        };
        this.screen = new ConsoleScreen.ScreenView({ lsid, socket, me, say, computer: this, members: () => members(lsid) });
        this.panes.screen = this.screen.root;
        this.shellBar = el("div", { class: "shell-bar" });
        this.shellStatus = el("p", { class: "pane-error", role: "alert", hidden: true });
        this.terminals = el("div", { class: "terminals" });
        this.panes.shell.append(this.shellBar, this.shellStatus, this.terminals);
        this.root.append(this.header, this.tabs, ...Object.values(this.panes));
        this.render();
      }

      allowed(capability) {
        return this.state.connected && this.state.allowed.includes(capability);
      }

      update(state) {
        const wasAllowed = new Set(this.state.allowed);
        this.state = state;
        for (const number of state.shells) {
          if (!shells.has(number) && !this.opening) this.adoptShell(number, true);
        }
        for (const view of this.shellViews) {
          if (view.number && !view.exited && !state.shells.includes(view.number) && state.connected) view.ended(null);
        }
        if (this.allowed("files") && !wasAllowed.has("files") && this.listing === null) this.list(null);
        this.catchUp();
        this.render();
        this.screen.render();
      }

      catchUp() {
        if (!this.state.connected) return;
        for (const view of this.shellViews) {
          if (view.stale && this.state.shells.includes(view.number)) {
            view.stale = false;
            view.replay(false);
          }
        }
      }

      render() {
        this.renderHeader();
        this.renderTabs();
        this.renderInfo();
        this.renderShellBar();
        this.renderFiles();
      }

      renderHeader() {
        const { connected, computer } = this.state;
        const about = connected && computer
          ? [el("strong", { class: "hostname" }, computer.hostname || "The customer's computer"),
            computer.os ? ` — ${computer.os}` : "", computer.username ? `, user ${computer.username}` : ""]
          : [];
        this.header.replaceChildren(
          el("h2", {}, "Computer"),
          el("p", { class: "client-status", "data-connected": connected ? "yes" : "no" },
            connected ? "The Lifeline client is connected: " : "The Lifeline client is not running on the customer's computer.",
            ...about),
          connected ? el("ul", { class: "capabilities" }, Object.entries(CAPABILITIES).map(([id, c]) => {
            const asked = this.state.asked.includes(id);
            const on = this.state.allowed.includes(id);
            return el("li", { class: `capability ${on ? "allowed" : asked ? "asked" : "off"}`, "data-capability": id },
              `${c.name}: `, on ? "allowed" : asked ? "asked, waiting for the customer…" : "not allowed",
              on || asked ? null : el("button", { type: "button", class: "ask secondary", onclick: () => this.ask(id) }, c.ask));
          })) : "",
        );
        if (this === shown) host.classList.toggle("idle", !connected && !this.screen.share);
      }

      // The pane shown: without the client, only the Screen pane has anything to show.
      paneShown() {
        return this.state.connected ? this.pane : "screen";
      }

      renderTabs() {
        const panes = this.state.connected ? PANES : PANES_WITHOUT_CLIENT;
        this.tabs.replaceChildren(...panes.map(([id, name]) => el("button", {
          type: "button", role: "tab", class: `computer-tab${this.paneShown() === id ? " active" : ""}`, "data-pane": id,
          "aria-selected": this.paneShown() === id ? "true" : "false",
          onclick: () => { this.pane = id; this.renderTabs(); this.showPane(); },
        }, name)));
        this.showPane();
      }

      showPane() {
        for (const [id, pane] of Object.entries(this.panes)) pane.hidden = id !== this.paneShown();
        if (this.pane === "shell" && this.activeShell) this.activeShell.show();
      }

      notAllowed(capability) {
        if (this.allowed(capability)) return null;
        const asked = this.state.asked.includes(capability);
        return el("p", { class: "not-allowed" }, `The customer has not allowed ${CAPABILITIES[capability].name.toLowerCase()}. `,
          asked ? "Asked, waiting for the customer…"
            : el("button", { type: "button", class: "ask secondary", onclick: () => this.ask(capability) }, CAPABILITIES[capability].ask));
      }

      async request(type, fields, errorTo) {
        try {
          return await socket.request(type, { lsid: this.lsid, ...fields });
        } catch (error) {
          if (errorTo) this.error(errorTo, error.message);
          else say(error.message);
          return null;
        }
      }

      error(pane, text) {
        const line = pane === "shell" ? this.shellStatus : this.panes[pane].querySelector(".pane-error");
        if (!line) return say(text);
        line.textContent = text;
        line.hidden = !text;
      }

      ask(capability) {
        this.request("computer_ask", { capability });
      }

      // --- system information ---------------------------------------------------------

      renderInfo() {
        const pane = this.panes.system_info;
        const refusal = this.notAllowed("system_info");
        const info = this.info;
        const categories = info ? info.categories : [];
        if (!categories.some((c) => c.id === this.category)) this.category = categories.length ? categories[0].id : null;
        const category = categories.find((c) => c.id === this.category);
        const filter = el("input", { type: "search", name: "filter", placeholder: "Filter rows", "aria-label": "Filter rows", value: this.filter });
        filter.addEventListener("input", () => { this.filter = filter.value; this.renderTable(); });
        keepFocus(pane, () => pane.replaceChildren(...[
          el("div", { class: "pane-bar" },
            el("button", { type: "button", class: "refresh", disabled: !this.allowed("system_info"), onclick: () => this.refresh() }, "Refresh"),
            info ? el("span", { class: "collected" }, `Collected at ${time(info.at)}${info.automatic ? " (session start)" : ""}`) : null,
            category ? filter : null),
          el("p", { class: "pane-error", role: "alert", hidden: true }),
          this.infoNote ? el("p", { class: "pane-note", role: "status" }, this.infoNote) : null,
          refusal,
          !info && !refusal ? el("p", { class: "empty" }, "No system information yet: press Refresh.") : null,
          categories.length ? el("nav", { class: "info-categories", role: "tablist", "aria-label": "Categories" },
            categories.map((c) => el("button", {
              type: "button", role: "tab", class: `info-category${c.id === this.category ? " active" : ""}`, "data-category": c.id,
              "aria-selected": c.id === this.category ? "true" : "false",
              onclick: () => { this.category = c.id; this.renderInfo(); },
            }, c.name))) : null,
          el("div", { class: "info-table" }),
        ].filter(Boolean)));
        this.renderTable();
      }

      renderTable() {
        const box = this.panes.system_info.querySelector(".info-table");
        const category = this.info && this.info.categories.find((c) => c.id === this.category);
        if (!box || !category) return box && box.replaceChildren();
        const pidAt = category.fields.findIndex((f) => f.id === "pid");
        const nameAt = category.fields.findIndex((f) => f.id === "name");
        const ending = category.id === "processes" && pidAt >= 0;
        const needle = this.filter.trim().toLowerCase();
        const rows = needle ? category.rows.filter((row) => row.some((cell) => cell.toLowerCase().includes(needle))) : category.rows;
        if (category.rows.length === 1 && !ending) { // one record (the overview): a field per line reads better
          box.replaceChildren(el("table", { class: "grid info facts-table", "data-category": category.id },
            el("tbody", {}, category.fields.map((f, i) => el("tr", { "data-field": f.id },
              el("th", {}, f.name), el("td", {}, category.rows[0][i] ?? ""))))));
          return;
        }
        box.replaceChildren(...[el("table", { class: "grid info", "data-category": category.id },
          el("thead", {}, el("tr", {}, category.fields.map((f) => el("th", { "data-field": f.id }, f.name)), ending ? el("th", {}, "") : null)),
          el("tbody", {}, rows.map((row) => el("tr", ending ? { "data-pid": row[pidAt] } : {},
            row.map((cell) => el("td", {}, cell)),
            ending ? el("td", {}, el("button", {
              type: "button", class: "end-process danger",
              onclick: () => this.endProcess(Number(row[pidAt]), nameAt >= 0 ? row[nameAt] : ""),
            }, "End process")) : null)))),
          rows.length ? null : el("p", { class: "empty" }, needle ? "No row matches." : "Nothing to show.")].filter(Boolean));
      }

      refresh(keepNote = false) {
        this.error("system_info", "");
        if (!keepNote) this.infoNote = "";
        this.request("computer_info", {}, "system_info");
      }

      async endProcess(pid, name) {
        if (!Number.isInteger(pid) || pid < 1) return;
        this.infoNote = "";
        if (!confirm(`End process ${pid}${name ? ` (${name})` : ""} on the customer's computer?`)) return;
        this.error("system_info", "");
        const answer = await this.request("process_end", { pid }, "system_info");
        if (answer) {
          this.infoNote = `Process ${pid} ended.`;
          this.refresh(true);
        }
      }

      // --- shells -----------------------------------------------------------------------

      renderShellBar() {
        const refusal = this.notAllowed("shell");
        const active = this.activeShell;
        this.shellBar.replaceChildren(...[
          refusal,
          this.allowed("shell") ? el("button", { type: "button", class: "open-shell", onclick: () => this.openShell() }, "Open a shell") : null,
          this.shellViews.length ? el("nav", { class: "shell-tabs", role: "tablist", "aria-label": "Shells" },
            this.shellViews.map((view, i) => el("button", {
              type: "button", role: "tab", class: `shell-tab${view === active ? " active" : ""}${view.exited ? " ended" : ""}`,
              "data-shell": view.number || "", "aria-selected": view === active ? "true" : "false",
              onclick: () => this.selectShell(view),
            }, `Shell ${i + 1}`))) : null,
          active ? el("button", { type: "button", class: "close-shell secondary", onclick: () => this.closeShell(active) },
            active.exited ? "Close" : "End shell") : null,
        ].filter(Boolean));
      }

      selectShell(view, focus = true) {
        this.activeShell = view;
        for (const other of this.shellViews) other.frame.hidden = other !== view;
        this.renderShellBar();
        view.show();
        if (focus) view.focus();
      }

      async openShell() {
        if (!LifelineTerminal.available()) {
          this.error("shell", "The terminal could not load (xterm.js is missing on the appliance: run scripts/install).");
          return;
        }
        this.error("shell", "");
        const view = new ShellView(this, null);
        this.shellViews.push(view);
        this.selectShell(view);
        const { cols, rows } = view.size();
        this.opening += 1;
        const answer = await this.request("shell_open", { cols, rows }, "shell");
        this.opening -= 1;
        if (!answer) {
          this.drop(view);
          return;
        }
        const number = answer.result.shell;
        if (shells.has(number)) { // a `computer` push named it first
          this.drop(view);
          this.selectShell(shells.get(number));
        } else {
          view.attach(number, false);
          this.renderShellBar();
        }
        for (const other of this.state.shells) if (!shells.has(other) && !this.opening) this.adoptShell(other, true);
      }

      // A shell this console did not open (or opened before a reload): its output so far comes again.
      adoptShell(number, replay) {
        const view = new ShellView(this, null);
        this.shellViews.push(view);
        view.attach(number, replay);
        if (!this.activeShell) this.selectShell(view, false);
        else view.frame.hidden = true;
        this.renderShellBar();
      }

      drop(view) {
        view.dispose();
        this.shellViews = this.shellViews.filter((v) => v !== view);
        if (this.activeShell === view) {
          this.activeShell = null;
          if (this.shellViews.length) this.selectShell(this.shellViews[this.shellViews.length - 1]);
        }
        this.renderShellBar();
      }

      closeShell(view) {
        if (!view.exited && view.number) {
          if (!confirm("End this shell on the customer's computer?")) return;
          this.request("shell_close", { shell: view.number }, "shell");
          return; // shell_exit follows; the rep closes the tab then
        }
        this.drop(view);
      }

      // --- files ------------------------------------------------------------------------

      renderFiles() {
        const pane = this.panes.files;
        const refusal = this.notAllowed("files");
        const listing = this.listing;
        const path = el("input", { name: "path", "aria-label": "Folder", value: listing ? listing.path : "" });
        // Several files at once: each is its own transfer, started in the order chosen.
        const upload = el("input", { type: "file", multiple: true, "aria-label": "Upload files here", disabled: !listing,
          onchange: async () => {
            const files = [...upload.files], into = this.listing.path; upload.value = "";
            await this.uploadAll(files, into, () => "");
          } });
        // A folder: each of its files the same way, in its folders under the one shown (the
        // browser gives each file's place as "chosen/sub/name"; empty folders are not listed).
        const uploadFolder = el("input", { type: "file", webkitdirectory: true, "aria-label": "Upload a folder here", disabled: !listing,
          onchange: async () => {
            const files = [...uploadFolder.files], into = this.listing.path; uploadFolder.value = "";
            await this.uploadAll(files, into, folderOf);
          } });
        keepFocus(pane, () => pane.replaceChildren(...[
          refusal,
          this.allowed("files") ? el("form", { class: "folder-bar", onsubmit: (event) => {
            event.preventDefault();
            if (path.value.trim()) this.list(path.value.trim());
          } },
          listing && listing.roots.length ? el("select", { name: "root", "aria-label": "Start at", onchange: (event) => this.list(event.target.value) },
            el("option", { value: "" }, "Go to…"), listing.roots.map((r) => el("option", { value: r }, r))) : null,
          el("button", { type: "button", class: "up secondary", disabled: !listing || !listing.parent, onclick: () => this.list(listing.parent) }, "Up"),
          path, el("button", { type: "submit" }, "Open"),
          el("label", { class: "file-button upload" }, "Upload files here", upload),
          el("label", { class: "file-button upload-folder" }, "Upload a folder here", uploadFolder)) : null,
          el("p", { class: "pane-error", role: "alert", hidden: true }),
          listing && this.allowed("files") ? this.folderTable(listing) : null,
          this.transferList(),
        ].filter(Boolean)));
      }

      folderTable(listing) {
        const rows = [...listing.entries].sort((a, b) => (a.kind === "folder") === (b.kind === "folder")
          ? a.name.localeCompare(b.name) : a.kind === "folder" ? -1 : 1);
        return el("div", { class: "folder" }, // scrolls sideways in a narrow column
          el("table", { class: "grid listing", "data-path": listing.path },
            el("thead", {}, el("tr", {}, el("th", {}, "Name"), el("th", { class: "num" }, "Size"), el("th", {}, "Modified"), el("th", {}, ""))),
            el("tbody", {}, rows.map((entry) => el("tr", { "data-name": entry.name, "data-kind": entry.kind },
              el("td", {}, entry.kind === "folder"
                ? el("button", { type: "button", class: "link open-folder", onclick: () => this.list(join(listing.path, entry.name)) }, `${entry.name}/`)
                : entry.name),
              el("td", { class: "num" }, entry.kind === "file" ? size(entry.size) : ""),
              el("td", { class: "when" }, entry.modified ? new Date(entry.modified * 1000).toLocaleString() : ""),
              el("td", {}, entry.kind === "file" || entry.kind === "folder"
                ? el("button", { type: "button", class: "download secondary", onclick: () => this.download(join(listing.path, entry.name)) },
                  entry.kind === "folder" ? "Download (zip)" : "Download") : null))))),
          listing.truncated ? el("p", { class: "muted" }, "This folder holds more entries than are shown.") : null,
          rows.length ? null : el("p", { class: "empty" }, "This folder is empty."));
      }

      transferList() {
        if (!this.transfers.size) return null;
        return el("ul", { class: "transfers" }, [...this.transfers.values()].reverse().map((t) => {
          const percent = t.size ? Math.floor((100 * t.done) / t.size) : t.state === "done" ? 100 : 0;
          return el("li", { class: `transfer ${t.state}`, "data-transfer": t.id, "data-state": t.state },
            el("span", { class: "name" }, `${t.direction === "download" ? "⬇" : "⬆"} ${t.name}`),
            t.state === "moving" ? el("progress", { max: 100, value: percent }) : null,
            el("span", { class: "progress-text" }, t.state === "failed" ? `failed: ${t.error}`
              : t.state === "done" ? `done, ${size(t.size)}` : `${percent}% of ${size(t.size)}`),
            t.state === "done" && t.direction === "download" && t.file_id
              ? el("a", { class: "save", href: `/console/files/${t.file_id}`, download: t.name }, "Save") : null);
        }));
      }

      // Only the latest listing asked for is shown: a refresh after an upload must not take
      // the rep back to a folder they have left meanwhile.
      async list(path) {
        this.error("files", "");
        const turn = ++this.listTurn;
        const answer = await this.request("computer_list", { path: path || null }, "files");
        if (turn !== this.listTurn) return;
        this.listedTurn = turn;
        if (!answer) return;
        this.listing = answer.result;
        this.renderFiles();
      }

      async download(path) {
        this.error("files", "");
        const answer = await this.request("file_get", { path }, "files");
        if (!answer) return;
        this.mine.add(String(answer.result.id));
        this.transfer(answer.result);
      }

      // Files in the order chosen, a few on their way to the customer's computer at once: the
      // client works on a few requests at once only, and a folder may hold many files.
      async uploadAll(files, into, foldersOf) {
        const moving = new Set();
        for (const file of files) {
          while (moving.size >= UPLOADS_AT_ONCE) await Promise.race(moving);
          const { arrived } = await this.upload(file, into, foldersOf(file));
          moving.add(arrived);
          arrived.then(() => moving.delete(arrived));
        }
      }

      // The file goes to the appliance's file store first (the console's upload), then onto
      // the customer's computer into the folder shown when it was chosen (the rep may browse
      // on meanwhile), in its `folders` under that one for a file of a folder.
      async upload(file, folder, folders = "") {
        this.error("files", "");
        const shown = folders ? `${folders}/${file.name}` : file.name;
        const local = { id: `local-${newRef()}`, direction: "upload", name: shown, path: folder, size: file.size, done: 0, state: "moving", error: "" };
        this.transfer(local);
        const stored = await postFile(this.lsid, file, (done) => this.transfer({ ...local, done }));
        this.transfers.delete(local.id);
        if (!stored.ok) {
          this.transfer({ ...local, state: "failed", error: stored.error });
          return { arrived: Promise.resolve() };
        }
        const answer = await this.request("file_put", folders ? { file_id: stored.file_id, path: folder, folders } : { file_id: stored.file_id, path: folder }, "files");
        if (!answer) {
          this.renderFiles();
          return { arrived: Promise.resolve() };
        }
        const id = String(answer.result.id);
        if (folders) this.shownAs.set(id, shown);
        if (!this.transfers.has(id)) this.transfer(answer.result); // a push may have said more already
        else this.transfer(this.transfers.get(id));
        return { arrived: this.finished(id) }; // not awaited here: the next file may start
      }

      // Resolved once the transfer has arrived, failed, or sat idle past the appliance's limit.
      finished(id) {
        const known = this.transfers.get(id);
        if (known && known.state !== "moving") return Promise.resolve();
        return new Promise((resolve) => {
          const wait = { resolve, timer: 0 };
          wait.arm = () => {
            clearTimeout(wait.timer);
            wait.timer = setTimeout(() => { this.waiting.delete(id); resolve(); }, TRANSFER_IDLE_MS);
          };
          wait.arm();
          this.waiting.set(id, wait);
        });
      }

      transfer(state) {
        state = { ...state, id: String(state.id) };
        if (this.shownAs.has(state.id)) state.name = this.shownAs.get(state.id);
        const wait = this.waiting.get(state.id);
        if (wait && state.state !== "moving") {
          clearTimeout(wait.timer);
          this.waiting.delete(state.id);
          wait.resolve();
        } else if (wait) wait.arm();
        this.transfers.set(state.id, state);
        if (state.state === "done" && state.direction === "download" && state.file_id && this.mine.has(state.id)) {
          this.mine.delete(state.id);
          save(`/console/files/${state.file_id}`, state.name);
        }
        if (state.state === "done" && state.direction === "upload" && this.listing && this.listing.path === state.path
            && this.listedTurn === this.listTurn) {
          this.list(this.listing.path);
        }
        this.renderFiles();
      }
    }

    // --- one command shell: an xterm.js terminal, made when first shown ------------------

    class ShellView {
      constructor(computer, number) {
        this.computer = computer;
        this.number = number;
        this.exited = false;
        this.box = el("div", { class: "shell-terminal" });
        this.status = el("p", { class: "shell-ended", hidden: true });
        this.frame = el("div", { class: "shell" }, this.box, this.status);
        computer.terminals.append(this.frame);
        this.terminal = null;
        this.held = []; // output that came while the terminal was not made yet
        this.heldBytes = 0;
        this.lastSequence = 0;
        this.replaying = null; // sequence -> payload while a replay is under way
        this.stale = false; // the console's socket came back: catch up once the computer is back
        this.outbox = "";
        this.timer = null;
        this.lastSent = 0;
        this.resizeTimer = null;
        if (this.visible()) this.show();
      }

      visible() {
        return this.box.offsetParent !== null;
      }

      // Made only while it can be measured: xterm.js sizes its cells from the page.
      show() {
        if (this.terminal || !this.visible() || !LifelineTerminal.available()) return;
        this.terminal = LifelineTerminal.open(this.box);
        const term = this.terminal.term;
        term.onData((data) => this.type(data));
        term.onResize(({ cols, rows }) => this.resized(cols, rows));
        for (const chunk of this.held) term.write(chunk);
        this.held = [];
        this.heldBytes = 0;
        if (this.exited) term.options.disableStdin = true;
      }

      size() {
        if (!this.terminal) return { cols: 80, rows: 24 };
        this.terminal.fit();
        return { cols: this.terminal.term.cols, rows: this.terminal.term.rows };
      }

      focus() {
        if (this.terminal) this.terminal.term.focus();
      }

      attach(number, replay) {
        this.number = number;
        this.box.dataset.shell = number;
        shells.set(number, this);
        const before = early.get(number) || [];
        early.delete(number);
        if (replay) this.replay(true);
        else for (const [sequence, payload] of before) this.output(sequence, payload);
      }

      // Everything again from the appliance (a reload, or a reconnect that may have missed
      // frames): the screen starts over.
      // The shell's recent output again. `fresh`: the terminal starts over with it (a shell
      // this page had not shown); otherwise only what came after the last frame shown is
      // added (the socket came back: frames may have been missed, and after an appliance
      // restart the appliance holds only what came since). The replayed frames keep their
      // sequence numbers; until the answer comes (5 s at most) every frame waits, so a new
      // one that overtakes them is put back in its place.
      async replay(fresh) {
        if (!this.number || this.exited || this.replaying) return;
        if (fresh) {
          if (this.terminal) this.terminal.term.reset();
          this.held = [];
          this.heldBytes = 0;
          this.lastSequence = 0;
        }
        const frames = new Map();
        this.replaying = frames;
        await Promise.race([
          this.computer.request("shell_replay", { shell: this.number }, "shell"),
          new Promise((done) => setTimeout(done, 5000)),
        ]);
        if (this.replaying !== frames) return;
        this.replaying = null;
        for (const sequence of [...frames.keys()].sort((a, b) => a - b)) this.output(sequence, frames.get(sequence));
      }

      output(sequence, payload) {
        if (this.replaying) {
          this.replaying.set(sequence, payload);
          return;
        }
        if (sequence && sequence <= this.lastSequence) return; // had it already (a replay overlapping)
        this.lastSequence = sequence;
        if (this.terminal) {
          this.terminal.term.write(payload);
          return;
        }
        this.held.push(payload);
        this.heldBytes += payload.length;
        while (this.heldBytes > HELD_OUTPUT && this.held.length > 1) this.heldBytes -= this.held.shift().length;
      }

      type(data) {
        if (this.exited || !this.number) return;
        this.outbox += data;
        if (!this.timer) this.timer = setTimeout(() => this.flush(), Math.max(0, this.lastSent + INPUT_EVERY_MS - Date.now()));
      }

      flush() {
        this.timer = null;
        if (!this.outbox) return;
        let cut = Math.min(this.outbox.length, INPUT_CHUNK);
        const last = this.outbox.charCodeAt(cut - 1);
        if (cut < this.outbox.length && last >= 0xd800 && last <= 0xdbff) cut -= 1; // keep a surrogate pair whole
        const data = this.outbox.slice(0, cut);
        this.outbox = this.outbox.slice(cut);
        const ref = newRef();
        remember(ref);
        socket.notify("shell_input", { lsid: this.computer.lsid, shell: this.number, data, ref });
        this.lastSent = Date.now();
        if (this.outbox) this.timer = setTimeout(() => this.flush(), INPUT_EVERY_MS);
      }

      resized(cols, rows) {
        if (this.exited || !this.number) return;
        clearTimeout(this.resizeTimer);
        this.resizeTimer = setTimeout(() => socket.notify("shell_resize", { lsid: this.computer.lsid, shell: this.number, cols, rows, ref: remember(newRef()) }), 150);
      }

      ended(code) {
        if (this.exited) return;
        this.exited = true;
        this.status.textContent = code === null || code === undefined ? "The shell ended." : `The shell ended (exit code ${code}).`;
        this.status.hidden = false;
        if (this.terminal) this.terminal.term.options.disableStdin = true;
        this.computer.renderShellBar();
      }

      dispose() {
        clearTimeout(this.timer);
        clearTimeout(this.resizeTimer);
        if (this.number && shells.get(this.number) === this) shells.delete(this.number);
        if (this.terminal) this.terminal.dispose();
        this.frame.remove();
      }
    }

    function remember(ref) {
      if (inputRefs.size > 1000) inputRefs.clear();
      inputRefs.add(ref);
      return ref;
    }

    // The console's upload into the session (the file store), with its progress.
    function postFile(lsid, file, progress) {
      return new Promise((resolve) => {
        const form = new FormData();
        form.append("ref", newRef());
        form.append("for", "computer"); // logged once, as a File Upload, when the client has written it
        // Its own name: a file of a chosen folder would otherwise go as "chosen/sub/name".
        form.append("file", file, file.name);
        const request = new XMLHttpRequest();
        request.open("POST", `/console/sessions/${lsid}/files`);
        request.setRequestHeader("x-csrf-token", csrf);
        request.setRequestHeader("x-gsnumber", String(me()));
        request.upload.onprogress = (event) => progress(event.loaded);
        request.onload = () => {
          try { resolve(JSON.parse(request.responseText)); } catch (error) { resolve({ ok: false, error: `the upload failed (${request.status})` }); }
        };
        request.onerror = () => resolve({ ok: false, error: "the upload failed: the connection dropped" });
        request.send(form);
      });
    }

    // --- messages and frames from the socket -----------------------------------------------

    function receive(message) {
      switch (message.type) {
        case "computer":
          computerOf(message.lsid).update(message);
          return true;
        case "system_info": {
          const computer = computerOf(message.lsid);
          computer.info = message;
          computer.renderInfo();
          return true;
        }
        case "shell_exit": {
          const view = shells.get(message.shell);
          if (view) view.ended(message.code);
          return true;
        }
        case "transfer":
          computerOf(message.lsid).transfer(message.transfer);
          return true;
        case "screen": {
          const computer = computerOf(message.lsid);
          computer.screen.update(message);
          if (computer === shown) computer.renderHeader();
          return true;
        }
        case "clipboard":
          computerOf(message.lsid).screen.pushedClipboard(message.text);
          return true;
        case "ack":
          for (const computer of computers.values()) if (computer.screen.refused(message)) return true;
          if (inputRefs.has(message.ref)) {
            inputRefs.delete(message.ref);
            if (!message.ok) say(message.error);
            return true;
          }
          return false;
        default:
          return false;
      }
    }

    function frame(buffer) {
      const header = LifelineFrames.parse(buffer);
      if (!header) return;
      if (header.kind === LifelineFrames.KIND.SCREEN) {
        for (const computer of computers.values()) computer.screen.frame(header);
        return;
      }
      if (header.kind !== LifelineFrames.KIND.SHELL) return;
      const { stream: number, sequence, payload } = header;
      const view = shells.get(number);
      if (view) {
        view.output(sequence, payload);
        return;
      }
      // Output can overtake the answer to shell_open; it waits for it (a little).
      const waiting = early.get(number) || [];
      if (waiting.length < 256) waiting.push([sequence, payload]);
      early.set(number, waiting);
      if (early.size > 16) early.delete(early.keys().next().value);
    }

    // After the socket came back: frames sent meanwhile may be lost. Each shell asks for what
    // it missed once its computer is back (the appliance may have restarted, and the client
    // comes back on its own time).
    function resumed() {
      for (const view of shells.values()) view.stale = true;
      for (const computer of computers.values()) {
        // Whether the client is connected is not known until the appliance says it again (at
        // once when it is). After a restart the client may come back later than the console,
        // and keys typed into a shell meanwhile would be refused and lost.
        computer.update({ ...computer.state, connected: false });
        computer.screen.resumed();
      }
    }

    // The computer of the session the console shows now (null: none).
    function show(lsid) {
      const computer = lsid ? computerOf(lsid) : null;
      host.hidden = !computer;
      if (computer === shown) return;
      if (shown) shown.screen.setShown(false);
      shown = computer;
      if (computer) computer.screen.setShown(true);
      host.replaceChildren(...(computer ? [computer.root] : []));
      if (computer) {
        computer.renderHeader();
        computer.showPane();
      }
    }

    return { receive, frame, show, resumed };
  }

  // --- helpers ---------------------------------------------------------------------------

  function keepFocus(container, redraw) {
    const active = document.activeElement;
    const name = active && container.contains(active) && active.name ? active.name : null;
    redraw();
    if (name) {
      const again = container.querySelector(`[name="${name}"]`);
      if (again) again.focus();
    }
  }

  function join(folder, name) {
    const separator = folder.includes("\\") && !folder.includes("/") ? "\\" : "/";
    return folder.endsWith(separator) ? folder + name : folder + separator + name;
  }

  // The folders a file of a chosen folder sits in ("chosen/sub" of "chosen/sub/name").
  function folderOf(file) {
    const parts = (file.webkitRelativePath || "").split("/");
    return parts.slice(0, -1).join("/");
  }

  function save(href, name) {
    const link = el("a", { href, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
  }

  return { create };
})();
