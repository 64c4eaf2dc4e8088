/* Lifeline click-to-chat: the BG functions of the Bomgar API guide (1.7), for any web page.
 *
 *   <script src="https://support.example.com/api/clicktochat.js"></script>
 *   <script>BG.setSite("https://support.example.com");</script>
 *   <a href="#" onclick="BG.startChatWithSessionKey('1234567', true); return false;">Chat</a>
 *
 * Each function opens the chat in a small window. When a browser blocks that window and
 * fallbackToFullWindow is true, this page itself goes to the chat instead.
 */
(function (global) {
  "use strict";
  var BG = global.BG || {};
  var site = "";
  var scriptSite = (function () {
    var current = document.currentScript && document.currentScript.src;
    var match = current && current.match(/^(https?:\/\/[^\/]+)/);
    return match ? match[1] : "";
  })();

  function base() {
    var value = site || scriptSite;
    if (!/^https?:\/\//.test(value)) value = "https://" + value;
    return value.replace(/\/+$/, "");
  }

  function query(fields) {
    var parts = [];
    for (var name in fields) {
      if (Object.prototype.hasOwnProperty.call(fields, name) && fields[name] !== undefined && fields[name] !== null && fields[name] !== "") {
        parts.push(encodeURIComponent(name) + "=" + encodeURIComponent(String(fields[name])));
      }
    }
    return parts.join("&");
  }

  function open(fields, fallbackToFullWindow) {
    fields.c2cjs = 1;
    fields.popup = 1;
    var url = base() + "/api/start_session?" + query(fields);
    var opened = null;
    try {
      opened = global.open(url, "clickToChat", "width=480,height=640,resizable=yes,scrollbars=yes");
    } catch (e) {
      opened = null;
    }
    if (!opened && fallbackToFullWindow) {
      global.location.href = url;
    }
    return opened;
  }

  BG.setSite = function (url) {
    site = String(url || "");
  };

  BG.startChatWithSessionKey = function (sessionKey, fallbackToFullWindow) {
    return open({ short_key: sessionKey }, fallbackToFullWindow);
  };

  BG.startChatWithSessionKeyAndExternalKey = function (sessionKey, externalKey, fallbackToFullWindow) {
    return open({ short_key: sessionKey, external_key: externalKey }, fallbackToFullWindow);
  };

  BG.startChatWithRepIdName = function (repId, repName, fallbackToFullWindow) {
    return open({ id: repId, name: repName }, fallbackToFullWindow);
  };
  // The API guide also spells it this way.
  BG.startChatWithRepldName = BG.startChatWithRepIdName;

  BG.startChatWithIssueId = function (issueId, fallbackToFullWindow) {
    return open({ issue_menu: 1, id: issueId }, fallbackToFullWindow);
  };

  BG.startChatWithIssueForm = function (formElement, fallbackToFullWindow) {
    var fields = { issue_menu: 1 };
    var elements = formElement && formElement.elements ? formElement.elements : [];
    for (var i = 0; i < elements.length; i++) {
      var element = elements[i];
      if (!element.name || element.disabled) continue;
      if ((element.type === "checkbox" || element.type === "radio") && !element.checked) continue;
      if (element.type === "submit" || element.type === "button") continue;
      fields[element.name] = element.value;
    }
    return open(fields, fallbackToFullWindow);
  };

  global.BG = BG;
})(window);
