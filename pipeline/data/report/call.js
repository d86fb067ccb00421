// One handler for every element with data-start: seek the player and play. The timeline's
// playhead and the segment being heard follow playback; "#t=12.5" in the address seeks too.
(function () {
  document.documentElement.classList.add('js');
  var p = document.getElementById('player');
  var top = document.querySelector('header.top');
  function setHdr() {
    if (top) document.documentElement.style.setProperty('--hdr', top.offsetHeight + 'px');
  }
  setHdr(); window.addEventListener('resize', setHdr);
  if (!p) return;
  var segs = Array.prototype.slice.call(document.querySelectorAll('.seg[data-seg-start]'));
  var svg = document.getElementById('timeline');
  var head = document.getElementById('playhead');
  function seek(t, play) {
    p.currentTime = t;
    if (play) { var r = p.play(); if (r && r.catch) r.catch(function () {}); }
    follow();
  }
  function follow() {
    var t = p.currentTime, shown = null;
    segs.forEach(function (s) {
      var on = t >= +s.dataset.segStart && t < +s.dataset.segEnd;
      s.classList.toggle('playing', on);
      if (on && !shown) shown = s;
    });
    if (svg && head) {
      var d = +svg.dataset.duration, x = +svg.dataset.left + +svg.dataset.plot * Math.min(t / d, 1);
      head.setAttribute('x1', x); head.setAttribute('x2', x);
      head.setAttribute('visibility', 'visible');
    }
    return shown;
  }
  document.addEventListener('click', function (e) {
    var el = e.target.closest ? e.target.closest('[data-start]') : null;
    if (!el) return;
    e.preventDefault();
    seek(parseFloat(el.getAttribute('data-start')), true);
  });
  p.addEventListener('timeupdate', follow);
  p.addEventListener('seeked', follow);
  var m = /^#t=([0-9.]+)/.exec(location.hash);
  if (m) {
    var t = parseFloat(m[1]);
    seek(t, false);
    var s = follow() || segs.filter(function (x) { return +x.dataset.segStart <= t; }).pop();
    if (s) { s.classList.add('target'); s.scrollIntoView({block: 'center'}); }
  }
})();
