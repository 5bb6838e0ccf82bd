// lawline console — the little behaviour htmx does not cover. No inline scripts (CSP).
(function () {
  "use strict";

  // Live inbox: the console relays dispatch's offers as server-sent events of rendered HTML.
  function connectInbox() {
    var box = document.querySelector("[data-stream]");
    if (!box || !window.EventSource) return;
    var live = document.getElementById("live");
    var es = new EventSource(box.getAttribute("data-stream"));
    es.addEventListener("inbox", function (ev) {
      box.innerHTML = ev.data;
      if (window.htmx) window.htmx.process(box);
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
      // The previous caller's lookup and suggestion belong to that call.
      ["lookup", "suggest"].forEach(function (id) {
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

  // Remember each panel's first content, to put back for the next call.
  ["lookup", "suggest"].forEach(function (id) {
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
