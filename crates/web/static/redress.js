// Progressive enhancement only: every page works without this file.
(function () {
  'use strict';

  function typing(el) {
    return el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
  }

  // Keyboard shortcuts (listed on /help).
  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(document.activeElement)) return;
    if (e.key === '/') { var q = document.getElementById('q'); if (q) { e.preventDefault(); q.focus(); } }
    else if (e.key === 'n') { window.location.href = '/cases/new'; }
    else if (e.key === 'h') { window.location.href = '/'; }
    else if (e.key === '?') { window.location.href = '/help'; }
    else if (e.key === 'c') { var b = document.getElementById('body'); if (b) { e.preventDefault(); b.focus(); } }
  });

  // Move focus to the error summary so screen-reader users hear it first.
  document.addEventListener('DOMContentLoaded', function () {
    var summary = document.getElementById('error-summary');
    if (summary) summary.focus();
  });

  // Warn before the session ends, with a way to extend it (WCAG 2.2.1).
  document.addEventListener('DOMContentLoaded', function () {
    var box = document.getElementById('session-warning');
    if (!box) return;
    var form = document.getElementById('session-extend');
    var expires = parseInt(box.dataset.expires || '0', 10);
    var timer = null;
    function arm() {
      clearTimeout(timer);
      var wait = expires - Date.now() - 5 * 60 * 1000;
      if (expires > 0) timer = setTimeout(function () { box.hidden = false; var b = box.querySelector('button'); if (b) b.focus(); }, Math.max(wait, 0));
    }
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      fetch('/session/extend', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Accept': 'application/json' }, body: new URLSearchParams(new FormData(form)) })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) { if (j && j.expires_ms) { expires = j.expires_ms; box.hidden = true; arm(); } });
    });
    arm();
  });

  // Call timer on the intake screen: fills the call length field.
  document.addEventListener('DOMContentLoaded', function () {
    var toggle = document.getElementById('call-timer-toggle');
    var display = document.getElementById('call-timer-display');
    var length = document.getElementById('call_length');
    if (!toggle || !display || !length) return;
    var started = null, timer = null, base = 0;
    // What the field says, in seconds: minutes (4, 2.5) or minutes:seconds (4:30).
    function typed() {
      var v = (length.value || '').trim(), m = v.match(/^(\d+):(\d{1,2})$/);
      if (m) return parseInt(m[1], 10) * 60 + parseInt(m[2], 10);
      var n = parseFloat(v.replace(',', '.'));
      return isFinite(n) && n > 0 ? Math.round(n * 60) : 0;
    }
    function words(s) { return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0'); }
    function elapsed() { return Math.round((Date.now() - started) / 1000) + base; }
    function stop() {
      if (!timer) return;
      clearInterval(timer); timer = null;
      length.value = words(elapsed());
      toggle.textContent = toggle.dataset.start;
    }
    toggle.addEventListener('click', function () {
      if (timer) { stop(); return; }
      started = Date.now();
      base = typed();
      timer = setInterval(function () { var s = elapsed(); display.textContent = words(s); length.value = words(s); }, 1000);
      toggle.textContent = toggle.dataset.stop;
    });
    var form = document.getElementById('intake-form');
    if (form) form.addEventListener('submit', stop);
  });

  // Repeat callers: as a phone, email or account number is typed, show who is on file.
  document.addEventListener('DOMContentLoaded', function () {
    var list = document.getElementById('matches-list');
    var empty = document.getElementById('matches-empty');
    if (!list) return;
    var fields = [['consumer-phone', 'phone'], ['consumer-email', 'email'], ['consumer-account_number', 'account']];
    var pending = null;
    function render(people) {
      list.textContent = '';
      empty.hidden = people.length > 0;
      people.forEach(function (p) {
        var li = document.createElement('li');
        var who = document.createElement('strong');
        who.textContent = p.name;
        li.appendChild(who);
        li.appendChild(document.createTextNode(' — ' + [p.phone, p.email].filter(Boolean).join(' · ')));
        if (p.cases && p.cases.length) {
          var ul = document.createElement('ul');
          p.cases.forEach(function (c) {
            var item = document.createElement('li');
            var a = document.createElement('a');
            a.href = '/cases/' + c.reference;
            a.textContent = c.reference;
            item.appendChild(a);
            item.appendChild(document.createTextNode(' ' + c.status + ' '));
            // The call is about this case: it goes on its timeline, no new case is opened.
            var add = document.createElement('button');
            add.type = 'submit';
            add.name = 'add_to';
            add.value = c.reference;
            add.formNoValidate = true;
            add.textContent = list.dataset.addTo + ' ' + c.reference;
            item.appendChild(add);
            ul.appendChild(item);
          });
          li.appendChild(document.createTextNode(' (' + list.dataset.openCases + ': ' + p.cases.length + ')'));
          li.appendChild(ul);
        }
        var use = document.createElement('button');
        use.type = 'button';
        use.className = 'use-person';
        use.textContent = list.dataset.use + ': ' + p.name;
        use.addEventListener('click', function () { choose(p); });
        li.appendChild(document.createTextNode(' '));
        li.appendChild(use);
        list.appendChild(li);
      });
    }
    // Choosing a person on file is the only way a case joins an existing record; what is typed
    // then only fills in what that record lacks.
    var chosenId = document.getElementById('consumer_id');
    var chosenName = document.getElementById('consumer_chosen_name');
    var chosenBox = document.getElementById('consumer-chosen');
    var chosenLabel = document.getElementById('consumer-chosen-name');
    function choose(p) {
      if (!chosenId) return;
      chosenId.value = String(p.id);
      chosenName.value = p.name;
      chosenLabel.textContent = p.name + ' — ' + [p.phone, p.email].filter(Boolean).join(' · ');
      chosenBox.hidden = false;
      var set = function (id, v) { var el = document.getElementById(id); if (el && v && !el.value) el.value = v; };
      set('consumer-name', p.name); set('consumer-phone', p.phone); set('consumer-email', p.email);
      var lang = document.getElementById('consumer-preferred_language');
      if (lang && p.preferred_language) lang.value = p.preferred_language;
      var clear = document.getElementById('consumer-chosen-clear');
      if (clear) clear.focus();
    }
    var clearButton = document.getElementById('consumer-chosen-clear');
    if (clearButton) clearButton.addEventListener('click', function () {
      chosenId.value = ''; chosenName.value = ''; chosenLabel.textContent = ''; chosenBox.hidden = true;
      var name = document.getElementById('consumer-name');
      if (name) name.focus();
    });
    function lookup(param, value) {
      fetch('/api/v1/consumers?' + param + '=' + encodeURIComponent(value), { credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (people) {
          return Promise.all(people.map(function (p) {
            return fetch('/api/v1/cases?open=true&limit=10&consumer=' + p.id, { credentials: 'same-origin' })
              .then(function (r) { return r.ok ? r.json() : { items: [] }; })
              .then(function (page) { p.cases = page.items; return p; });
          }));
        })
        .then(render)
        .catch(function () {});
    }
    fields.forEach(function (f) {
      var el = document.getElementById(f[0]);
      if (!el) return;
      el.addEventListener('input', function () {
        clearTimeout(pending);
        var v = el.value.trim();
        if (v.length < 5) return;
        pending = setTimeout(function () { lookup(f[1], v); }, 300);
      });
    });
  });
})();
