// The PCC console's live list: alert changes arrive over Server-Sent Events and update the
// table, the filters' view and the section panel in place. EventSource reconnects by itself
// and sends Last-Event-ID, so nothing is missed while the connection is down; the status
// line says when it is. Acknowledging is optimistic: the row says so at once, and the
// server's answer (or the stream) confirms it or puts it back with the reason.
"use strict";

(function () {
  const table = document.getElementById("alerts");
  const body = table.querySelector("tbody");
  const live = document.getElementById("live");
  const empty = document.getElementById("empty");
  const filters = document.getElementById("filters");
  const sound = document.getElementById("sound");
  const words = JSON.parse(document.getElementById("words").textContent);
  const lang = table.dataset.lang;
  const when = new Intl.DateTimeFormat(lang, {
    dateStyle: "short", timeStyle: "short", timeZone: table.dataset.zone,
  });
  const utc = (iso) => new Date(iso).toISOString().slice(0, 19).replace("T", " ") + " UTC";
  const say = (word, values) => {
    let text = words[word] || word;
    for (const [name, value] of Object.entries(values || {})) {
      text = text.replace("{" + name + "}", value);
    }
    return text;
  };
  const OPEN = new Set(["open", "escalated"]);

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function ackForm(alert) {
    const form = document.createElement("form");
    form.method = "post";
    form.action = "/console/alerts/" + encodeURIComponent(alert.id) + "/ack";
    form.className = "ack";
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
    return form;
  }

  function actionCell(alert) {
    const td = document.createElement("td");
    if (alert.acknowledged_at) {
      td.textContent = say("Acknowledged by {who}", { who: alert.acknowledged_by });
    } else {
      td.append(ackForm(alert));
    }
    return td;
  }

  function row(alert) {
    const shown = alert.display;
    const tr = document.createElement("tr");
    tr.id = "alert-" + alert.id;
    tr.className = "sev-" + alert.severity + " status-" + alert.status;
    tr.dataset.severity = alert.severity;
    tr.dataset.status = alert.status;
    tr.dataset.section = shown.parent;
    const severity = document.createElement("td");
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = say(alert.severity);
    severity.append(badge);
    const titleCell = document.createElement("td");
    const link = document.createElement("a");
    link.href = "/console/alerts/" + encodeURIComponent(alert.id);
    link.textContent = shown.title;
    titleCell.append(link);
    const time = document.createElement("time");
    time.dateTime = alert.time;
    time.title = utc(alert.time);
    time.textContent = when.format(new Date(alert.time));
    const age = document.createElement("span");
    age.className = "age";
    age.dataset.since = alert.time;
    const timeCell = document.createElement("td");
    timeCell.append(time, " ", age);
    const statusCell = document.createElement("td");
    const status = document.createElement("span");
    status.className = "status";
    status.textContent = say(alert.status);
    statusCell.append(status);
    tr.append(
      severity, titleCell, cell(shown.section), timeCell,
      cell(alert.event_count.toLocaleString(lang), "num"), statusCell, actionCell(alert),
    );
    showAge(age);
    return tr;
  }

  // Coarse on purpose (the exact time is next to it); words as age_text() in i18n.py.
  function showAge(element) {
    const minutes = Math.floor(Math.max(0, Date.now() - new Date(element.dataset.since)) / 60000);
    if (minutes < 1) element.textContent = say("just now");
    else if (minutes < 60) element.textContent = say("{n} min ago", { n: minutes });
    else if (minutes < 1440) element.textContent = say("{n} h ago", { n: Math.floor(minutes / 60) });
    else element.textContent = say("{n} d ago", { n: Math.floor(minutes / 1440) });
  }

  function wanted(tr) {
    const chosen = new FormData(filters);
    return ["status", "severity", "section"].every(
      (name) => !chosen.get(name) || tr.dataset[name] === chosen.get(name),
    );
  }

  function refresh() {
    const rows = Array.from(body.rows);
    for (const tr of rows) tr.hidden = !wanted(tr);
    const visible = rows.some((tr) => !tr.hidden);
    table.hidden = !visible;
    empty.hidden = visible;
    const counts = {};
    for (const tr of rows) {
      if (OPEN.has(tr.dataset.status)) {
        counts[tr.dataset.section] = (counts[tr.dataset.section] || 0) + 1;
      }
    }
    for (const item of document.querySelectorAll("#sections li[data-section]")) {
      item.querySelector(".count").textContent = (counts[item.dataset.section] || 0).toLocaleString(lang);
    }
    for (const marker of document.querySelectorAll("svg .marker[data-section]")) {
      const n = counts[marker.dataset.section] || 0;
      marker.querySelector("text").textContent = n;
      marker.classList.toggle("busy", n > 0);
    }
  }

  function beep() {
    const AudioContext = window.AudioContext || window.webkitAudioContext;
    if (!AudioContext) return;
    const context = new AudioContext();
    const tone = context.createOscillator();
    const gain = context.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, context.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, context.currentTime + 0.4);
    tone.connect(gain).connect(context.destination);
    tone.start();
    tone.stop(context.currentTime + 0.4);
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
        if (sound.checked) beep();
      }
    }
    refresh();
  }

  async function acknowledge(form) {
    const tr = form.closest("tr");
    const button = form.querySelector("button");
    const status = tr.querySelector(".status");
    const before = status.textContent;
    button.disabled = true;
    status.textContent = say("Acknowledging…");
    try {
      const response = await fetch(form.action, {
        method: "POST",
        headers: { Accept: "application/json" },
        body: new URLSearchParams(new FormData(form)),
        credentials: "same-origin",
      });
      const answer = await response.json();
      if (!response.ok) throw new Error(answer.detail || response.status);
      show(answer);
    } catch (error) {
      status.textContent = before;
      button.disabled = false;
      const problem = document.createElement("p");
      problem.className = "error";
      problem.setAttribute("role", "alert");
      problem.textContent = say("The acknowledgement failed: {reason}", { reason: error.message });
      form.append(problem);
    }
  }

  body.addEventListener("submit", (event) => {
    if (event.target.matches("form.ack")) {
      event.preventDefault();
      acknowledge(event.target);
    }
  });
  filters.addEventListener("change", () => {
    const query = new URLSearchParams(new FormData(filters));
    for (const [name, value] of Array.from(query.entries())) if (!value) query.delete(name);
    history.replaceState(null, "", query.toString() ? "?" + query : location.pathname);
    refresh();
  });
  sound.checked = localStorage.getItem("wbx.sound") === "on";
  sound.addEventListener("change", () => {
    localStorage.setItem("wbx.sound", sound.checked ? "on" : "off");
  });
  const ages = () => document.querySelectorAll(".age[data-since]").forEach(showAge);
  ages();
  setInterval(ages, 30000);

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
  // The sender's deadline passed: the alert may no longer be shown anywhere.
  stream.addEventListener("removed", (message) => {
    const gone = document.getElementById("alert-" + JSON.parse(message.data).id);
    if (gone) gone.remove();
    refresh();
  });
})();
