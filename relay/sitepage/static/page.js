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
  // Listened for on the document: a refreshed page brings a new input.
  document.addEventListener('change', function (e) {
    var input = e.target;
    if (!input.matches || !input.matches('input[type=file][data-max-bytes]')) return;
    var max = +input.getAttribute('data-max-bytes'), msg = '';
    if (input.files.length > +input.getAttribute('data-max-files')) msg = input.getAttribute('data-too-many');
    for (var i = 0; i < input.files.length; i++) {
      if (input.files[i].size > max) msg = input.getAttribute('data-too-large');
    }
    input.setCustomValidity(msg);
    if (msg) input.reportValidity();
  });

  // A page left open follows its findings: it asks the relay what changed
  // after the cursor it was rendered at (a long poll) and, when one of its
  // findings did, reads itself again and puts the new content in place.
  // Without scripts the page is the same, read at each visit.
  var main = document.querySelector('main[data-cursor]');
  if (!main || !window.fetch || !window.DOMParser) return;
  var detail = main.querySelector('article[data-id]');
  var shown = detail ? detail.getAttribute('data-id') : '';
  // The page's own address: a form answered with an error is shown at the
  // form's (POST) address, which a GET does not serve.
  var own = shown ? '/site/findings/' + encodeURIComponent(shown) : '/site/';
  // What the list showed when opened: the rest arrived while it was open.
  var known = {}, first = main.querySelectorAll('li.finding[data-id]');
  for (var i = 0; i < first.length; i++) known[first[i].getAttribute('data-id')] = true;

  // The list shows no evidence, so a file arriving changes nothing on it;
  // the open finding shows its snapshot and clip as they come.
  function concerns(changes) {
    for (var i = 0; i < changes.length; i++) {
      if (shown ? changes[i].finding === shown : changes[i].action !== 'evidence') return true;
    }
    return false;
  }

  // busy: the manager is writing, choosing photos or watching the clip;
  // replacing the page then would lose it, so the page only says so.
  function busy() {
    var fields = main.querySelectorAll('textarea, input[type=file]');
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].value) return true;
    }
    var v = main.querySelector('video');
    return !!(v && !v.paused && !v.ended);
  }

  function sayChanged() {
    if (document.getElementById('changed')) return;
    var p = document.createElement('p'), a = document.createElement('a');
    p.className = 'notice';
    p.id = 'changed';
    p.setAttribute('role', 'status');
    a.href = own;
    a.textContent = main.getAttribute('data-changed');
    p.appendChild(a);
    main.insertBefore(p, main.firstChild);
  }

  // refresh reads the page again and returns the cursor it was read at,
  // or '' when it is no longer a page to follow (signed out, gone).
  function refresh() {
    return fetch(own, {credentials: 'same-origin', cache: 'no-store'}).then(function (r) {
      return r.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var fresh = doc.querySelector('main[data-cursor]');
        if (!r.ok || !fresh) return '';
        main.innerHTML = fresh.innerHTML;
        var rows = main.querySelectorAll('li.finding[data-id]');
        for (var i = 0; i < rows.length; i++) {
          if (!known[rows[i].getAttribute('data-id')]) rows[i].classList.add('fresh');
        }
        return fresh.getAttribute('data-cursor');
      });
    });
  }

  var stopped = {};
  function follow(cursor) {
    fetch('/site/changes?after=' + encodeURIComponent(cursor) + '&wait=25', {
      credentials: 'same-origin', cache: 'no-store', headers: {Accept: 'application/json'}
    }).then(function (r) {
      if (r.status === 401) throw stopped; // signed out: the next click shows the sign-in
      if (!r.ok) throw new Error('changes: ' + r.status);
      return r.json();
    }).then(function (d) {
      if (!concerns(d.changes)) return String(d.cursor);
      if (shown && busy()) {
        sayChanged();
        return String(d.cursor);
      }
      return refresh().then(function (c) {
        if (!c) throw stopped;
        return c;
      });
    }).then(function (next) {
      main.setAttribute('data-cursor', next);
      follow(next);
    }, function (err) {
      // The relay restarting or the phone's line dropping: ask again soon.
      if (err !== stopped) setTimeout(function () { follow(cursor); }, 5000);
    });
  }
  follow(main.getAttribute('data-cursor'));
})();
