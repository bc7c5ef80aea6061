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
    const opts = { width: Math.min(el.clientWidth || 800, 1100), height: 240, series: [{}, { label: labels[0], stroke: '#0b5cad' }, { label: labels[1], stroke: '#1a7f37' }] }
    const Plot = window.uPlot
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
