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

// <form data-omise-key="pkey_..."> (the card page, with Omise.js on it): the card goes from
// this browser to Omise, which answers a one-use token; only the token is posted here.
document.querySelectorAll("form[data-omise-key]").forEach(function (form) {
  const problem = document.querySelector("[data-card-problem]");
  const token = form.querySelector("input[name=card_token]");
  const button = form.querySelector("button[type=submit]");
  const field = function (name) {
    return form.querySelector("[data-omise=" + name + "]").value.trim();
  };
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (typeof window.Omise === "undefined") {
      problem.textContent = form.dataset.unreachable;
      return;
    }
    button.disabled = true;
    window.Omise.setPublicKey(form.dataset.omiseKey);
    window.Omise.createToken("card", {
      name: field("name"),
      number: field("number").replace(/[\s-]+/g, ""),
      expiration_month: field("expiration_month"),
      expiration_year: field("expiration_year"),
      security_code: field("security_code"),
    }, function (statusCode, response) {
      if (statusCode === 200 && response && response.id) {
        token.value = response.id;
        form.submit();
        return;
      }
      button.disabled = false;
      problem.textContent = (response && response.message) || form.dataset.refused;
    });
  });
});
