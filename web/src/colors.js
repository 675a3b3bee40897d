// Per-user colour classes created through the CSSOM (no inline style attributes: CSP-safe).
const made = new Set()
let sheet = null

function getSheet () {
  if (sheet) return sheet
  if (typeof CSSStyleSheet === 'function' && 'adoptedStyleSheets' in document) {
    try {
      sheet = new CSSStyleSheet()
      document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet]
      return sheet
    } catch (e) { sheet = null }
  }
  return null
}

export function normColor (c) {
  if (typeof c !== 'string') return '#64748b'
  let m = /^#([0-9a-fA-F]{6})$/.exec(c)
  if (m) return '#' + m[1].toLowerCase()
  m = /^#([0-9a-fA-F])([0-9a-fA-F])([0-9a-fA-F])$/.exec(c)
  if (m) return ('#' + m[1] + m[1] + m[2] + m[2] + m[3] + m[3]).toLowerCase()
  return '#64748b'
}

// Class name giving a translucent background of colour `c` (for remote selections).
export function selectionClass (c) {
  const hex = normColor(c).slice(1)
  const cls = 'yc-sel-' + hex
  if (!made.has(cls)) {
    made.add(cls)
    const s = getSheet()
    if (s) s.insertRule('.ProseMirror .' + cls + ' { background-color: #' + hex + '40; }', s.cssRules.length)
  }
  return cls
}

// The caret of a remote user. The name is drawn by CSS from data-name (::after), so it is not
// part of the document's text (innerText, copy, screen-reader text of the paragraph).
export function cursorBuilder (user) {
  const color = normColor(user.color)
  const cursor = document.createElement('span')
  cursor.className = 'ProseMirror-yjs-cursor'
  cursor.style.setProperty('--cursor-color', color)
  cursor.dataset.name = String(user.name || '')
  cursor.setAttribute('aria-hidden', 'true')
  return cursor
}

export function selectionBuilder (user) {
  return { class: 'ProseMirror-yjs-selection ' + selectionClass(user.color) }
}

// Classes for a remote caret of colour `c`: {caret, sel}.
export function colorClass (c) {
  const hex = normColor(c).slice(1)
  const caret = 'yc-caret-' + hex
  if (!made.has(caret)) {
    made.add(caret)
    const s = getSheet()
    if (s) {
      s.insertRule('.ProseMirror .' + caret + ' { --cursor-color: #' + hex + '; }', s.cssRules.length)
    }
  }
  return { caret, sel: selectionClass(c) }
}
