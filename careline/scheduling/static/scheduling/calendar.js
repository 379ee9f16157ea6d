/* The staff calendar: EventCalendar (vendor/event-calendar-*.min.js) on #calendar, fed by calendar_events.
 *
 * Times travel as wall-clock strings of the visit's location ("2031-01-06T09:00"), which the grid shows as
 * they are (its "floating" times); the Dates it hands back carry that wall clock in their local fields.
 * The grid's own zone is the location's UTC offset, for "today" and the line at the current time: the
 * offset of the location's time zone at this moment, worked out again every minute, so both stay right
 * when the clocks change (daylight saving) within the week shown.
 * Moves go to the calendar_move endpoint (the same service as the move form) with the CSRF token that
 * base.html gives htmx; a refused move snaps back and the reason is read out in #cal-status.
 * No inline script or handler: the page's CSP allows neither.
 */
(function () {
  "use strict";

  const VIEWS = { day: "resourceTimeGridDay", week: "timeGridWeek", month: "dayGridMonth" };
  const NAMES = { resourceTimeGridDay: "day", timeGridWeek: "week", dayGridMonth: "month" };
  const SIGNED_OUT = "you are signed out: reload the page to sign in again.";

  function pad(number) {
    return String(number).padStart(2, "0");
  }

  // The wall clock a Date from the grid stands for: "2031-01-06T09:00".
  function wall(date) {
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }

  // ZONE's UTC offset at the moment AT ("-05:00"), or "" when the browser cannot tell.
  function zoneOffset(zone, at) {
    try {
      const name = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" })
        .formatToParts(at).find((part) => part.type === "timeZoneName");
      if (!name) return "";
      if (name.value === "GMT") return "+00:00";
      const match = /^GMT([+-]\d{2}):?(\d{2})?$/.exec(name.value);
      return match ? `${match[1]}:${match[2] || "00"}` : "";
    } catch (error) {
      return "";
    }
  }

  // Keep the grid's zone on the location's offset now: "today" and the current-time line move with the
  // clocks on the day they change. Checked each minute; the grid changes only when the offset does.
  function followOffset(calendar, zone) {
    if (!zone) return;
    const follow = () => {
      const offset = zoneOffset(zone, new Date());
      if (offset && offset !== calendar.getOption("timeZone")) calendar.setOption("timeZone", offset);
    };
    follow();
    window.setInterval(follow, 60 * 1000);
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function start(box) {
    const data = box.dataset;
    const status = document.getElementById("cal-status");
    const panel = document.getElementById("cal-details");
    const mayMove = data.mayMove === "1";
    const keep = {};
    document.querySelectorAll("[data-cal-keep]").forEach((input) => { keep[input.dataset.calKeep] = input; });

    function say(text, isError) {
      status.textContent = text;
      status.classList.toggle("error", Boolean(isError));
    }

    let calendar = null;
    // The visits and the columns of one range come from one request (events and resources both ask).
    let cached = { key: "", promise: null };
    function load(info) {
      const type = calendar ? calendar.getView().type : VIEWS[data.view];
      const view = NAMES[type] || "day";
      const params = new URLSearchParams({
        start: info.startStr.slice(0, 10),
        end: info.endStr.slice(0, 10),
        view: view,
        location: data.location || "",
        clinician: data.clinician || "",
      });
      if (data.cancelled === "1") params.set("cancelled", "on");
      const key = params.toString();
      if (cached.key !== key || !cached.promise) {
        cached = {
          key: key,
          promise: fetch(`${data.eventsUrl}?${key}`, { credentials: "same-origin", headers: { Accept: "application/json" } })
            .then((response) => response.json().catch(() => ({})).then((body) => {
              if (response.ok && Array.isArray(body.events)) return body;
              if (response.redirected) throw new Error(SIGNED_OUT);
              throw new Error(body.error || `Careline answered ${response.status}; try again in a moment.`);
            })),
        };
        cached.promise.catch((error) => {
          cached = { key: "", promise: null };
          say(`Calendar not loaded: ${error.message}`, true);
        });
      }
      return cached.promise;
    }

    function visitContent(event, view) {
      const props = event.extendedProps;
      const status = element("span", "cal-sr", `, ${props.statusLabel}`);
      if (view.type === VIEWS.month) {
        // One line a visit in the month's day cells: its start and the patient.
        return { domNodes: spaced([element("span", "cal-time", props.time.slice(0, 5)), element("span", "cal-patient", props.patient), status]) };
      }
      const nodes = [
        element("span", "cal-time", props.time),
        element("span", "cal-patient", props.patient),
        element("span", "cal-type", props.type),
        status,
      ];
      return { domNodes: spaced(nodes) };
    }

    // A space between the card's parts keeps "09:00 Pat Ortega" from being read as one word.
    function spaced(nodes) {
      const out = [];
      nodes.forEach((node, index) => {
        if (index) out.push(document.createTextNode(" "));
        out.push(node);
      });
      return out;
    }

    // --- details on hover, focus or click ----------------------------------------------------------
    let pinned = null;
    function showDetails(info, pin) {
      const props = info.event.extendedProps;
      if (!props.url) return;
      panel.querySelector(".cal-details-title").textContent = props.patient;
      const list = panel.querySelector(".cal-details-list");
      list.replaceChildren();
      const rows = [["When", `${props.date}, ${props.time}`], ["Type", props.type], ["Status", props.statusLabel]];
      if (props.clinician) rows.push(["Clinician", props.clinician]);
      if (props.location) rows.push(["Location", props.location]);
      rows.forEach(([term, value]) => {
        list.append(element("dt", "", term), element("dd", "", value));
      });
      panel.querySelector(".cal-details-link").href = props.url;
      const move = panel.querySelector(".cal-details-move");
      move.hidden = !props.moveFormUrl;
      move.href = props.moveFormUrl || "";
      panel.hidden = false;
      const rect = info.el.getBoundingClientRect();
      if (window.matchMedia("(min-width: 40rem)").matches) {
        const width = panel.offsetWidth;
        const left = rect.right + 8 + width < window.innerWidth ? rect.right + 8 : Math.max(8, rect.left - width - 8);
        panel.style.left = `${left}px`;
        panel.style.top = `${Math.max(8, Math.min(rect.top, window.innerHeight - panel.offsetHeight - 8))}px`;
      } else {
        panel.style.left = "";
        panel.style.top = "";
      }
      if (pin) {
        pinned = info.el;
        panel.querySelector(".cal-details-link").focus();
      }
    }
    function hideDetails() {
      panel.hidden = true;
      if (pinned && document.body.contains(pinned)) pinned.focus();
      pinned = null;
    }
    panel.querySelector(".cal-details-close").addEventListener("click", hideDetails);
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !panel.hidden) hideDetails();
    });
    document.addEventListener("click", (event) => {
      if (pinned && !panel.contains(event.target) && !pinned.contains(event.target)) hideDetails();
    });

    // --- moving and resizing ---------------------------------------------------------------------
    function save(info, body) {
      const url = info.event.extendedProps.moveUrl;
      if (!url) {
        info.revert();
        return;
      }
      hideDetails();
      say("Saving…");
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
        body: new URLSearchParams(body),
      })
        .then((response) => response.json().catch(() => ({})).then((answer) => ({ response, answer })))
        .then(({ response, answer }) => {
          if (!response.ok || !answer.id) {
            info.revert();
            let reason = answer.error || `the calendar could not save it (${response.status}).`;
            if (response.redirected) reason = SIGNED_OUT;
            else if (response.status === 403) reason = "you may not move this visit, or your session has ended (reload the page).";
            say(`Not moved: ${reason}`, true);
            return;
          }
          say(answer.message || "Saved.");
          cached = { key: "", promise: null };
          calendar.refetchEvents();
        })
        .catch(() => {
          info.revert();
          say("Not moved: the calendar could not reach Careline. Check the connection and try again.", true);
        });
    }

    function whereDropped(info) {
      const at = wall(info.event.start);
      const body = { date: at.slice(0, 10), time: at.slice(11, 16) };
      if (info.newResource) body.clinician = info.newResource.id;
      return body;
    }

    calendar = EventCalendar.create(box, {
      view: VIEWS[data.view] || VIEWS.day,
      date: data.date,
      timeZone: zoneOffset(data.timeZone, new Date()) || data.utcOffset || "local",
      firstDay: 1,
      headerToolbar: { start: "prev,next today", center: "title", end: "resourceTimeGridDay,timeGridWeek,dayGridMonth" },
      buttonText: (text) => ({ ...text, today: "Today", resourceTimeGridDay: "Day", timeGridWeek: "Week", dayGridMonth: "Month" }),
      allDaySlot: false,
      // A week of a whole location lists who is away each day in a row above the hours.
      views: { timeGridWeek: { allDaySlot: !data.clinician } },
      allDayContent: "Away",
      // Columns keep a readable width; on a phone the grid scrolls sideways inside its own box.
      columnWidth: "minmax(6.5rem, 1fr)",
      slotDuration: "00:15",
      slotLabelInterval: "01:00",
      slotLabelFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
      eventTimeFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
      slotMinTime: data.firstHour || "00:00",
      slotMaxTime: data.lastHour || "24:00",
      flexibleSlotTimeLimits: true,
      scrollTime: data.firstHour || "07:00",
      nowIndicator: true,
      dayMaxEvents: true,
      height: "auto",
      pointer: mayMove,
      editable: mayMove,
      eventStartEditable: mayMove,
      eventDurationEditable: mayMove,
      selectable: false,
      refetchResourcesOnNavigate: true,
      resources: (info) => load(info).then((body) => body.resources),
      eventSources: [{ events: (info) => load(info).then((body) => body.events) }],
      eventContent: (info) => {
        if ((info.event.classNames || []).includes("cal-away-note")) {
          return { domNodes: [element("span", "cal-away-label", info.event.title)] };
        }
        if (info.event.display === "background") {
          const away = (info.event.classNames || []).includes("cal-away");
          return away ? { domNodes: [element("span", "cal-away-label", "Away")] } : { domNodes: [] };
        }
        return visitContent(info.event, info.view);
      },
      eventDidMount: (info) => {
        const props = info.event.extendedProps;
        if (info.event.display === "background" || !props.url) return;
        info.el.dataset.appointment = info.event.id;
        // Named by exactly what it shows (time, patient, type, and the status screen readers are given).
        info.el.setAttribute("aria-label", info.el.textContent.replace(/\s+/g, " ").trim());
      },
      eventClick: (info) => {
        info.jsEvent.stopPropagation();
        showDetails(info, true);
      },
      eventMouseEnter: (info) => { if (!pinned) showDetails(info, false); },
      eventMouseLeave: () => { if (!pinned) panel.hidden = true; },
      eventDrop: (info) => save(info, whereDropped(info)),
      eventResize: (info) => {
        const body = whereDropped(info);
        body.duration_minutes = String(Math.round((info.event.end - info.event.start) / 60000));
        save(info, body);
      },
      dateClick: (info) => {
        const at = wall(info.date);
        if (calendar.getView().type === "dayGridMonth") {
          calendar.setOption("view", VIEWS.day);
          calendar.setOption("date", at.slice(0, 10));
          return;
        }
        if (!data.bookUrl) return;
        const params = new URLSearchParams({ date: at.slice(0, 10), time: at.slice(11, 16) });
        const clinician = info.resource ? info.resource.id : data.clinician;
        if (clinician) params.set("clinician", clinician);
        if (data.location) params.set("location", data.location);
        window.location.assign(`${data.bookUrl}?${params}`);
      },
      datesSet: (info) => {
        // The filter form and the address keep the view and day, so a reload or a new filter stays there.
        const view = NAMES[info.view.type] || "day";
        const day = wall(info.view.currentStart).slice(0, 10);
        if (keep.view) keep.view.value = view;
        if (keep.date) keep.date.value = day;
        const url = new URL(window.location.href);
        url.searchParams.set("view", view);
        url.searchParams.set("date", day);
        window.history.replaceState(null, "", url);
      },
    });
    box.calendar = calendar;
    followOffset(calendar, data.timeZone);
    plainRoles(box);
    new MutationObserver(() => plainRoles(box)).observe(box, {
      subtree: true, childList: true, attributes: true, attributeFilter: ["role"],
    });
  }

  // The component marks its grid up as a table, but puts its toolbar and the visit cards (buttons) straight
  // inside the table and its row group, which no screen reader can make sense of (axe-core's
  // aria-required-children). The grid is a picture of the day: its visits are buttons named by what they
  // show, its hours are text, and the Move form is the keyboard's way to move; so the table roles go.
  const TABLE_ROLES = new Set(["table", "rowgroup", "row", "columnheader", "rowheader", "cell", "gridcell"]);
  function plainRoles(box) {
    box.querySelectorAll("[role]").forEach((element) => {
      if (TABLE_ROLES.has(element.getAttribute("role"))) element.removeAttribute("role");
    });
    box.querySelectorAll("[aria-colindex], [aria-colspan]").forEach((element) => {
      element.removeAttribute("aria-colindex");
      element.removeAttribute("aria-colspan");
    });
  }

  function boot() {
    const box = document.getElementById("calendar");
    if (box && window.EventCalendar) start(box);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
