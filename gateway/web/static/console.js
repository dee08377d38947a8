// The PCC console's live list: alert changes arrive over Server-Sent Events and update the
// table in place. EventSource reconnects by itself and sends Last-Event-ID, so nothing is
// missed while the connection is down; the status line says when it is.
"use strict";

(function () {
  const table = document.getElementById("alerts");
  const body = table.querySelector("tbody") || table.appendChild(document.createElement("tbody"));
  const live = document.getElementById("live");
  const empty = document.getElementById("empty");
  const words = JSON.parse(document.getElementById("words").textContent);
  const when = new Intl.DateTimeFormat(table.dataset.lang, {
    dateStyle: "short", timeStyle: "short", timeZone: table.dataset.zone,
  });
  const say = (word) => words[word] || word;

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function actionCell(alert) {
    const td = document.createElement("td");
    if (alert.acknowledged_at) {
      td.textContent = say("Acknowledged by") + " " + alert.acknowledged_by;
      return td;
    }
    const form = document.createElement("form");
    form.method = "post";
    form.action = "/console/alerts/" + encodeURIComponent(alert.id) + "/ack";
    const csrf = document.createElement("input");
    csrf.type = "hidden";
    csrf.name = "csrf";
    csrf.value = table.dataset.csrf;
    const label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = "note-" + alert.id;
    label.textContent = say("Note");
    const note = document.createElement("input");
    note.id = "note-" + alert.id;
    note.name = "note";
    note.maxLength = 500;
    note.placeholder = say("Note (optional)");
    const button = document.createElement("button");
    button.type = "submit";
    button.textContent = say("Acknowledge");
    form.append(csrf, label, note, button);
    td.append(form);
    return td;
  }

  function row(alert) {
    const tr = document.createElement("tr");
    tr.id = "alert-" + alert.id;
    tr.className = "sev-" + alert.severity + " status-" + alert.status;
    const severity = document.createElement("td");
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = say(alert.severity);
    severity.append(badge);
    const time = document.createElement("time");
    time.dateTime = alert.time;
    time.title = alert.time;
    time.textContent = when.format(new Date(alert.time));
    const timeCell = document.createElement("td");
    timeCell.append(time);
    tr.append(
      severity, cell(alert.title), cell(alert.border_section), timeCell,
      cell(alert.event_count.toLocaleString(table.dataset.lang)), cell(say(alert.status)),
      actionCell(alert),
    );
    return tr;
  }

  function show(alert) {
    const fresh = row(alert);
    const old = document.getElementById(fresh.id);
    if (old) {
      old.replaceWith(fresh);
    } else {
      body.prepend(fresh);
      if (alert.severity === "high" || alert.severity === "critical") {
        fresh.classList.add("new");
      }
    }
    table.hidden = false;
    empty.hidden = true;
  }

  // Resume after the change this page was rendered at: nothing in between is lost, and a
  // reconnect before the first event still catches up (later ones send Last-Event-ID).
  const stream = new EventSource("/console/stream?after=" + encodeURIComponent(table.dataset.seq));
  stream.addEventListener("open", () => {
    live.textContent = say("Live");
    live.className = "live ok";
  });
  stream.addEventListener("error", () => {
    live.textContent = say("Connection lost, reconnecting…");
    live.className = "live lost";
  });
  stream.addEventListener("alert", (message) => show(JSON.parse(message.data)));
})();
