// The help chat without a page reload: posts the same form the page posts without JavaScript and swaps
// the answer and the transcript in place. Any failure falls back to the ordinary form post.
(function () {
  "use strict";
  var chat = document.querySelector("[data-help-chat]");
  if (!chat || !window.fetch || !window.FormData || !window.DOMParser) {
    return;
  }
  chat.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.dataset.sending === "1") {
      return;
    }
    event.preventDefault();
    form.dataset.sending = "1";
    var button = form.querySelector("button[type=submit]");
    if (button) {
      button.disabled = true;
    }
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) {
        if (response.redirected || response.status >= 500) {
          throw new Error("not an answer");
        }
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.querySelector("[data-help-chat]");
        if (!fresh) {
          throw new Error("not an answer");
        }
        chat.innerHTML = fresh.innerHTML;
        var focus = chat.querySelector("[role=alert]") || chat.querySelector("#help-answer section") || chat.querySelector("textarea");
        if (focus) {
          if (!focus.hasAttribute("tabindex")) {
            focus.setAttribute("tabindex", "-1");
          }
          focus.focus();
        }
      })
      .catch(function () {
        form.dataset.sending = "";
        form.submit();
      });
  });
})();
