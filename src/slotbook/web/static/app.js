// slotbook's little bit of JavaScript: the hold's countdown and the wait for a payment.
"use strict";

function mmss(seconds) {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
}

// <span data-countdown="600">: counts down to 00:00, then reloads (the hold ran out).
document.querySelectorAll("[data-countdown]").forEach(function (el) {
  const total = Number(el.dataset.countdown);
  const started = Date.now();
  function tick() {
    const left = Math.max(0, total - Math.floor((Date.now() - started) / 1000));
    el.textContent = mmss(left);
    if (left <= 0) {
      window.location.reload();
      return;
    }
    window.setTimeout(tick, 250);
  }
  tick();
});

// <div data-wait-status="/payments/ID/status" data-result="..." data-deadline="5">:
// asks until the payment is settled or the deadline passed, then shows the outcome.
document.querySelectorAll("[data-wait-status]").forEach(function (el) {
  const deadline = Date.now() + Number(el.dataset.deadline) * 1000;
  const done = function () { window.location.assign(el.dataset.result); };
  function ask() {
    fetch(el.dataset.waitStatus, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (body.final || Date.now() >= deadline) { done(); } else { window.setTimeout(ask, 300); }
      })
      .catch(function () {
        if (Date.now() >= deadline) { done(); } else { window.setTimeout(ask, 500); }
      });
  }
  ask();
});
