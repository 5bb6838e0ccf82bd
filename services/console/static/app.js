// lawline console — the little behaviour htmx does not cover. No inline scripts (CSP).
(function () {
  "use strict";

  // Live inbox: the console relays dispatch's offers as server-sent events of rendered HTML.
  function connectInbox() {
    var box = document.querySelector("[data-stream]");
    if (!box || !window.EventSource) return;
    var live = document.getElementById("live");
    var es = new EventSource(box.getAttribute("data-stream"));
    var known = null;  // the offers already on screen: anything else that arrives is new
    // Every renewal (a reconnect) and every change re-renders the whole list: an offer stays
    // marked new across those renders until the officer has looked (seen() empties this).
    es.addEventListener("inbox", function (ev) {
      box.innerHTML = ev.data;
      if (window.htmx) window.htmx.process(box);
      var now = {};
      box.querySelectorAll("[data-testid=offer].offered").forEach(function (li) { now[li.dataset.order] = li; });
      if (known !== null) {
        var fresh = Object.keys(now).filter(function (id) { return !known[id]; });
        fresh.forEach(function (id) { unseen[id] = true; });
        if (fresh.length) announce(fresh.length);
      }
      Object.keys(now).forEach(function (id) { if (unseen[id]) now[id].classList.add("new"); });
      // The point's queue below lists this officer's offers too: refresh it when they change
      // (not on every renewal's re-render of the same list).
      if (known !== null && Object.keys(now).sort().join() !== Object.keys(known).sort().join()) {
        document.body.dispatchEvent(new CustomEvent("inbox-changed"));
      }
      known = now;
      tickCountdowns();
    });
    es.addEventListener("login", function (ev) { es.close(); window.location.assign(ev.data); });
    // The server ends the stream when the session's token is due for refresh; EventSource
    // reconnects at once and that request refreshes it. Not an outage: keep showing "online".
    var renewing = false;
    es.addEventListener("renew", function () { renewing = true; });
    es.onopen = function () {
      renewing = false;
      if (live) { live.textContent = live.dataset.online; live.classList.remove("off"); }
    };
    es.onerror = function () {
      if (live && !renewing) { live.textContent = live.dataset.offline; live.classList.add("off"); }
    };
  }

  // A new offer is seen and heard: a badge and the tab's title until the officer looks, and a
  // short tone (browsers allow sound only after the page was clicked once — the sign-in does).
  var baseTitle = document.title;
  var unseen = {};  // order ids announced and not yet looked at
  function announce(n) {
    var badge = document.getElementById("new-offers");
    if (badge) {
      var total = (parseInt(badge.dataset.count || "0", 10) || 0) + n;
      badge.dataset.count = String(total);
      badge.textContent = (badge.dataset.text || "{n}").replace("{n}", String(total));
      badge.hidden = false;
      document.title = "(" + total + ") " + baseTitle;
    }
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      var ctx = announce.ctx || (announce.ctx = new Ctx());
      var osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.08;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(); osc.stop(ctx.currentTime + 0.25);
    } catch (e) { /* no sound: the badge still shows */ }
  }
  function seen() {
    var badge = document.getElementById("new-offers");
    if (!badge || badge.hidden) return;
    unseen = {};
    document.querySelectorAll("[data-testid=offer].new").forEach(function (li) { li.classList.remove("new"); });
    badge.hidden = true; badge.dataset.count = "0"; document.title = baseTitle;
  }
  document.addEventListener("visibilitychange", function () { if (!document.hidden) setTimeout(seen, 4000); });
  document.addEventListener("click", seen);

  // Offer countdown: how long is left to answer before dispatch offers it to the next person.
  function tickCountdowns() {
    document.querySelectorAll(".countdown[data-expires]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.dataset.expires) - Date.now()) / 1000);
      if (isNaN(left)) return;
      if (left <= 0) { el.textContent = el.dataset.gone; el.classList.add("gone"); return; }
      var m = Math.floor(left / 60), sec = left % 60;
      el.textContent = el.dataset.left.replace("{t}", m + ":" + (sec < 10 ? "0" : "") + sec);
      el.classList.toggle("soon", left < 120);
    });
  }
  setInterval(tickCountdowns, 1000);
  tickCountdowns();

  // Operator: "use suggestion" fills the type/domain/urgency/group fields from the classifier.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-apply]");
    if (!btn) return;
    var set = function (id, v) {
      var el = document.getElementById(id);
      if (el && v) { el.value = v; el.dispatchEvent(new Event("change", { bubbles: true })); }
    };
    set("service_type", btn.dataset.serviceType);
    set("domain", btn.dataset.domain);
    if (btn.dataset.urgency) {
      var r = document.querySelector('input[name=urgency][value="' + btn.dataset.urgency + '"]');
      if (r) r.checked = true;
    }
    (btn.dataset.groups || "").split(",").forEach(function (g) {
      var c = g && document.querySelector('input[name=special_groups][value="' + g + '"]');
      if (c) c.checked = true;
    });
  });

  // Account form: picking a staff member fills the username (their staff code) and the name,
  // unless the admin typed something else; a plain form asks before it submits (data-confirm).
  document.addEventListener("change", function (ev) {
    var pick = ev.target;
    if (!pick.matches || !pick.matches("input[name=staff_id][data-code]")) return;
    var form = pick.form;
    var user = form && form.querySelector("input[name=username]");
    var name = form && form.querySelector("input[name=name]");
    if (user && (!user.value || user.dataset.filled === user.value)) {
      user.value = pick.dataset.code; user.dataset.filled = pick.dataset.code;
    }
    if (name && (!name.value || name.dataset.filled === name.value)) {
      name.value = pick.dataset.name; name.dataset.filled = pick.dataset.name;
    }
  });
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.dataset && ev.target.dataset.confirm;
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });

  // A checkbox with data-reveal shows the block it names (answered on the call → summary).
  document.addEventListener("change", function (ev) {
    var id = ev.target.dataset && ev.target.dataset.reveal;
    if (!id) return;
    var el = document.getElementById(id);
    if (el) {
      el.hidden = !ev.target.checked;
      var area = el.querySelector("textarea");
      if (area) area.required = ev.target.checked;
    }
  });

  // 法律知识库: "用此条当场解答" marks the call answered with that article — its id goes with the
  // order (intake records which article answered), its standard answer fills the summary, which the
  // operator may still shorten or adapt. "不用此条" forgets the article, not what was typed.
  function kbChoose(btn) {
    var id = document.getElementById("knowledge_article_id");
    var note = document.getElementById("kb-chosen");
    if (!id || !note) return;
    id.value = btn ? btn.dataset.id : "";
    id.defaultValue = id.value;  // a hidden field's reset() keeps its value: say what it is now
    note.hidden = !btn;
    if (!btn) return;
    note.querySelector("span").textContent = note.dataset.text.replace("{q}", btn.dataset.question);
    var answered = document.getElementById("answered");
    if (answered && !answered.checked) {
      answered.checked = true;
      answered.dispatchEvent(new Event("change", { bubbles: true }));
    }
    var summary = document.getElementById("answer_summary");
    if (summary) {
      summary.value = (btn.dataset.answer || "").slice(0, 2000);
      summary.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }
  document.addEventListener("click", function (ev) {
    var use = ev.target.closest && ev.target.closest("[data-kb-use]");
    if (use) kbChoose(use);
    if (ev.target.closest && ev.target.closest("[data-kb-unchoose]")) kbChoose(null);
  });

  // A new order resets the call: clear the form so the next caller starts clean (the result stays).
  document.addEventListener("htmx:afterSwap", function (ev) {
    var form = document.getElementById("order-form");
    var created = document.querySelector("#created [data-new-call]");
    if (form && ev.detail.target && ev.detail.target.id === "created" && created) {
      form.reset();
      // A new call gets a new idempotency key; a double click on the same call still files one order.
      form.querySelector("[name=call_id]").value = created.dataset.newCall;
      // reset() puts hidden fields back to the page's load time: the next call would be timed
      // from then (seen: 9 minutes wrong). It starts when its number is typed (below).
      form.querySelector("[name=call_started_at]").value = "";
      var box = document.getElementById("answer-box");
      if (box) box.hidden = true;  // none at the counter
      kbChoose(null);  // the knowledge-base article belonged to that call too
      // The previous caller's lookup and suggestion belong to that call.
      ["lookup", "suggest", "kb"].forEach(function (id) {
        var panel = document.getElementById(id);
        if (panel && panel.dataset.initial !== undefined) panel.innerHTML = panel.dataset.initial;
      });
    }
  });

  // The call's start: the first key of its phone number after a reset.
  document.addEventListener("input", function (ev) {
    if (!ev.target || ev.target.id !== "phone") return;
    var started = document.querySelector("#order-form [name=call_started_at]");
    if (started && !started.value) started.value = new Date().toISOString();
  });

  // ID number (GB 11643): the check digit is computed as the operator types, so a misheard digit
  // is caught on the call, not days later by the aid officer.
  var ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  function idCheckDigit(first17) {
    var sum = 0;
    for (var i = 0; i < 17; i++) sum += parseInt(first17.charAt(i), 10) * ID_WEIGHTS[i];
    return "10X98765432".charAt(sum % 11);
  }
  function idFeedback(input) {
    var out = document.getElementById("id-feedback");
    if (!out) return;
    var v = input.value.trim().toUpperCase();
    out.className = "id-feedback";
    if (!v) { out.textContent = ""; return; }
    if (!/^\d{0,17}[\dX]?$/.test(v) || v.length < 18) {
      out.textContent = input.dataset.badLength.replace("{n}", String(Math.max(0, 18 - v.length)));
      if (!/^\d*X?$/.test(v)) out.className = "id-feedback bad";
      return;
    }
    var d = idCheckDigit(v.slice(0, 17));
    if (v.charAt(17) === d) { out.textContent = input.dataset.ok; out.className = "id-feedback ok"; }
    else { out.textContent = input.dataset.badDigit.replace("{d}", d); out.className = "id-feedback bad"; }
  }
  document.addEventListener("input", function (ev) {
    if (ev.target && ev.target.matches && ev.target.matches("[data-id-check]")) idFeedback(ev.target);
  });

  // Length counters beside fields with a limit (data-counter): "123 / 2000", red near the end.
  function counter(field) {
    var c = field.nextElementSibling && field.nextElementSibling.classList.contains("counter")
      ? field.nextElementSibling : null;
    if (!c) {
      c = document.createElement("small");
      c.className = "counter";
      field.insertAdjacentElement("afterend", c);
    }
    var max = parseInt(field.getAttribute("maxlength"), 10);
    c.textContent = field.value.length + " / " + max;
    c.classList.toggle("near", field.value.length > max * 0.9);
  }
  document.querySelectorAll("[data-counter][maxlength]").forEach(counter);
  document.addEventListener("input", function (ev) {
    if (ev.target && ev.target.matches && ev.target.matches("[data-counter][maxlength]")) counter(ev.target);
  });

  // 并入此单: the button in the caller's history marks this call as an urge on that order.
  function setMerge(id, number) {
    var into = document.getElementById("merge_into");
    var note = document.getElementById("merge-choice");
    if (!into) return;
    into.value = id || "";
    if (note) {
      note.hidden = !id;
      note.textContent = id ? note.dataset.text.replace("{n}", number) : "";
    }
    var cancel = document.getElementById("merge-cancel-row");
    if (cancel) cancel.hidden = !id;
  }
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-merge-into]");
    if (btn) setMerge(btn.dataset.mergeInto, btn.dataset.number);
    if (ev.target.closest && ev.target.closest("[data-merge-cancel]")) setMerge("", "");
  });

  // A known caller: name and place from their latest order, for the operator to confirm aloud.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-prefill]");
    if (!btn || !draftForm) return;
    var name = document.getElementById("name");
    if (name && !name.value) name.value = btn.dataset.name;
    var code = btn.dataset.region || "";
    var county = document.getElementById("county");
    if (county && code.length >= 6) {
      if (code.length >= 9) pendingPlace.township = code.slice(0, 9);
      if (code.length >= 12) pendingPlace.village = code.slice(0, 12);
      county.value = code.slice(0, 6);
      county.dispatchEvent(new Event("change", { bubbles: true }));
    }
    saveDraft();
  });

  // Draft: what the operator typed survives a refresh or a new login in this tab (sessionStorage:
  // it is gone when the tab closes — a shared desk PC keeps no caller's data).
  var DRAFT_KEY = "lawline-draft:" + window.location.pathname;
  var SKIP = { csrf_token: 1, call_id: 1, call_started_at: 1, merge_into: 1 };
  var draftForm = document.getElementById("order-form");
  function saveDraft() {
    if (!draftForm || !window.sessionStorage) return;
    var data = {};
    Array.prototype.forEach.call(draftForm.elements, function (el) {
      if (!el.name || SKIP[el.name]) return;
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) (data[el.name] = data[el.name] || []).push(el.value);
      } else if (el.value) data[el.name] = el.value;
    });
    var filled = ["phone", "name", "description", "id_number"].some(function (k) { return data[k]; });
    if (filled) sessionStorage.setItem(DRAFT_KEY, JSON.stringify(data));
    else sessionStorage.removeItem(DRAFT_KEY);
  }
  function setField(name, value) {
    var els = draftForm.querySelectorAll('[name="' + name + '"]');
    Array.prototype.forEach.call(els, function (el) {
      if (el.type === "checkbox" || el.type === "radio") el.checked = (value || []).indexOf(el.value) >= 0;
      else el.value = value;
    });
  }
  // The place is three dependent pickers: each level is set once its options have arrived.
  var pendingPlace = {};
  function restoreDraft() {
    if (!draftForm || !window.sessionStorage) return;
    var raw = sessionStorage.getItem(DRAFT_KEY);
    if (!raw) return;
    var data;
    try { data = JSON.parse(raw); } catch (e) { return; }
    Object.keys(data).forEach(function (k) {
      if (k === "township" || k === "village") pendingPlace[k] = data[k];
      else setField(k, data[k]);
    });
    var county = document.getElementById("county");
    if (county && data.county) county.dispatchEvent(new Event("change", { bubbles: true }));
    var answered = document.getElementById("answered");
    if (answered && answered.checked) answered.dispatchEvent(new Event("change", { bubbles: true }));
    draftForm.querySelectorAll("[data-counter][maxlength]").forEach(counter);
    var idn = document.getElementById("id_number");
    if (idn && idn.value) idFeedback(idn);
    var note = document.getElementById("draft-note");
    if (note) note.hidden = false;
  }
  document.addEventListener("htmx:afterSwap", function (ev) {
    var id = ev.detail.target && ev.detail.target.id;
    if ((id === "township" || id === "village") && pendingPlace[id]) {
      var sel = document.getElementById(id);
      sel.value = pendingPlace[id];
      delete pendingPlace[id];
      if (id === "township") sel.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });
  if (draftForm) {
    draftForm.addEventListener("input", saveDraft);
    draftForm.addEventListener("change", saveDraft);
    // After htmx has wired the pickers (it does so on DOMContentLoaded), or the county's change
    // would load no townships.
    document.addEventListener("DOMContentLoaded", function () { setTimeout(restoreDraft, 0); });
  }
  document.addEventListener("click", function (ev) {
    if (!ev.target.closest || !ev.target.closest("[data-draft-discard]")) return;
    sessionStorage.removeItem(DRAFT_KEY);
    window.location.reload();
  });
  function clearDraft() {
    if (window.sessionStorage) sessionStorage.removeItem(DRAFT_KEY);
    var note = document.getElementById("draft-note");
    if (note) note.hidden = true;
    setMerge("", "");
    var fb = document.getElementById("id-feedback");
    if (fb) { fb.textContent = ""; fb.className = "id-feedback"; }
    if (draftForm) draftForm.querySelectorAll("[data-counter][maxlength]").forEach(counter);
  }
  document.addEventListener("htmx:afterSwap", function (ev) {
    if (ev.detail.target && ev.detail.target.id === "created" && document.querySelector("#created [data-new-call]")) {
      clearDraft();
    }
    // A field with a message beside it is marked invalid (screen readers say so), and the first gets focus.
    var first = null;
    document.querySelectorAll("#order-form .field-error").forEach(function (span) {
      var name = span.id.replace(/^fe-/, "");
      var field = draftForm && draftForm.querySelector('[name="' + name + '"]');
      if (!field) return;
      if (span.textContent.trim()) { field.setAttribute("aria-invalid", "true"); first = first || field; }
      else field.removeAttribute("aria-invalid");
    });
    if (first && ev.detail.target && ev.detail.target.id === "created") first.focus();
  });

  // A printable document's button (no inline script: CSP).
  document.addEventListener("click", function (ev) {
    if (ev.target.closest && ev.target.closest("[data-print]")) window.print();
  });

  // Remember each panel's first content, to put back for the next call.
  ["lookup", "suggest", "kb"].forEach(function (id) {
    var panel = document.getElementById(id);
    if (panel) panel.dataset.initial = panel.innerHTML;
  });

  // Alt+<accesskey> the same in every browser (Firefox wants Alt+Shift, some builds ignore accesskey):
  // fields get focus, buttons and links are activated.
  document.addEventListener("keydown", function (ev) {
    if (!ev.altKey || ev.ctrlKey || ev.metaKey || !/^[a-z0-9]$/i.test(ev.key || "")) return;
    var el = document.querySelector('[accesskey="' + ev.key.toLowerCase() + '"]');
    if (!el) return;
    ev.preventDefault();
    if (el.tagName === "BUTTON" || el.tagName === "A") el.click(); else el.focus();
  });

  function charts() {
    var data = document.getElementById("charts-data");
    if (!data || !window.echarts) return;
    var c = JSON.parse(data.textContent || "{}");
    var mk = function (id, option) {
      var el = document.getElementById(id);
      if (!el) return;
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(Object.assign({ animation: false, tooltip: {} }, option));
      window.addEventListener("resize", function () { chart.resize(); });
    };
    if (c.channel) mk("chart-channel", {
      xAxis: { type: "category", data: c.channel.map(function (r) { return r[0]; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: c.channel.map(function (r) { return r[1]; }), label: { show: true, position: "top" } }]
    });
    if (c.type) mk("chart-type", {
      series: [{ type: "pie", radius: ["35%", "65%"], data: c.type.map(function (r) { return { name: r[0], value: r[1] }; }) }]
    });
    if (c.ranking) mk("chart-ranking", {
      // The legend on top, the rotated county names below: they used to overlap.
      legend: { data: c.labels, top: 0 },
      grid: { left: 40, right: 10, top: 32, bottom: 60, containLabel: true },
      xAxis: { type: "category", data: c.ranking.map(function (r) { return r[0]; }), axisLabel: { interval: 0, rotate: 30 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: c.labels[0], type: "bar", data: c.ranking.map(function (r) { return r[1]; }) },
        { name: c.labels[1], type: "bar", data: c.ranking.map(function (r) { return r[2]; }) }
      ]
    });
    if (c.days) mk("chart-days", {
      grid: { left: 40, right: 10, top: 20, bottom: 30, containLabel: true },
      xAxis: { type: "category", data: c.days.map(function (r) { return r[0]; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "line", areaStyle: {}, data: c.days.map(function (r) { return r[1]; }) }]
    });
  }

  document.addEventListener("DOMContentLoaded", function () { connectInbox(); charts(); });
})();
