// Filters, search over the embedded transcript text, sortable columns, and the filter state
// kept in the address (so "back" from a call page returns to the same view).
(function () {
  document.documentElement.classList.add('js');
  var top = document.querySelector('header.top');
  function setHdr() {
    if (top) document.documentElement.style.setProperty('--hdr', top.offsetHeight + 'px');
  }
  setHdr(); window.addEventListener('resize', setHdr);
  var texts = {};
  try { texts = JSON.parse(document.getElementById('call-text').textContent); } catch (e) {}
  var lower = {};
  Object.keys(texts).forEach(function (k) { lower[k] = texts[k].toLowerCase(); });
  var selects = Array.prototype.slice.call(document.querySelectorAll('.filters select'));
  var search = document.getElementById('search');
  var rows = Array.prototype.slice.call(document.querySelectorAll('tr.call-row'));
  function matches(r, key, v) {
    if (!v) return true;
    var d = r.dataset;
    if (key === 'severity') return v === 'flagged' ? d.severity !== 'none' : d.severity === v;
    if (key === 'flag') return (' ' + d.flags + ' ').indexOf(' ' + v + ' ') >= 0;
    return d[key] === v;
  }
  function apply() {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
    rows.forEach(function (r) {
      var ok = selects.every(function (s) { return matches(r, s.dataset.key, s.value); });
      if (ok && words.length) {
        var t = lower[r.dataset.callId] || '';
        ok = words.every(function (w) { return t.indexOf(w) >= 0; });
      }
      r.hidden = !ok;
      if (ok) shown++;
    });
    selects.forEach(function (s) { s.classList.toggle('active', !!s.value); });
    document.querySelectorAll('section.block').forEach(function (sec) {
      var all = sec.querySelectorAll('tr.call-row');
      if (!all.length) return;
      var vis = sec.querySelectorAll('tr.call-row:not([hidden])').length;
      var c = sec.querySelector('.count'), n = sec.querySelector('.nomatch');
      if (c) c.textContent = vis === all.length ? all.length : vis + ' of ' + all.length;
      if (n) n.hidden = vis > 0;
      var tb = sec.querySelector('table.calls'); if (tb) tb.hidden = vis === 0;
    });
    document.getElementById('filter-count').textContent =
      shown === rows.length ? '' : 'showing ' + shown + ' of ' + rows.length + ' files';
    var state = selects.filter(function (s) { return s.value; })
      .map(function (s) { return s.dataset.key + '=' + encodeURIComponent(s.value); });
    if (search.value) state.push('q=' + encodeURIComponent(search.value));
    history.replaceState(null, '', state.length ? '#' + state.join('&') : location.pathname);
  }
  location.hash.slice(1).split('&').forEach(function (kv) {
    var i = kv.indexOf('='); if (i < 0) return;
    var k = kv.slice(0, i), v = decodeURIComponent(kv.slice(i + 1));
    if (k === 'q') search.value = v;
    selects.forEach(function (s) { if (s.dataset.key === k) s.value = v; });
  });
  selects.forEach(function (s) { s.addEventListener('change', apply); });
  search.addEventListener('input', apply);
  document.getElementById('filter-reset').addEventListener('click', function () {
    selects.forEach(function (s) { s.value = ''; }); search.value = ''; apply();
  });
  document.querySelectorAll('a.agent-link').forEach(function (a) {
    a.addEventListener('click', function (e) {
      e.preventDefault();
      var s = document.getElementById('filter-agent');
      s.value = a.closest('tr').dataset.agent; apply();
      window.scrollTo({top: 0});
    });
  });
  document.querySelectorAll('thead th').forEach(function (th) {
    th.addEventListener('click', function () {
      var table = th.closest('table'), body = table.tBodies[0];
      var i = Array.prototype.indexOf.call(th.parentNode.children, th);
      var asc = !th.classList.contains('sorted-asc'), num = th.dataset.sort === 'num';
      table.querySelectorAll('th').forEach(function (h) {
        h.classList.remove('sorted-asc', 'sorted-desc');
      });
      th.classList.add(asc ? 'sorted-asc' : 'sorted-desc');
      function val(r) {
        var c = r.children[i]; var v = c.dataset.v !== undefined ? c.dataset.v : c.textContent;
        return num || c.dataset.v !== undefined ? parseFloat(v) || 0 : v.trim().toLowerCase();
      }
      Array.prototype.slice.call(body.rows).sort(function (a, b) {
        var x = val(a), y = val(b); return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
      }).forEach(function (r) { body.appendChild(r); });
    });
  });
  apply();
})();
