/* Lifeline session start script: the later BG.start API, for any web page.
 *
 *   <script src="https://support.example.com/api/start_session.js"></script>
 *   <script>BG.setSite("support.example.com");</script>
 *   <button onclick="BG.start(BG.START_TYPE.CHAT, {sessionKey: '1234567'})">Chat</button>
 *
 * CHAT opens the browser chat client in a small window (or, when blocked and
 * uiOptions.fallbackToFullWindow is set, in this window); FULL and BROWSER start the
 * browser customer client in this window. Options: exactly one of sessionKey, rep
 * {id, name} or issue {id | codeName} (or a form element with issue fields); customer
 * {name, company, company_code, details}; attributes {external_key, <code name>...};
 * locale; uiOptions {fallbackToFullWindow}; sessionStartFailed(error).
 */
(function (global) {
  "use strict";
  var BG = global.BG || {};
  var site = "";
  var protocol = "https";
  var scriptSite = (function () {
    var current = document.currentScript && document.currentScript.src;
    var match = current && current.match(/^(https?):\/\/([^\/]+)/);
    if (match) protocol = match[1];
    return match ? match[2] : "";
  })();

  BG.START_TYPE = { BROWSER: 1, CHAT: 2, FULL: 3 };

  BG.setSite = function (host) {
    var value = String(host || "");
    var match = value.match(/^(https?):\/\/([^\/]+)/);
    if (match) {
      protocol = match[1];
      value = match[2];
    }
    site = value.replace(/\/+$/, "");
  };

  BG.setProtocol = function (value) {
    protocol = String(value || "https").replace(/:$/, "");
  };

  function add(fields, name, value) {
    if (value !== undefined && value !== null && value !== "") fields[name] = String(value);
  }

  function fieldsFor(type, options) {
    var fields = {};
    var chosen = (options.sessionKey ? 1 : 0) + (options.rep ? 1 : 0) + (options.issue ? 1 : 0);
    if (chosen !== 1) throw "Give exactly one of sessionKey, rep or issue.";
    if (options.sessionKey) {
      add(fields, "short_key", options.sessionKey);
    } else if (options.rep) {
      add(fields, "id", options.rep.id);
      add(fields, "name", options.rep.name);
    } else {
      fields.issue_menu = "1";
      var issue = options.issue;
      if (issue.elements) {
        for (var i = 0; i < issue.elements.length; i++) {
          var element = issue.elements[i];
          if (element.name && !element.disabled && element.type !== "submit") add(fields, element.name, element.value);
        }
      } else {
        add(fields, "id", issue.id);
        add(fields, "codeName", issue.codeName);
      }
    }
    var customer = options.customer || {};
    add(fields, "customer.name", customer.name);
    add(fields, "customer.company", customer.company);
    add(fields, "customer.company_code", customer.company_code || customer.companyCode);
    add(fields, "customer.details", customer.details);
    var attributes = options.attributes || {};
    for (var name in attributes) {
      if (Object.prototype.hasOwnProperty.call(attributes, name)) {
        add(fields, "session.custom." + (name === "externalKey" ? "external_key" : name), attributes[name]);
      }
    }
    add(fields, "locale", options.locale);
    if (type === BG.START_TYPE.CHAT) {
      fields.c2cjs = "1";
      fields.popup = "1";
    }
    return fields;
  }

  function url(fields) {
    var parts = [];
    for (var name in fields) {
      if (Object.prototype.hasOwnProperty.call(fields, name)) {
        parts.push(encodeURIComponent(name) + "=" + encodeURIComponent(fields[name]));
      }
    }
    return protocol + "://" + (site || scriptSite) + "/api/start_session?" + parts.join("&");
  }

  BG.start = function (type, options) {
    if (type !== BG.START_TYPE.BROWSER && type !== BG.START_TYPE.CHAT && type !== BG.START_TYPE.FULL) {
      throw '"type" must be a valid START_TYPE, for instance, BG.START_TYPE.FULL.';
    }
    options = options || {};
    var target;
    try {
      target = url(fieldsFor(type, options));
    } catch (error) {
      if (typeof options.sessionStartFailed === "function") options.sessionStartFailed(error);
      else throw error;
      return null;
    }
    if (type === BG.START_TYPE.CHAT) {
      var opened = null;
      try {
        opened = global.open(target, "clickToChat", "width=640,height=480,resizable=yes,scrollbars=yes");
      } catch (e) {
        opened = null;
      }
      var ui = options.uiOptions || {};
      if (!opened) {
        if (ui.fallbackToFullWindow) global.location.href = target;
        else if (typeof options.sessionStartFailed === "function") options.sessionStartFailed("The chat window was blocked.");
      }
      return opened;
    }
    global.location.href = target;
    return null;
  };

  global.BG = BG;
})(window);
