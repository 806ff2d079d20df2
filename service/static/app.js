// Behaviour that pages once wrote in on…="" attributes, which the Content-Security-Policy blocks.
// <form data-disable-on-submit>: its buttons are disabled once it is sent, so it is sent once.
document.querySelectorAll("form[data-disable-on-submit]").forEach(function (form) {
  form.addEventListener("submit", function () {
    form.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
  });
});
