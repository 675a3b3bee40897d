// Run: node --test tests/browser_editor_unit/   (from the repo root, after `cd web && npm ci`)
// Suggestion mode's rewriting of a suggesting user's edits (web/src/suggest.js).
import test from 'node:test'
import assert from 'node:assert/strict'
const { EditorState, TextSelection } = await import(new URL('../../web/node_modules/prosemirror-state/dist/index.js', import.meta.url))
import { schema } from '../../web/src/schema.js'
import { suggestTransaction, suggestionsIn } from '../../web/src/suggest.js'
import { insertUnit, splitUnit } from '../../web/src/commands.js'

const s = schema
const ANA = { id: '1', name: 'Ana' }
const BRUNO = { id: '2', name: 'Bruno' }
const G = (n) => '00000000-0000-4000-8000-' + String(n).padStart(12, '0')
const article = (n, heading, text) => s.nodes.article.create({ guid: G(n) }, [s.nodes.heading.create(null, s.text(heading)), s.nodes.p.create(null, s.text(text))])

function make () {
  return EditorState.create({ doc: s.nodes.doc.create(null, [article(1, 'Agua', 'Toda persona tiene derecho al agua.'), article(2, 'Aire', 'Texto dos')]) })
}
function at (state, words, after = false) {
  let pos = null
  state.doc.descendants((n, p) => {
    if (pos !== null || !n.isTextblock) return pos === null
    const i = n.textContent.indexOf(words)
    if (i >= 0) pos = p + 1 + i + (after ? words.length : 0)
    return false
  })
  return pos
}
function apply (state, tr, user = ANA) {
  const next = suggestTransaction(state, tr, user)
  return next ? state.apply(next) : null
}
const runs = (state, words) => {
  const out = []
  state.doc.descendants(n => {
    if (n.isTextblock && n.textContent.includes(words)) n.forEach(t => out.push([t.text, t.marks.map(m => m.type.name + ':' + (m.attrs.id ? 'x' : '')).join(',')]))
    return !n.isTextblock
  })
  return out
}

test('typing suggests an insertion, one suggestion for the whole word', () => {
  let st = make()
  let pos = at(st, 'agua', true)
  for (const ch of ' potable') {
    st = apply(st, st.tr.insertText(ch, pos))
    pos += 1
  }
  const found = suggestionsIn(st.doc)
  assert.equal(found.length, 1)
  assert.deepEqual(found[0].parts, [{ kind: 'insert', text: ' potable' }])
  assert.equal(found[0].by, '1')
  assert.equal(found[0].unit, G(1))
  assert.equal(st.selection.from, pos)
})

test('deleting marks the text deleted; deleting one\'s own insertion removes it', () => {
  let st = make()
  const from = at(st, 'Toda persona')
  st = apply(st, st.tr.delete(from, from + 'Toda persona'.length))
  assert.equal(st.doc.textContent.includes('Toda persona'), true)
  assert.deepEqual(suggestionsIn(st.doc).map(x => x.parts), [[{ kind: 'delete', text: 'Toda persona' }]])
  const pos = at(st, 'agua', true)
  st = apply(st, st.tr.insertText('XY', pos))
  st = apply(st, st.tr.delete(pos, pos + 2))
  assert.equal(st.doc.textContent.includes('XY'), false)
  assert.equal(suggestionsIn(st.doc).length, 1)
})

test('another person\'s suggested insertion is left for others to decide', () => {
  let st = make()
  const pos = at(st, 'agua', true)
  st = apply(st, st.tr.insertText(' limpia', pos), BRUNO)
  const next = apply(st, st.tr.delete(pos, pos + 7), ANA)
  assert.equal(next.doc.textContent.includes(' limpia'), true)
  assert.deepEqual(runs(next, 'limpia').find(r => r[0] === ' limpia'), [' limpia', 'ins:x'])
})

test('a new unit is a structural suggestion; splitting a unit cannot be suggested', () => {
  let st = make()
  st = st.apply(st.tr.setSelection(TextSelection.create(st.doc, at(st, 'Texto dos'))))
  let out = null
  insertUnit('article')(st, tr => { out = apply(st, tr) })
  assert.ok(out)
  const found = suggestionsIn(out.doc)
  assert.equal(found.length, 1)
  assert.ok(found[0].kinds.has('unit'))
  let split = 'untouched'
  splitUnit(st, tr => { split = suggestTransaction(st, tr, ANA) })
  assert.equal(split, null)
})
