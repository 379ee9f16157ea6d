// The team inbox: conversations open beside the list (HTMX, with the URL pushed), the thread follows new texts,
// Ctrl/Cmd+Enter sends, saved replies fill the composer, and optional desktop alerts for new patient texts.
// No inline script anywhere (the Content-Security-Policy forbids it): everything the page does is here.
(function () {
  "use strict";
  var DETAIL = "inbox-detail";
  var LIST_LAZY = "inbox-list-lazy";  // a conversation page's list pane, fetched after the page
  var CONVERSATION_PATH = /\/inbox\/\d+\/?$/;
  var NOTIFY_KEY = "careline.inbox.notifications";
  var NOTIFY_EVERY_MS = 15000;

  if (window.htmx) {
    // Pages here carry patient data: never keep copies in the browser's storage for the back button; going
    // back reloads the page from the server instead.
    window.htmx.config.historyCacheSize = 0;
    window.htmx.config.refreshOnHistoryMiss = true;
  }

  function scrollToNewest(root) {
    (root || document).querySelectorAll("[data-scroll-newest]").forEach(function (list) {
      list.scrollTop = list.scrollHeight;
    });
  }

  // On a phone the thread takes the room between its top and the composer: the newest text and the reply box
  // are both on the first screen, with no page scrolling.
  var PHONE = window.matchMedia ? window.matchMedia("(max-width: 48rem)") : null;
  function fitThread() {
    var thread = document.getElementById("thread");
    if (!thread) { return; }
    if (!PHONE || !PHONE.matches) { thread.style.height = ""; return; }
    var composer = document.getElementById("composer");
    var top = thread.getBoundingClientRect().top + window.scrollY;
    var room = window.innerHeight - top - (composer ? composer.offsetHeight : 0) - 16;
    thread.style.height = Math.max(room, 144) + "px";
    thread.scrollTop = thread.scrollHeight;
  }
  window.addEventListener("resize", fitThread);

  // --- opening a conversation from the list keeps the list ----------------------------------------------
  function markCurrent() {
    var detail = document.getElementById(DETAIL);
    var open = detail && detail.getAttribute("data-conversation-url");
    document.querySelectorAll("[data-inbox-list] a[href]").forEach(function (link) {
      if (open && new URL(link.href, location.href).pathname === open) {
        link.setAttribute("aria-current", "page");
      } else {
        link.removeAttribute("aria-current");
      }
    });
  }

  function openInPane(root) {
    if (!window.htmx || !document.getElementById(DETAIL)) { return; }
    var scope = root && root.querySelectorAll ? root : document;
    var links = scope.matches && scope.matches("[data-inbox-list] a[href]") ? [scope] : [];
    links = links.concat(Array.prototype.slice.call(scope.querySelectorAll("[data-inbox-list] a[href]")));
    links.forEach(function (link) {
      if (link.hasAttribute("hx-get") || !CONVERSATION_PATH.test(new URL(link.href, location.href).pathname)) { return; }
      link.setAttribute("hx-get", link.getAttribute("href"));
      link.setAttribute("hx-target", "#" + DETAIL);
      link.setAttribute("hx-swap", "outerHTML");
      link.setAttribute("hx-push-url", "true");
      // Opening a conversation is the person at work, unlike the list's own polling it sits in.
      link.setAttribute("hx-headers", "{\"X-Careline-Background\": \"\"}");
      window.htmx.process(link);
    });
    markCurrent();
  }

  // --- the composer ---------------------------------------------------------------------------------------
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.isComposing) { return; }
    var form = event.target.closest && event.target.closest("form[data-send-shortcut]");
    if (!form || event.target.tagName !== "TEXTAREA") { return; }
    event.preventDefault();
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  });

  document.addEventListener("change", function (event) {
    var picker = event.target.closest && event.target.closest("[data-saved-reply]");
    if (!picker || !picker.value) { return; }
    var box = document.getElementById(picker.getAttribute("data-saved-reply"));
    if (!box) { return; }
    box.value = picker.value;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
    picker.selectedIndex = 0;
  });

  function fromEarlierLink(event) {
    var config = event.detail.requestConfig;
    var source = config && config.elt;
    return Boolean(source && source.hasAttribute && source.hasAttribute("data-thread-earlier"));
  }

  // A reply refused by the form (400) still replaces the pane, so its errors show.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === DETAIL && event.detail.xhr && event.detail.xhr.status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
    if (target && target.hasAttribute && target.hasAttribute("data-scroll-newest")) {
      target.dataset.wasAtBottom = String(target.scrollHeight - target.scrollTop - target.clientHeight < 40);
    }
    if (fromEarlierLink(event)) {
      // Earlier messages go above what the reader is looking at: keep it where it is.
      var thread = document.getElementById("thread");
      if (thread) { thread.dataset.fromBottom = String(thread.scrollHeight - thread.scrollTop); }
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target) { return; }
    if (target.id === LIST_LAZY) {
      // The list arrived beside an open conversation: mark it, and leave the thread where the reader is.
      markCurrent();
      return;
    }
    if (fromEarlierLink(event)) {
      var thread = document.getElementById("thread");
      if (thread && thread.dataset.fromBottom) {
        thread.scrollTop = thread.scrollHeight - Number(thread.dataset.fromBottom);
        delete thread.dataset.fromBottom;
      }
      var link = document.getElementById("thread-earlier");
      var first = link ? link.nextElementSibling : (thread && thread.firstElementChild);
      if (first && first.focus) { first.setAttribute("tabindex", "-1"); first.focus({ preventScroll: true }); }
      return;
    }
    if (target.hasAttribute && target.hasAttribute("data-scroll-newest")) {
      // New texts appended: follow them only when the reader was already at the bottom.
      if (target.dataset.wasAtBottom !== "false") { target.scrollTop = target.scrollHeight; }
      return;
    }
    var detail = document.getElementById(DETAIL);
    if (detail && (target === detail || target.id === DETAIL || !document.body.contains(target))) {
      fitThread();
      scrollToNewest(detail);
      markCurrent();
      var source = event.detail.requestConfig && event.detail.requestConfig.elt;
      var box = detail.querySelector("form[data-send-shortcut] textarea");
      if (source && source.matches && source.matches("form[data-send-shortcut]") && box) {
        box.focus();  // just sent: ready for the next reply
      } else {
        var heading = detail.querySelector("#conversation-heading");
        if (heading && source && source.closest && source.closest("[data-inbox-list]")) {
          heading.setAttribute("tabindex", "-1");
          heading.focus({ preventScroll: true });
        }
      }
    }
  });

  // --- desktop alerts and a sound for new patient texts (off until the person turns them on) ----------------
  var notifyTimer = null;
  var notifyCursor = null;

  function notificationsOn() {
    return "Notification" in window && Notification.permission === "granted" && localStorage.getItem(NOTIFY_KEY) === "on";
  }

  function chime() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    try {
      var audio = new Context();
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.12, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.35);
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.35);
      tone.onended = function () { audio.close(); };
    } catch (error) { /* no sound available: the notification is enough */ }
  }

  function pollNotices(button) {
    var url = button.getAttribute("data-notify-url") + (notifyCursor === null ? "" : "?after=" + encodeURIComponent(notifyCursor));
    fetch(url, { headers: { "X-Careline-Background": "1", "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        var first = notifyCursor === null;
        notifyCursor = data.cursor;
        if (first || !notificationsOn() || !data.notices.length) { return; }
        var open = document.getElementById(DETAIL);
        var openUrl = open && open.getAttribute("data-conversation-url");
        var shown = 0;
        data.notices.forEach(function (notice) {
          if (document.visibilityState === "visible" && notice.url === openUrl) { return; }
          // Who wrote, never what: the text stays behind sign-in.
          var alert = new Notification(notice.title, { tag: "careline-conversation-" + notice.conversation });
          alert.onclick = function () { window.focus(); location.href = notice.url; alert.close(); };
          shown += 1;
        });
        if (shown) { chime(); }
      })
      .catch(function () { /* offline for a moment: the next poll catches up */ });
  }

  function showNotifyState(button) {
    var on = notificationsOn();
    button.setAttribute("aria-pressed", String(on));
    button.textContent = on ? "Desktop alerts: on" : "Desktop alerts: off";
    if (on && notifyTimer === null) {
      pollNotices(button);
      notifyTimer = window.setInterval(function () { pollNotices(button); }, NOTIFY_EVERY_MS);
    } else if (!on && notifyTimer !== null) {
      window.clearInterval(notifyTimer);
      notifyTimer = null;
      notifyCursor = null;
    }
  }

  function setUpNotifications() {
    var button = document.getElementById("inbox-notify");
    if (!button || !("Notification" in window) || !window.fetch) { return; }
    button.hidden = false;
    if (Notification.permission === "denied") {
      button.textContent = "Desktop alerts: blocked in this browser";
      button.disabled = true;
      return;
    }
    button.addEventListener("click", function () {
      if (notificationsOn()) {
        localStorage.setItem(NOTIFY_KEY, "off");
        showNotifyState(button);
        return;
      }
      Notification.requestPermission().then(function (permission) {
        localStorage.setItem(NOTIFY_KEY, permission === "granted" ? "on" : "off");
        showNotifyState(button);
      });
    });
    showNotifyState(button);
  }

  document.addEventListener("DOMContentLoaded", function () {
    fitThread();
    scrollToNewest(document);
    setUpNotifications();
  });
  if (window.htmx) { window.htmx.onLoad(openInPane); }
})();
