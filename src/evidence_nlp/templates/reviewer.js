(function () {
  var buttons = document.querySelectorAll("button[data-filter]");
  function setFilter(value) {
    document.body.setAttribute("data-filter", value);
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].setAttribute("aria-pressed", buttons[i].getAttribute("data-filter") === value ? "true" : "false");
    }
  }
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].addEventListener("click", function (event) {
      setFilter(event.currentTarget.getAttribute("data-filter"));
    });
  }
  function reveal() {
    var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.offsetParent === null) {
      setFilter("all");
      target.scrollIntoView();
    }
  }
  window.addEventListener("hashchange", reveal);
  setFilter("all");
})();
