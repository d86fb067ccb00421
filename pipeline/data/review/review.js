// The review pages of `callqa review`: decisions posted to /api/reviews as JSON, keyboard
// shortcuts, evidence playback. Served from /static/ (the pages' Content-Security-Policy
// allows only this file); every text it adds goes in with textContent.
(function () {
  'use strict';
  var KEY = 'callqa.reviewer';
  var who = document.getElementById('reviewer');
  if (who && !who.value) {
    try { who.value = localStorage.getItem(KEY) || ''; } catch (e) { /* storage off */ }
  }
  if (who) {
    who.addEventListener('change', function () {
      try { localStorage.setItem(KEY, who.value.trim()); } catch (e) { /* storage off */ }
    });
  }
  function typing(e) {
    var t = e.target;
    return t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
  }
  function plainKey(e) { return !(e.ctrlKey || e.metaKey || e.altKey); }

  // ------------------------------------------------------------------ batch page
  var table = document.getElementById('review-table');
  var stateSelect = document.getElementById('filter-state');
  if (stateSelect) {
    stateSelect.addEventListener('change', function () { stateSelect.form.submit(); });
  }
  if (table) {
    var rows = Array.prototype.slice.call(table.querySelectorAll('tr.call-row'));
    var at = -1;
    var select = function (i) {
      if (!rows.length) return;
      at = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach(function (r, k) { r.classList.toggle('current', k === at); });
      rows[at].scrollIntoView({block: 'nearest'});
    };
    document.addEventListener('keydown', function (e) {
      if (typing(e) || !plainKey(e)) return;
      if (e.key === 'j') { select(at + 1); e.preventDefault(); }
      else if (e.key === 'k') { select(at - 1); e.preventDefault(); }
      else if ((e.key === 'Enter' || e.key === 'o') && at >= 0) {
        location.href = rows[at].querySelector('a.call-link').getAttribute('href');
      }
    });
  }

  // ------------------------------------------------------------------ call page
  var callId = document.body.dataset.callId;
  if (!callId) return;
  var cards = Array.prototype.slice.call(document.querySelectorAll('article.review-card'));
  var player = document.getElementById('player');
  var stopAt = null;
  var current = -1;

  function post(body, msg) {
    var name = who ? who.value.trim() : '';
    if (name) body.reviewer = name;
    body.call_id = callId;
    msg.className = 'msg small';
    msg.textContent = 'saving…';
    return fetch('/api/reviews', {
      method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) throw new Error(data.error || ('HTTP ' + r.status));
        msg.textContent = 'saved';
        return data;
      });
    }).catch(function (err) {
      msg.className = 'msg small error';
      msg.textContent = err.message;
      throw err;
    });
  }

  function historyItem(rec) {
    var li = document.createElement('li');
    li.className = 'review-item decision-' + rec.decision;
    li.dataset.reviewId = rec.id;
    var what = document.createElement('strong');
    what.className = 'what';
    what.textContent = rec.decision;
    li.appendChild(document.createTextNode(rec.created_at + ' · ' + rec.reviewer + ' · '));
    li.appendChild(what);
    var extra = '';
    if (rec.reason) extra += ' (' + rec.reason.replace(/_/g, ' ') + ')';
    if (rec.new_type) extra += ' → ' + rec.new_type.replace(/_/g, ' ');
    if (rec.new_severity) extra += ' → ' + rec.new_severity;
    if (rec.text) extra += ': ' + rec.text;
    li.appendChild(document.createTextNode(extra));
    return li;
  }

  function showLeft(data) {
    if (!data.left) return;
    document.getElementById('left-flags').textContent = data.left.flags;
    document.getElementById('left-calls').textContent = data.left.calls;
    var cs = document.getElementById('call-state');
    if (cs && data.call_state) {
      cs.textContent = data.call_state === 'none' ? 'no flags' : data.call_state;
      cs.className = 'state state-' + data.call_state;
    }
  }

  function decided(card, data) {
    var state = data.flag ? data.flag.state : card.dataset.state;
    card.dataset.state = state;
    var chip = card.querySelector('.flag-state');
    chip.textContent = state;
    chip.className = 'state state-' + state + ' flag-state';
    var list = card.querySelector('ol.history');
    list.insertBefore(historyItem(data.review), list.firstChild);
    showLeft(data);
  }

  function decide(i, body) {
    var card = cards[i];
    if (!card) return Promise.resolve();
    body.flag_key = card.dataset.key;
    body.fingerprint = card.dataset.fingerprint;
    dismissMode(false);
    return post(body, card.querySelector('.msg')).then(function (data) {
      decided(card, data);
      return data;
    }, function () { /* shown in the card */ });
  }

  function focusCard(i) {
    if (!cards.length) return;
    current = Math.max(0, Math.min(cards.length - 1, i));
    cards.forEach(function (c, k) { c.classList.toggle('current', k === current); });
    cards[current].focus({preventScroll: true});
    cards[current].scrollIntoView({block: 'nearest'});
  }

  function nextUnreviewed() {
    for (var k = current + 1; k < cards.length; k++) {
      if (cards[k].dataset.state === 'unreviewed') { focusCard(k); return; }
    }
  }

  function dismissMode(on) {
    cards.forEach(function (c, k) {
      var active = on && k === current;
      c.classList.toggle('dismissing', active);
      c.querySelector('.dismiss-keys').hidden = !active;
    });
  }

  function play(start, end) {
    if (!player) {
      var note = document.getElementById('no-audio');
      if (note) note.classList.add('bad');
      return;
    }
    stopAt = isNaN(end) ? null : end;
    player.currentTime = start;
    var r = player.play();
    if (r && r.catch) r.catch(function () {});
  }
  if (player) {
    player.addEventListener('timeupdate', function () {
      if (stopAt !== null && player.currentTime >= stopAt) { player.pause(); stopAt = null; }
    });
  }

  cards.forEach(function (card, i) {
    card.addEventListener('focusin', function () {
      current = i;
      cards.forEach(function (c, k) { c.classList.toggle('current', k === i); });
    });
    card.querySelector('.act-confirm').addEventListener('click', function () {
      current = i; decide(i, {decision: 'confirm'});
    });
    card.querySelector('form.act-dismiss').addEventListener('submit', function (e) {
      e.preventDefault();
      current = i;
      decide(i, {decision: 'dismiss', reason: this.reason.value, text: this.text.value});
    });
    card.querySelector('form.act-change').addEventListener('submit', function (e) {
      e.preventDefault();
      current = i;
      var body = {decision: 'change', text: this.text.value};
      if (this.new_type.value !== card.querySelector('.act-change select[name=new_type] option[selected]').value) {
        body.new_type = this.new_type.value;
      }
      if (this.new_severity.value !== card.querySelector('.act-change select[name=new_severity] option[selected]').value) {
        body.new_severity = this.new_severity.value;
      }
      decide(i, body);
    });
  });

  document.addEventListener('click', function (e) {
    var b = e.target.closest ? e.target.closest('button.play') : null;
    if (!b) return;
    e.preventDefault();
    play(parseFloat(b.dataset.playStart), parseFloat(b.dataset.playEnd));
  });

  var noteForm = document.getElementById('note-form');
  if (noteForm) {
    noteForm.addEventListener('submit', function (e) {
      e.preventDefault();
      var msg = noteForm.parentNode.querySelector('.msg');
      post({decision: 'note', text: noteForm.text.value}, msg).then(function (data) {
        var list = noteForm.parentNode.querySelector('ol.notes');
        list.insertBefore(historyItem(data.review), list.firstChild);
        noteForm.text.value = '';
      }, function () {});
    });
  }

  document.addEventListener('keydown', function (e) {
    var card = cards[current];
    if (e.key === 'Escape') { dismissMode(false); if (typing(e)) e.target.blur(); return; }
    if (typing(e) || !plainKey(e)) return;
    if (card && card.classList.contains('dismissing') && /^[1-9]$/.test(e.key)) {
      var sel = card.querySelector('form.act-dismiss select');
      var n = parseInt(e.key, 10) - 1;
      if (n >= sel.options.length) return;
      e.preventDefault();
      sel.selectedIndex = n;
      var text = card.querySelector('form.act-dismiss input[name=text]');
      if (sel.value === 'other' && !text.value.trim()) { text.focus(); return; }
      decide(current, {decision: 'dismiss', reason: sel.value, text: text.value}).then(nextUnreviewed);
      return;
    }
    if (e.key === 'j') {
      e.preventDefault();
      if (current >= cards.length - 1 && document.body.dataset.next) location.href = document.body.dataset.next;
      else focusCard(current + 1);
    } else if (e.key === 'k') {
      e.preventDefault();
      if (current <= 0 && document.body.dataset.prev) location.href = document.body.dataset.prev;
      else focusCard(current - 1);
    } else if (e.key === 'c' && card) {
      e.preventDefault();
      decide(current, {decision: 'confirm'}).then(nextUnreviewed);
    } else if (e.key === 'd' && card) {
      e.preventDefault();
      dismissMode(!card.classList.contains('dismissing'));
    } else if (e.key === 'p' && card) {
      e.preventDefault();
      play(parseFloat(card.dataset.start), parseFloat(card.dataset.end));
    } else if (e.key === 'n' && noteForm) {
      e.preventDefault();
      noteForm.text.focus();
    }
  });

  var first = cards.findIndex(function (c) { return c.dataset.state === 'unreviewed'; });
  if (cards.length) focusCard(first >= 0 ? first : 0);
})();
