// Booking and series forms: "Pick from free slots instead" carries the type, clinician and location chosen so
// far, so the search opens filled in. The server writes the link for what the page was opened with; this
// keeps it in step when the person changes a choice before following it.
(function () {
  "use strict";
  var NAMES = ["appointment_type", "clinician", "location", "patient"];
  function update(form) {
    var link = form.querySelector("[data-slots-link]");
    if (!link) { return; }
    var url = new URL(link.getAttribute("href"), window.location.href);
    NAMES.forEach(function (name) {
      var field = form.elements.namedItem(name);
      if (!field) { return; }
      if (field.value) { url.searchParams.set(name, field.value); } else { url.searchParams.delete(name); }
    });
    link.setAttribute("href", url.pathname + url.search);
  }
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-booking-form]");
    if (form) { update(form); }
  });
})();
