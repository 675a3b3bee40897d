// Run: node --test tests/browser_editor_unit/   (from the repo root, after `cd web && npm ci`)
import test from 'node:test'
import assert from 'node:assert/strict'
// Resolve ProseMirror from web/node_modules (the same module instance web/src uses).
const { EditorState, TextSelection } = await import(new URL('../../web/node_modules/prosemirror-state/dist/index.js', import.meta.url))
import { schema } from '../../web/src/schema.js'
import { guidPlugin } from '../../web/src/guid.js'
import { splitUnit, sinkUnit, liftUnit, moveUnitUp, moveUnitDown, deleteUnit, insertUnit } from '../../web/src/commands.js'

const s = schema
const h = (t) => s.nodes.heading.create(null, t ? s.text(t) : null)
const p = (t) => s.nodes.p.create(null, t ? s.text(t) : null)
const unit = (kind, guid, ...content) => s.nodes[kind].create({ guid }, content)
const G = (n) => '00000000-0000-4000-8000-' + String(n).padStart(12, '0')

function make () {
  const doc = s.nodes.doc.create(null, [
    unit('article', G(1), h('Uno'), p('texto uno'), unit('paragraph', G(2), p('A texto'))),
    unit('article', G(3), h('Dos'), p('texto dos')),
    unit('article', G(4), h('Tres'), p('texto tres'))
  ])
  return EditorState.create({ doc, plugins: [guidPlugin()] })
}
function cursorIn (state, text, offset = 0) {
  let pos = null
  state.doc.descendants((n, at) => { if (pos === null && n.isTextblock && n.textContent === text) pos = at + 1 + offset })
  return state.apply(state.tr.setSelection(TextSelection.create(state.doc, pos)))
}
function run (state, cmd) {
  let out = null
  const ok = cmd(state, tr => { out = state.apply(tr) })
  assert.ok(ok, 'command applies')
  return out
}
const kinds = (state) => { const o = []; state.doc.descendants(n => { if (n.type.spec.unit) o.push(n.type.name + ':' + (n.firstChild?.textContent || '')) }); return o }
const guids = (state) => { const o = []; state.doc.descendants(n => { if (n.type.spec.unit) o.push(n.attrs.guid) }); return o }

test('sink and lift an article', () => {
  let st = cursorIn(make(), 'Dos')
  st = run(st, sinkUnit)
  assert.deepEqual(kinds(st), ['article:Uno', 'paragraph:A texto', 'paragraph:Dos', 'article:Tres'])
  assert.equal(guids(st)[2], G(3))
  st = run(st, liftUnit)
  assert.deepEqual(kinds(st), ['article:Uno', 'paragraph:A texto', 'article:Dos', 'article:Tres'])
  assert.equal(guids(st)[2], G(3))
})

test('move up / down keeps guids', () => {
  let st = cursorIn(make(), 'Tres')
  st = run(st, moveUnitUp)
  assert.deepEqual(kinds(st).filter(k => k.startsWith('article')), ['article:Uno', 'article:Tres', 'article:Dos'])
  st = run(st, moveUnitDown)
  assert.deepEqual(kinds(st).filter(k => k.startsWith('article')), ['article:Uno', 'article:Dos', 'article:Tres'])
  assert.deepEqual(guids(st), [G(1), G(2), G(3), G(4)])
})

test('split gives the new part a fresh guid, original keeps its own', () => {
  let st = cursorIn(make(), 'texto dos', 5)
  st = run(st, splitUnit)
  const gs = guids(st)
  assert.equal(gs.length, 5)
  assert.equal(gs[2], G(3))
  assert.match(gs[3], /^[0-9a-f-]{36}$/)
  assert.equal(new Set(gs).size, 5)
  const texts = []; st.doc.child(2).forEach(n => texts.push(n.type.name + ':' + n.textContent))
  assert.deepEqual(texts, ['heading:', 'p: dos'])
})

test('delete and insert', () => {
  let st = cursorIn(make(), 'Dos')
  st = run(st, deleteUnit)
  assert.deepEqual(kinds(st), ['article:Uno', 'paragraph:A texto', 'article:Tres'])
  st = cursorIn(st, 'texto uno')
  st = run(st, insertUnit('paragraph'))
  assert.deepEqual(kinds(st), ['article:Uno', 'paragraph:', 'paragraph:A texto', 'article:Tres'])
  assert.equal(new Set(guids(st)).size, 4)
  st = run(st, insertUnit('article'))
  assert.deepEqual(kinds(st), ['article:Uno', 'paragraph:', 'paragraph:A texto', 'article:', 'article:Tres'])
})

test('duplicated guid: the pre-existing occurrence keeps it', () => {
  const st = cursorIn(make(), 'Tres')
  const copy = st.doc.child(0)
  const tr = st.tr.insert(st.doc.content.size, copy)
  const next = st.applyTransaction(tr).state
  const gs = guids(next)
  assert.equal(gs[0], G(1))
  assert.equal(gs[1], G(2))
  assert.notEqual(gs[4], G(1))
  assert.notEqual(gs[5], G(2))
  assert.equal(new Set(gs).size, gs.length)
})

test('Mod-Enter at the end of a heading adds an empty article after, body stays', () => {
  let st = cursorIn(make(), 'Uno', 3)
  st = run(st, splitUnit)
  assert.deepEqual(kinds(st), ['article:Uno', 'paragraph:A texto', 'article:', 'article:Dos', 'article:Tres'])
  assert.equal(st.selection.$from.parent.type.name, 'heading')
  assert.equal(st.doc.child(0).childCount, 3)
})

test('Mod-Enter at the end of the last p keeps children in place', () => {
  let st = cursorIn(make(), 'texto uno', 9)
  st = run(st, splitUnit)
  assert.deepEqual(kinds(st), ['article:Uno', 'paragraph:A texto', 'article:', 'article:Dos', 'article:Tres'])
})

test('Mod-Enter in the middle of a p moves the rest, children included', () => {
  let st = cursorIn(make(), 'texto uno', 5)
  st = run(st, splitUnit)
  assert.deepEqual(kinds(st), ['article:Uno', 'article:', 'paragraph:A texto', 'article:Dos', 'article:Tres'])
  assert.equal(st.selection.$from.parent.textContent, ' uno')
  assert.equal(st.selection.$from.parentOffset, 0)
  assert.deepEqual(guids(st).slice(0, 1), [G(1)])
  assert.equal(guids(st)[2], G(2))
})

test('a schedule goes at the very end, transitional provisions before the schedules, a cross-heading between units', () => {
  let st = cursorIn(make(), 'texto dos')
  st = run(st, insertUnit('attachment'))
  st = cursorIn(st, 'texto uno')
  st = run(st, insertUnit('transitional'))
  st = cursorIn(st, 'texto tres')
  st = run(st, insertUnit('crossHeading'))
  const top = []
  st.doc.forEach(n => top.push(n.type.name))
  assert.deepEqual(top, ['article', 'article', 'article', 'crossHeading', 'transitional', 'attachment'])
  st.doc.check() // every node's content is valid for the schema
  const ch = st.doc.child(3)
  assert.equal(ch.childCount, 1) // a cross-heading is its heading alone
  // Mod-Enter in a cross-heading's heading makes another valid cross-heading
  let pos = null
  st.doc.forEach((n, at) => { if (n.type.name === 'crossHeading') pos = at + 2 })
  st = st.apply(st.tr.insertText('Generalidades', pos))
  st = st.apply(st.tr.setSelection(TextSelection.create(st.doc, pos + 5)))
  st = run(st, splitUnit)
  st.doc.check()
})

test('a table is content of a unit and its cells are text blocks', () => {
  const cell = (t) => s.nodes.td.create(null, t ? s.text(t) : null)
  const table = s.nodes.table.create(null, [s.nodes.tr.create(null, [cell('Metro'), cell('5 pesos')])])
  const doc = s.nodes.doc.create(null, [unit('article', G(1), h('Tarifas'), p('Son:'), table, p('Después.'))])
  doc.check()
  assert.ok(s.nodes.td.isTextblock)
  let st = EditorState.create({ doc })
  st = cursorIn(st, '5 pesos', 1)
  st = st.apply(st.tr.insertText('7'))
  assert.equal(st.doc.child(0).child(2).child(0).child(1).textContent, '57 pesos')
})
