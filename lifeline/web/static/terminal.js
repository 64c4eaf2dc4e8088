// The console's command shell terminal: xterm.js (served from npm's copy under
// /static/vendor/) made to work under the pages' Content-Security-Policy.
"use strict";

const LifelineTerminal = (() => {
  // xterm.js keeps some computed rules (cell sizes, theme colours, the scrollbar) in <style>
  // elements it adds inside the terminal, and the policy's style-src 'self' refuses inline
  // style elements. Their text is copied into constructed style sheets, which the policy
  // allows (style sheets made by script, like any style set through the CSSOM), each time
  // xterm.js changes it. Only the terminal's own elements are copied, so markup injected
  // anywhere else still gets no styles.
  function mirrorStyles(element) {
    const sheets = new Map(); // the <style> element -> its constructed copy
    const adopt = (sheet, on) => {
      const others = document.adoptedStyleSheets.filter((s) => s !== sheet);
      document.adoptedStyleSheets = on ? [...others, sheet] : others;
    };
    const copy = () => {
      for (const style of element.querySelectorAll("style")) {
        let sheet = sheets.get(style);
        if (!sheet) {
          sheet = new CSSStyleSheet();
          sheets.set(style, sheet);
          adopt(sheet, true);
        }
        if (sheet.text !== style.textContent) {
          sheet.text = style.textContent;
          sheet.replaceSync(style.textContent);
        }
      }
      for (const [style, sheet] of sheets) {
        if (!element.contains(style)) {
          sheets.delete(style);
          adopt(sheet, false);
        }
      }
    };
    const observer = new MutationObserver(copy);
    observer.observe(element, { subtree: true, childList: true, characterData: true });
    copy();
    return () => {
      observer.disconnect();
      for (const sheet of sheets.values()) adopt(sheet, false);
      sheets.clear();
    };
  }

  // The colours of the recordings' player (lifeline.css, .terminal), so a shell looks the same live and replayed.
  const THEME = {
    background: "#111820", foreground: "#d8dee6", cursor: "#d8dee6",
    black: "#2e3436", red: "#cc3333", green: "#4e9a06", yellow: "#c4a000",
    blue: "#3465a4", magenta: "#a259a5", cyan: "#06989a", white: "#d3d7cf",
    brightBlack: "#686c66", brightRed: "#ef5151", brightGreen: "#8ae234", brightYellow: "#fce94f",
    brightBlue: "#729fcf", brightMagenta: "#ad7fa8", brightCyan: "#34e2e2", brightWhite: "#eeeeec",
  };

  // A terminal in `container`, sized to fill it; `available` says whether xterm.js loaded.
  function open(container) {
    const term = new Terminal({
      cursorBlink: true,
      convertEol: false,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace',
      fontSize: 14,
      scrollback: 5000,
      theme: THEME,
    });
    const fit = new FitAddon.FitAddon();
    term.loadAddon(fit);
    term.open(container);
    const stopMirroring = mirrorStyles(term.element);
    const fitNow = () => {
      if (container.offsetParent === null) return; // hidden: keep the last size
      try { fit.fit(); } catch (error) { /* not laid out yet */ }
    };
    const resized = new ResizeObserver(fitNow);
    resized.observe(container);
    fitNow();
    return {
      term,
      fit: fitNow,
      dispose() {
        resized.disconnect();
        stopMirroring();
        term.dispose();
      },
    };
  }

  function available() {
    return typeof Terminal === "function" && typeof FitAddon === "object";
  }

  return { open, available };
})();
