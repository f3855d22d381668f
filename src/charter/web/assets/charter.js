// The pages' only script, loaded from /assets (the Content Security Policy allows no inline script).
// Everything works without it; it only asks before a destructive form is sent.
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form instanceof HTMLFormElement ? form.getAttribute("data-confirm") : null;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
