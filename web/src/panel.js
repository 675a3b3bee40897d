// The base of the editor's side panels (#comments, #provenance, #public-comments; the
// suggestions next): building their markup, talking to the document's JSON API, and what every
// panel does the same way. A panel's classes carry its prefix ('cmt', 'prov'): the unit line is
// `<prefix>-unit` (`<prefix>-unit-current` once it names a clause), the status line
// `<prefix>-status`, errors add `<prefix>-error`, empty lists hold one `<prefix>-empty` item.

/** A DOM element: el('button', {type: 'button', class: 'x', text: 'Go', dataset: {id: '3'}}, child, …).
 * Attributes that are null, undefined or false are left out, true gives an empty attribute;
 * `class`, `text`, `dataset` and `hidden` set those properties. Children may be nodes, strings,
 * numbers or arrays of them; null, undefined and false are skipped. */
export function el (tag, attrs, ...children) {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue
    if (k === 'class') node.className = v
    else if (k === 'text') node.textContent = v
    else if (k === 'dataset') Object.assign(node.dataset, v)
    else if (k === 'hidden') node.hidden = !!v
    else node.setAttribute(k, v === true ? '' : String(v))
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    node.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return node
}

/** A JSON request with the session's cookie; anything but GET carries the CSRF token. Resolves to
 * the answer's JSON (null if it has none); an error status rejects with an Error whose message is
 * the answer's `error` (else the status text) and whose `status` is the HTTP status. */
export async function requestJSON (url, { method = 'GET', body, csrf = '' } = {}) {
  const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } }
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json'
    opts.body = JSON.stringify(body)
  }
  if (method !== 'GET') opts.headers['X-CSRFToken'] = csrf
  const response = await fetch(url, opts)
  let data = null
  try { data = await response.json() } catch (_e) { data = null }
  if (!response.ok) {
    const error = new Error((data && data.error) || response.statusText || String(response.status))
    error.status = response.status
    throw error
  }
  return data
}

export class Panel {
  /**
   * @param {HTMLElement} root  the panel's aside (its h2, from the template, is kept)
   * @param {{slug: string, csrf?: string, lang?: string, t: object, base?: string}} opts
   * @param {{strings: string, prefix: string, headingId: string, path?: string}} spec
   *   strings: the panel's part of `t` (t.cmt, t.prov); prefix: of its classes; headingId: the
   *   h2's id when the template gives it none; path: under /api/v1/documents/<slug>
   *
   * A panel defines act(button) for its buttons with a data-action, and changed(payload) for a
   * live event about its document (see listen). It gets unitEl and status to place in its markup.
   */
  constructor (root, opts, { strings, prefix, headingId, path = '' }) {
    this.root = root
    this.slug = opts.slug
    this.csrf = opts.csrf || ''
    this.lang = opts.lang === 'en' ? 'en' : 'es'
    this.t = opts.t[strings]
    this.prefix = prefix
    this.headingId = headingId
    this.base = (opts.base || '') + '/api/v1/documents/' + encodeURIComponent(this.slug) + path
    this.unit = null // {guid, label} of the clause the panel is about
    this.seq = 0
    this.timers = new Map()
    // Which clause the panel is about (announced), and what just happened (or failed).
    this.unitEl = el('p', { class: prefix + '-unit', 'aria-live': 'polite', text: this.t.hint })
    this.status = el('p', { class: prefix + '-status', role: 'status', 'aria-live': 'polite' })
  }

  /** The panel's markup: its heading (the template's h2, titled, labelling the panel), then
   * `parts`. Clicks on buttons with a data-action go to act(button). */
  assemble (...parts) {
    const heading = this.root.querySelector('h2') || el('h2', { id: this.headingId })
    if (!heading.id) heading.id = this.headingId
    heading.textContent = this.t.title
    this.root.setAttribute('aria-labelledby', heading.id)
    this.root.replaceChildren(heading, ...parts)
    this.root.addEventListener('click', (e) => {
      const button = e.target.closest('button[data-action]')
      if (button && this.root.contains(button)) { e.preventDefault(); this.act(button) }
    })
    return heading
  }

  /** A request to the panel's part of the API (path is appended to this.base). */
  api (path, method = 'GET', body) {
    return requestJSON(this.base + path, { method, body, csrf: this.csrf })
  }

  /** For an answer that may arrive after a newer request's: `const current = this.latest()`
   * before asking, then drop the answer unless current(). */
  latest () {
    const seq = ++this.seq
    return () => seq === this.seq
  }

  /** Load and show the panel's data (the panel's load(current)). Resolves once the newest data is
   * on screen: when a later refresh (a live event) overtakes this one, it waits for that one, so a
   * caller that focuses an item afterwards finds it. */
  refresh () {
    const current = this.latest()
    this.refreshing = this.load(current)
    return this.refreshing
  }

  async load (_current) {}

  /** A moment (ISO 8601) as the panel's reader writes it: day, month, hour. */
  date (iso) {
    if (!iso) return ''
    const d = new Date(iso)
    if (Number.isNaN(d.getTime())) return iso
    return d.toLocaleString(this.lang === 'en' ? 'en-GB' : 'es-MX', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' })
  }

  /** Run fn after ms, unless called again under the same name before then. */
  debounce (name, ms, fn) {
    clearTimeout(this.timers.get(name))
    this.timers.set(name, setTimeout(fn, ms))
  }

  /** Follow the provider's `event` (the server's news about this document's comments, links…). */
  listen (provider, event) {
    provider.on(event, (payload) => this.remoteChange(payload))
  }

  remoteChange (payload) {
    if (!payload || payload.document !== this.slug) return
    this.changed(payload)
  }

  changed (_payload) {}

  /** The unit line: the clause the panel is about, or the hint. Only real changes are written:
   * the line is announced to screen readers (aria-live). */
  renderUnitLabel () {
    const t = this.t
    const text = this.unit ? (this.unit.label || t.preamble) : t.hint
    if (this.unitEl.textContent !== text) this.unitEl.textContent = text
    this.unitEl.classList.toggle(this.prefix + '-unit-current', !!this.unit)
  }

  /** Fill a list with one item per entry, or with one `<prefix>-empty` item saying `empty`. */
  fill (list, items, render, empty) {
    list.replaceChildren(...(items.length ? items.map(render) : [el('li', { class: this.prefix + '-empty', text: empty })]))
  }

  /** What a failed action or load says: "<t.failed>: <why>". */
  failure (error, what = this.t.failed) {
    return what + ': ' + error.message
  }

  say (message, isError = false) {
    this.status.textContent = message
    this.status.classList.toggle(this.prefix + '-error', !!isError)
  }

  /** The same in the panel's form (its formStatus line). */
  sayInForm (message, isError = false) {
    this.formStatus.textContent = message
    this.formStatus.classList.toggle(this.prefix + '-error', !!isError)
  }
}
