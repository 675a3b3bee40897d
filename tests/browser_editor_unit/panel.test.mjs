// Run: node --test tests/browser_editor_unit/   (from the repo root)
// The panel base (web/src/panel.js) without a browser: a tiny stand-in for the DOM it uses, and
// a stand-in fetch.
import test from 'node:test'
import assert from 'node:assert/strict'

class FakeNode {}
class FakeText extends FakeNode {
  constructor (text) { super(); this.text = text }
  get textContent () { return this.text }
}
class FakeElement extends FakeNode {
  constructor (tag) {
    super()
    this.tagName = tag.toUpperCase()
    this.attributes = {}
    this.dataset = {}
    this.hidden = false
    this.className = ''
    this.children = []
    this.listeners = {}
    const self = this
    this.classList = {
      toggle (name, on) {
        const names = new Set(self.className.split(' ').filter(Boolean))
        if (on) names.add(name)
        else names.delete(name)
        self.className = [...names].join(' ')
      },
      contains: (name) => self.className.split(' ').includes(name)
    }
  }

  get id () { return this.attributes.id || '' }
  set id (v) { this.attributes.id = v }
  setAttribute (k, v) { this.attributes[k] = v }
  getAttribute (k) { return k in this.attributes ? this.attributes[k] : null }
  append (...nodes) { this.children.push(...nodes) }
  replaceChildren (...nodes) { this.children = nodes }
  get textContent () { return this.children.map(c => c.textContent).join('') }
  set textContent (v) { this.children = [new FakeText(String(v))] }
  addEventListener (type, fn) { (this.listeners[type] ||= []).push(fn) }
  querySelector (tag) { return this.children.find(c => c.tagName === tag.toUpperCase()) || null }
}
globalThis.Node = FakeNode
globalThis.document = {
  createElement: (tag) => new FakeElement(tag),
  createTextNode: (text) => new FakeText(text)
}

const { el, requestJSON, Panel } = await import('../../web/src/panel.js')

function answer (status, body, statusText = '') {
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText,
    json: async () => { if (body === undefined) throw new SyntaxError('no JSON'); return body }
  }
}

function stubFetch (response) {
  const calls = []
  globalThis.fetch = async (url, opts) => { calls.push({ url, opts }); return response }
  return calls
}

test('el: attributes, properties and children', () => {
  const node = el('button', {
    type: 'button', class: 'a b', text: 'Go', dataset: { action: 'go', id: '3' }, hidden: true,
    required: true, 'aria-label': 'Go now', title: null, tabindex: undefined, disabled: false
  })
  assert.equal(node.tagName, 'BUTTON')
  assert.equal(node.className, 'a b')
  assert.equal(node.textContent, 'Go')
  assert.deepEqual(node.dataset, { action: 'go', id: '3' })
  assert.equal(node.hidden, true)
  assert.deepEqual(node.attributes, { type: 'button', required: '', 'aria-label': 'Go now' })

  const child = el('span', { text: 'x' })
  const parent = el('p', null, 'one ', [child, null, 2, false], undefined)
  assert.equal(parent.children.length, 3)
  assert.equal(parent.children[1], child)
  assert.equal(parent.textContent, 'one x2')
})

test('requestJSON: GET asks for JSON and sends no CSRF token', async () => {
  const calls = stubFetch(answer(200, { comments: [] }))
  assert.deepEqual(await requestJSON('/api/x', { csrf: 'tok' }), { comments: [] })
  assert.equal(calls.length, 1)
  assert.equal(calls[0].url, '/api/x')
  assert.deepEqual(calls[0].opts, { method: 'GET', credentials: 'same-origin', headers: { Accept: 'application/json' } })
})

test('requestJSON: other methods carry the CSRF token, and a body as JSON', async () => {
  const calls = stubFetch(answer(201, { created: true }))
  assert.deepEqual(await requestJSON('/api/x', { method: 'POST', body: { a: 1 }, csrf: 'tok' }), { created: true })
  assert.deepEqual(calls[0].opts, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'X-CSRFToken': 'tok' },
    body: '{"a":1}'
  })
  stubFetch(answer(204))
  assert.equal(await requestJSON('/api/x', { method: 'DELETE', csrf: 'tok' }), null)
})

test('requestJSON: an error status rejects with the server\'s message and the status', async () => {
  stubFetch(answer(400, { error: 'The comment is empty.' }, 'BAD REQUEST'))
  await assert.rejects(requestJSON('/api/x', { method: 'POST', body: {} }), { message: 'The comment is empty.', status: 400 })
  stubFetch(answer(502, undefined, 'Bad Gateway'))
  await assert.rejects(requestJSON('/api/x'), { message: 'Bad Gateway', status: 502 })
  stubFetch(answer(503, null, ''))
  await assert.rejects(requestJSON('/api/x'), { message: '503', status: 503 })
})

const T = {
  cmt: { title: 'Comentarios', hint: 'Ponga el cursor en una cláusula.', preamble: 'Preámbulo', failed: 'No se pudo completar', loadFailed: 'No se pudieron cargar' }
}

class TestPanel extends Panel {
  constructor (root, opts) {
    super(root, opts, { strings: 'cmt', prefix: 'cmt', headingId: 'comments-title', path: '/comments' })
    this.acted = []
    this.news = []
    this.list = el('ul')
    this.formStatus = el('p')
    this.assemble(this.unitEl, this.status, this.list)
  }

  act (button) { this.acted.push(button) }
  changed (payload) { this.news.push(payload) }
}

test('Panel: options, heading kept and titled, markup, API under the document', async () => {
  const root = el('aside')
  const h2 = el('h2', { text: 'Comments (server)' })
  root.append(h2, el('p', { class: 'cmt-hint', text: 'placeholder' }))
  const panel = new TestPanel(root, { slug: 'a b', csrf: 'tok', lang: 'fr', t: T })
  assert.equal(panel.lang, 'es')
  assert.equal(panel.t, T.cmt)
  assert.equal(panel.base, '/api/v1/documents/a%20b/comments')
  assert.equal(h2.id, 'comments-title')
  assert.equal(h2.textContent, 'Comentarios')
  assert.equal(root.getAttribute('aria-labelledby'), 'comments-title')
  assert.deepEqual(root.children, [h2, panel.unitEl, panel.status, panel.list])
  assert.equal(panel.unitEl.className, 'cmt-unit')
  assert.equal(panel.unitEl.getAttribute('aria-live'), 'polite')
  assert.equal(panel.unitEl.textContent, T.cmt.hint)
  assert.equal(panel.status.className, 'cmt-status')
  assert.equal(panel.status.getAttribute('role'), 'status')

  const calls = stubFetch(answer(200, { ok: true }))
  await panel.api('/7/resolve', 'POST', {})
  assert.equal(calls[0].url, '/api/v1/documents/a%20b/comments/7/resolve')
  assert.equal(calls[0].opts.headers['X-CSRFToken'], 'tok')
})

test('Panel: a heading of its own when the template gives none; en stays en', () => {
  const root = el('aside')
  const panel = new TestPanel(root, { slug: 's', lang: 'en', t: T, base: 'http://h' })
  assert.equal(panel.lang, 'en')
  assert.equal(panel.base, 'http://h/api/v1/documents/s/comments')
  assert.equal(root.children[0].tagName, 'H2')
  assert.equal(root.children[0].id, 'comments-title')
  assert.equal(root.children[0].textContent, 'Comentarios')
})

test('Panel: buttons with a data-action go to act()', () => {
  const root = el('aside')
  const panel = new TestPanel(root, { slug: 's', t: T })
  const button = el('button', { dataset: { action: 'resolve' } })
  let prevented = false
  root.contains = (n) => n === button
  root.listeners.click[0]({ target: { closest: () => button }, preventDefault: () => { prevented = true } })
  assert.deepEqual(panel.acted, [button])
  assert.equal(prevented, true)
  root.listeners.click[0]({ target: { closest: () => null }, preventDefault: () => {} })
  assert.equal(panel.acted.length, 1)
})

test('Panel: live events about this document only', () => {
  const panel = new TestPanel(el('aside'), { slug: 'mine', t: T })
  const handlers = {}
  panel.listen({ on: (event, fn) => { handlers[event] = fn } }, 'comments')
  handlers.comments({ document: 'other' })
  handlers.comments(null)
  handlers.comments({ document: 'mine', id: 3 })
  assert.deepEqual(panel.news, [{ document: 'mine', id: 3 }])
})

test('Panel: the unit line, the status lines, empty lists, failures', () => {
  const panel = new TestPanel(el('aside'), { slug: 's', t: T })
  panel.unit = { guid: 'g', label: 'Artículo 1' }
  panel.renderUnitLabel()
  assert.equal(panel.unitEl.textContent, 'Artículo 1')
  assert.equal(panel.unitEl.className, 'cmt-unit cmt-unit-current')
  const written = panel.unitEl.children[0]
  panel.renderUnitLabel() // the same text is not written again (it would be announced again)
  assert.equal(panel.unitEl.children[0], written)
  panel.unit = { guid: 'p', label: '' }
  panel.renderUnitLabel()
  assert.equal(panel.unitEl.textContent, 'Preámbulo')
  panel.unit = null
  panel.renderUnitLabel()
  assert.equal(panel.unitEl.textContent, T.cmt.hint)
  assert.equal(panel.unitEl.className, 'cmt-unit')

  panel.say(panel.failure(new Error('boom')), true)
  assert.equal(panel.status.textContent, 'No se pudo completar: boom')
  assert.equal(panel.status.className, 'cmt-status cmt-error')
  panel.say('Hecho.')
  assert.equal(panel.status.className, 'cmt-status')
  panel.sayInForm(panel.failure(new Error('x'), T.cmt.loadFailed), true)
  assert.equal(panel.formStatus.textContent, 'No se pudieron cargar: x')
  assert.equal(panel.formStatus.className, 'cmt-error')
  panel.sayInForm('')
  assert.equal(panel.formStatus.className, '')

  panel.fill(panel.list, [1, 2], n => el('li', { text: String(n) }), 'Nada.')
  assert.deepEqual(panel.list.children.map(c => c.textContent), ['1', '2'])
  panel.fill(panel.list, [], n => el('li', { text: String(n) }), 'Nada.')
  assert.equal(panel.list.children.length, 1)
  assert.equal(panel.list.children[0].className, 'cmt-empty')
  assert.equal(panel.list.children[0].textContent, 'Nada.')
})

test('Panel: only the latest request counts; debounce keeps the last call', async () => {
  const panel = new TestPanel(el('aside'), { slug: 's', t: T })
  const first = panel.latest()
  assert.equal(first(), true)
  const second = panel.latest()
  assert.equal(first(), false)
  assert.equal(second(), true)

  const ran = []
  panel.debounce('refresh', 5, () => ran.push('a'))
  panel.debounce('refresh', 5, () => ran.push('b'))
  panel.debounce('other', 5, () => ran.push('c'))
  await new Promise(resolve => setTimeout(resolve, 30))
  assert.deepEqual(ran.sort(), ['b', 'c'])
})
