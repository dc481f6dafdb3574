(function () {
  var data = JSON.parse(document.getElementById('call-data').textContent);
  var panel = document.getElementById('detail');
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c];
    });
  }
  function block(title, value) {
    var text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
    return '<h3>' + esc(title) + '</h3><pre>' + esc(text) + '</pre>';
  }
  function show(bar) {
    var item = data[bar.dataset.key];
    if (!item) return;
    document.querySelectorAll('.bar.selected').forEach(function (b) { b.classList.remove('selected'); });
    bar.classList.add('selected');
    var ms = (item.end_ms - item.start_ms).toFixed(1);
    var html = '<h2 id="detail-title">' + esc(item.title) + '</h2>' +
      '<p class="mono">' + esc(item.start_ms.toFixed(1)) + ' &rarr; ' + esc(item.end_ms.toFixed(1)) +
      ' ms (' + esc(ms) + ' ms)</p>';
    (item.sections || []).forEach(function (s) { html += block(s[0], s[1]); });
    panel.innerHTML = html;
    panel.dataset.shown = bar.dataset.key;
  }
  document.addEventListener('click', function (ev) {
    var bar = ev.target.closest('.bar');
    if (bar) { ev.preventDefault(); show(bar); }
  });
})();
