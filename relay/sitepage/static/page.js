// Keeps deadline countdowns current while the page stays open; the server
// renders the same words, so the page reads right without scripts.
(function () {
  function words(lang, ms) {
    var late = ms < 0, d = Math.abs(ms), h = Math.floor(d / 3600000), m = Math.floor(d / 60000) % 60, span;
    if (lang === 'en') {
      span = h >= 48 ? Math.floor(h / 24) + ' d ' + (h % 24) + ' h' : h > 0 ? h + ' h ' + m + ' min' : m + ' min';
      return late ? 'overdue by ' + span : span + ' left';
    }
    span = h >= 48 ? Math.floor(h / 24) + ' 天 ' + (h % 24) + ' 小时' : h > 0 ? h + ' 小时 ' + m + ' 分' : m + ' 分钟';
    return late ? '已逾期 ' + span : '剩余 ' + span;
  }
  function tick() {
    var els = document.querySelectorAll('.countdown[data-deadline]');
    for (var i = 0; i < els.length; i++) {
      var el = els[i], ms = Date.parse(el.getAttribute('data-deadline')) - Date.now();
      el.textContent = words(el.getAttribute('data-lang'), ms);
    }
  }
  setInterval(tick, 30000);
  // Says at once when a photo is too big or there are too many, rather
  // than after a long upload on a phone's line; the server checks again.
  var input = document.querySelector('input[type=file][data-max-bytes]');
  if (input) {
    input.addEventListener('change', function () {
      var max = +input.getAttribute('data-max-bytes'), msg = '';
      if (input.files.length > +input.getAttribute('data-max-files')) msg = input.getAttribute('data-too-many');
      for (var i = 0; i < input.files.length; i++) {
        if (input.files[i].size > max) msg = input.getAttribute('data-too-large');
      }
      input.setCustomValidity(msg);
      if (msg) input.reportValidity();
    });
  }
})();
