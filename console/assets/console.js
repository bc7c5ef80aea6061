// Progressive enhancement only: every page works without this file.
(function () {
  'use strict'

  // The dashboard chart, drawn with uPlot (served from the package) when it has loaded.
  function drawChart () {
    const el = document.getElementById('hourly')
    if (!el || typeof window.uPlot !== 'function') return
    const rows = JSON.parse(el.getAttribute('data-series') || '[]')
    const labels = JSON.parse(el.getAttribute('data-labels') || '[]')
    const data = [rows.map(function (r) { return r[0] / 1000 }), rows.map(function (r) { return r[1] }), rows.map(function (r) { return r[2] })]
    // Times in the user's language and in UTC, as the rest of the console shows them.
    const locale = el.getAttribute('data-locale') === 'ru' ? 'ru-RU' : 'en-GB'
    const full = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' })
    const short = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZone: 'UTC' })
    const Plot = window.uPlot
    const opts = {
      width: Math.min(el.clientWidth || 800, 1100),
      height: 240,
      tzDate: function (ts) { return Plot.tzDate(new Date(ts * 1000), 'Etc/UTC') },
      series: [
        { label: el.getAttribute('data-time-label') || 'Time', value: function (u, v) { return v == null ? '—' : full.format(new Date(v * 1000)) + ' UTC' } },
        { label: labels[0], stroke: '#0b5cad' },
        { label: labels[1], stroke: '#1a7f37' }
      ],
      axes: [{ values: function (u, splits) { return splits.map(function (v) { return short.format(new Date(v * 1000)) }) } }, {}]
    }
    el.chart = new Plot(opts, data, el)
  }

  // Copy buttons next to the ingress URLs: shown only where the Clipboard API can work.
  function copyButtons () {
    if (!navigator.clipboard) return
    document.querySelectorAll('button.copy').forEach(function (button) {
      button.hidden = false
      button.addEventListener('click', function () {
        const source = document.getElementById(button.getAttribute('data-copy'))
        if (source) navigator.clipboard.writeText(source.textContent.trim()).then(function () { button.textContent = '✓' })
      })
    })
  }

  window.addEventListener('load', drawChart)
  document.addEventListener('DOMContentLoaded', copyButtons)
}())
