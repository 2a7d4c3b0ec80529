// A <select data-autosubmit> sends its form as soon as it changes (no inline handlers: CSP).
document.addEventListener("change", function (event) {
  var field = event.target;
  if (field.matches && field.matches("select[data-autosubmit]") && field.form) {
    field.form.submit();
  }
});
