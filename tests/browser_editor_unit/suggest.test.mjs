// Run: node --test tests/browser_editor_unit/   (from the repo root, after `cd web && npm ci`)
// Suggestion mode's rewriting of a suggesting user's edits (web/src/suggest.js).
import test from 'node:test'
import assert from 'node:assert/strict'
const { EditorState, TextSelection } = await import(new URL('../../web/node_modules/prosemirror-state/dist/index.js', import.meta.url))
import { schema } from '../../web/src/schema.js'
import { suggestTransaction, suggestionsIn } from '../../web/src/suggest.js'
import { insertUnit, splitUnit, deleteUnit, moveUnitDown, moveUnitUp } from '../../web/src/commands.js'
import { describePart } from '../../web/src/suggest.js'

const s = schema
const ANA = { id: '1', name: 'Ana' }
const BRUNO = { id: '2', name: 'Bruno' }
const G = (n) => '00000000-0000-4000-8000-' + String(n).padStart(12, '0')
const article = (n, heading, text) => s.nodes.article.create({ guid: G(n) }, [s.nodes.heading.create(null, s.text(heading)), s.nodes.p.create(null, s.text(text))])

function make () {
  return EditorState.create({ doc: s.nodes.doc.create(null, [article(1, 'Agua', 'Toda persona tiene derecho al agua.'), article(2, 'Aire', 'Texto dos')]) })
}
function three () {
  return EditorState.create({ doc: s.nodes.doc.create(null, [article(1, 'Agua', 'Uno.'), article(2, 'Aire', 'Dos.'), article(3, 'Ruido', 'Tres.')]) })
}
const order = (state) => {
  const out = []
  state.doc.forEach(n => { out.push([n.attrs.guid, n.attrs.removal ? 'removal' : n.attrs.movedFrom ? 'to:' + n.attrs.movedFrom : n.attrs.suggestion ? 'new' : '']) })
  return out
}
const within = (state, words) => st => st.apply(st.tr.setSelection(TextSelection.create(st.doc, at(st, words))))
function command (state, cmd, user = ANA) {
  let out = 'not run'
  cmd(state, tr => { out = apply(state, tr, user) })
  return out
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

test('removing a whole accepted unit marks it for removal; one\'s own suggested unit just goes', () => {
  let st = within(null, 'Dos.')(three())
  st = command(st, deleteUnit)
  assert.ok(st)
  const rows = order(st)
  assert.deepEqual(rows.map(r => r[1]), ['', 'removal', ''])
  const marked = st.doc.child(1)
  assert.equal(marked.attrs.suggestedBy, '1')
  assert.equal(marked.textContent, 'AireDos.') // nothing of it deleted yet
  const found = suggestionsIn(st.doc)
  assert.equal(found.length, 1)
  assert.deepEqual([...found[0].kinds], ['remove'])
  assert.equal(found[0].unit, G(2))
  assert.deepEqual(describePart(found[0].parts[0], { removeUnit: 'Supresión' }), { tag: 'del', text: 'Supresión: Aire Dos.' })
  // Bruno cannot remove Ana's pending new unit; Ana can withdraw hers.
  st = within(null, 'Tres.')(st)
  let out = null
  insertUnit('article')(st, tr => { out = apply(st, tr) })
  const fresh = out.doc.child(3)
  assert.equal(fresh.attrs.suggestedBy, '1')
  const inFresh = out.apply(out.tr.setSelection(TextSelection.near(out.doc.resolve(out.doc.content.size - 2))))
  assert.equal(command(inFresh, deleteUnit, BRUNO), null)
  const withdrawn = command(inFresh, deleteUnit, ANA)
  assert.equal(withdrawn.doc.childCount, 3)
})

test('moving an accepted unit marks it and puts a placeholder with GUIDs of its own where it would go', () => {
  let st = within(null, 'Uno.')(three())
  st = command(st, moveUnitDown)
  assert.ok(st, 'the move is a suggestion, not refused')
  assert.deepEqual(order(st).map(r => r[1]), ['removal', '', 'to:' + G(1), ''])
  const placeholder = st.doc.child(2)
  assert.notEqual(placeholder.attrs.guid, G(1))
  assert.equal(placeholder.attrs.suggestion, st.doc.child(0).attrs.removal, 'one suggestion, two places')
  assert.equal(placeholder.textContent, 'AguaUno.')
  const found = suggestionsIn(st.doc)
  assert.equal(found.length, 1)
  assert.deepEqual(found[0].parts.map(p => p.kind), ['moveFrom', 'move'])
  // The cursor is in the placeholder: moving again moves the placeholder (her own suggestion).
  assert.equal(st.doc.resolve(st.selection.from).node(1).attrs.movedFrom, G(1))
  const again = command(st, moveUnitDown)
  assert.deepEqual(order(again).map(r => r[1]), ['removal', '', '', 'to:' + G(1)])
  assert.equal(suggestionsIn(again.doc).length, 1)
  // Typing in the placeholder is not taken (the move carries the unit as it is when accepted).
  let end = 0
  again.doc.forEach((n, offset) => { if (n.attrs.movedFrom) end = offset + n.nodeSize - 2 })
  assert.equal(apply(again, again.tr.insertText('!', end)), null)
  // The unit where it is stays writable: the move will carry what is written there.
  assert.ok(apply(again, again.tr.insertText('!', at(again, 'Uno.', true))))
  // Moving up works the same way.
  const up = command(within(null, 'Tres.')(three()), moveUnitUp)
  assert.deepEqual(order(up).map(r => r[1]), ['', 'to:' + G(3), '', 'removal'])
})

test('dragging a unit elsewhere (delete then insert) is a suggested move too', () => {
  const st = three()
  const first = st.doc.child(0)
  const tr = st.tr.delete(0, first.nodeSize)
  tr.insert(tr.doc.content.size, first)
  const out = apply(st, tr)
  assert.ok(out)
  assert.deepEqual(order(out).map(r => r[1]), ['removal', '', '', 'to:' + G(1)])
})

test('withdrawing one\'s own move (deleting its placeholder) leaves the unit unmarked, not removed', () => {
  let st = command(within(null, 'Uno.')(three()), moveUnitDown)
  assert.equal(st.doc.child(0).attrs.removal.startsWith('s1-'), true, 'the id names its author')
  // The cursor is in the placeholder: deleting that unit withdraws the move.
  st = command(st, deleteUnit)
  assert.deepEqual(order(st).map(r => r[1]), ['', '', ''])
  assert.equal(suggestionsIn(st.doc).length, 0)
})

test('a unit is not moved into a placeholder or into someone else\'s pending unit', () => {
  // Bruno's pending chapter, with an article of its own, after Ana's two articles.
  const chapter = s.nodes.chapter.create({ guid: G(9), suggestion: 's2-x', suggestedBy: '2', suggestedName: 'Bruno' },
    [s.nodes.heading.create(null, s.text('Suyo')), article(8, 'Ocho', 'Texto ocho.')])
  const st = EditorState.create({ doc: s.nodes.doc.create(null, [article(1, 'Agua', 'Uno.'), article(2, 'Aire', 'Dos.'), chapter]) })
  const first = st.doc.child(0)
  const drag = (to) => { const tr = st.tr.delete(0, first.nodeSize); tr.insert(to, first); return tr }
  const chapterAt = st.doc.child(0).nodeSize + st.doc.child(1).nodeSize // in the document after the drag's delete
  const intoChapter = chapterAt - first.nodeSize + 1 + chapter.child(0).nodeSize // after its heading
  assert.equal(suggestTransaction(st, drag(intoChapter), ANA), null)
  // The same unit dragged between Ana's articles and Bruno's chapter is a move.
  const moved = apply(st, drag(chapterAt - first.nodeSize))
  assert.deepEqual(order(moved).map(r => r[1]), ['removal', '', 'to:' + G(1), 'new'])
})

test('a pending new article takes a provisional number without moving the accepted ones', async () => {
  const { labelledUnits } = await import('../../web/src/units.js')
  const pending = s.nodes.article.create({ guid: G(7), suggestion: 's1-x', suggestedBy: '1' },
    [s.nodes.heading.create(null, s.text('Nuevo')), s.nodes.p.create(null, s.text('Texto nuevo.'))])
  const doc = s.nodes.doc.create(null, [article(1, 'Agua', 'Uno.'), pending, article(2, 'Aire', 'Dos.'), article(3, 'Ruido', 'Tres.')])
  const labels = labelledUnits(doc, { language: 'spa' }).filter(u => u.node.type.name === 'article').map(u => [u.node.attrs.guid, u.num])
  assert.deepEqual(labels, [[G(1), '1'], [G(7), '2'], [G(2), '2'], [G(3), '3']])
  // A move: the unit keeps its number where it is until the move is decided; the placeholder
  // shows the number it will have there (Artículo 1 after Artículo 2 becomes Artículo 2).
  const moved = command(within(null, 'Uno.')(three()), moveUnitDown)
  const nums = labelledUnits(moved.doc, { language: 'spa' }).filter(u => u.node.type.name === 'article').map(u => u.num)
  assert.deepEqual(nums, ['1', '2', '2', '3'])
})
