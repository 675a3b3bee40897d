// Run: node --test tests/browser_editor_unit/   (from the repo root, after `cd web && npm ci`)
// Per-keystroke work proportional to what changed (issue 22): a change that keeps the unit tree
// moves the labels, numbers, handles and reference flags instead of computing them again, and
// whatever is computed again equals a computation from scratch.
import test from 'node:test'
import assert from 'node:assert/strict'
import { schema } from '../../web/src/schema.js'
import { strings } from '../../web/src/i18n.js'
const { EditorState, TextSelection } = await import(new URL('../../web/node_modules/prosemirror-state/dist/index.js', import.meta.url))
const { Slice } = await import(new URL('../../web/node_modules/prosemirror-model/dist/index.js', import.meta.url))
const { docChange, labelledUnits } = await import('../../web/src/units.js')
const { labelsPlugin, labelsPluginKey, buildDecorations } = await import('../../web/src/labels.js')
const { refsPlugin, refsPluginKey } = await import('../../web/src/refs.js')
const { outlineKept } = await import('../../web/src/outline.js')
const { guidPlugin } = await import('../../web/src/guid.js')

const s = schema
const t = strings('en')
const opts = () => ({ language: 'spa', numbering: null, labels: null, preambleLabel: t.preamble })
const G = (n) => '00000000-0000-4000-8000-' + String(n).padStart(12, '0')
const h = (text) => s.nodes.heading.create(null, text ? s.text(text) : null)
const p = (...content) => s.nodes.p.create(null, content.map(c => typeof c === 'string' ? s.text(c) : c))
const unit = (kind, guid, ...content) => s.nodes[kind].create({ guid }, content)
const ref = (text, guid) => s.text(text, [s.marks.ref.create({ guid })])

// A title with two chapters of articles; each article has a heading, a paragraph and two
// numbered sub-units; article 3 cites article 5.
function makeDoc () {
  let n = 100
  const article = (k) => unit('article', G(k), h('Artículo de prueba ' + k),
    k === 3 ? p('Véase el ', ref('artículo 5', G(5)), '.') : p('Texto del artículo ' + k + '.'),
    unit('paragraph', G(++n), p('Primer apartado de ' + k + '.')),
    unit('paragraph', G(++n), p('Segundo apartado de ' + k + '.'), unit('subparagraph', G(++n), p('Numeral.'))))
  const chapter = (c, from, to) => {
    const arts = []
    for (let k = from; k <= to; k++) arts.push(article(k))
    return unit('chapter', G(50 + c), h('Capítulo ' + c), ...arts)
  }
  return s.nodes.doc.create(null, [unit('title', G(60), h('Título'), chapter(1, 1, 6), chapter(2, 7, 12))])
}

const plugins = () => [guidPlugin(), labelsPlugin(opts, t), refsPlugin(opts, t)]
const stateOf = (doc) => EditorState.create({ doc, plugins: plugins() })
// The same document as fresh nodes: nothing shared with `doc`, so nothing can be reused.
const copy = (doc) => s.nodeFromJSON(doc.toJSON())
const textPos = (doc, text, offset = 0) => {
  let at = null
  doc.descendants((node, pos) => {
    if (at === null && node.isTextblock && node.textContent.includes(text)) at = pos + 1 + node.textContent.indexOf(text) + offset
    return at === null
  })
  assert.notEqual(at, null, 'text found: ' + text)
  return at
}
const labels = (doc) => labelledUnits(doc, opts()).map(u => [u.pos, u.node.type.name, u.node.attrs.guid, u.label])
const fresh = (doc) => labels(copy(doc))
const shown = (set) => set.find().map(d => [d.from, d.to, d.spec.key]).sort((a, b) => a[0] - b[0] || String(a[2]).localeCompare(String(b[2])))
const labelSet = (state) => labelsPluginKey.getState(state)
const refSet = (state) => refsPluginKey.getState(state)
const specs = (set) => new Set(set.find().map(d => d.spec))

test('typing in a paragraph changes text only: labels are moved, the decoration set is reused', () => {
  const before = stateOf(makeDoc())
  const at = textPos(before.doc, 'Texto del artículo 8')
  const after = before.apply(before.tr.insertText('nuevo ', at))
  const change = docChange(before.doc, after.doc)
  assert.equal(change.textOnly, true)
  assert.equal(change.unitsKept, true)
  assert.deepEqual(labels(after.doc), fresh(after.doc))
  assert.deepEqual(shown(labelSet(after)), shown(buildDecorations(copy(after.doc), opts(), t)))
  // Every label is the decoration it was (mapped), none was made again.
  const old = specs(labelSet(before))
  assert.ok([...specs(labelSet(after))].every(spec => old.has(spec)))
  assert.equal(specs(labelSet(after)).size, old.size)
})

test('Enter inside an article keeps the unit tree; new, deleted, pinned or sunk units do not', () => {
  const doc = makeDoc()
  const base = stateOf(doc)
  const split = base.apply(base.tr.split(textPos(doc, 'Texto del artículo 4', 5)))
  assert.equal(docChange(doc, split.doc).unitsKept, true)
  assert.equal(docChange(doc, split.doc).textOnly, false)

  const art4 = labelledUnits(doc, opts()).find(u => u.node.attrs.guid === G(4))
  const added = base.apply(base.tr.insert(art4.pos + art4.node.nodeSize, unit('article', G(99), h('Nuevo'), p('Texto nuevo.'))))
  const pinned = base.apply(base.tr.setNodeAttribute(art4.pos, 'pin', '4 Bis'))
  const deleted = base.apply(base.tr.delete(art4.pos, art4.pos + art4.node.nodeSize))
  const sub = labelledUnits(doc, opts()).find(u => u.node.type.name === 'paragraph' && u.pos > art4.pos)
  const lifted = base.apply(base.tr.setNodeMarkup(sub.pos, s.nodes.subparagraph, sub.node.attrs))
  for (const [name, state] of [['split', split], ['added', added], ['pinned', pinned], ['deleted', deleted], ['retyped', lifted]]) {
    if (name !== 'split') assert.equal(docChange(doc, state.doc).unitsKept, false, name)
    assert.deepEqual(labels(state.doc), fresh(state.doc), name + ': labels as computed from scratch')
    assert.deepEqual(shown(labelSet(state)), shown(buildDecorations(copy(state.doc), opts(), t)), name + ': decorations')
  }
  // A new article renumbers those after it; the labels before it are the decorations they were.
  assert.ok(labels(added.doc).some(([, kind, guid, label]) => guid === G(12) && label === 'Artículo 13'))
  const old = specs(labelSet(base))
  const kept = labelSet(added).find(0, art4.pos + art4.node.nodeSize)
  assert.equal(kept.length, 18) // the title, the chapter, articles 1 to 4 and their sub-units
  assert.ok(kept.every(d => old.has(d.spec)))
  assert.ok(labelSet(added).find(art4.pos + art4.node.nodeSize).some(d => !old.has(d.spec)))
})

test('a remote update (the whole document replaced, unchanged nodes shared) is mapped, not rebuilt', () => {
  const before = stateOf(makeDoc())
  const at = textPos(before.doc, 'Primer apartado de 11')
  const edited = before.doc.replace(at, at, new Slice(s.nodes.p.create(null, s.text('x')).content, 0, 0))
  // As y-prosemirror applies a remote change: one step over the whole content.
  const after = before.apply(before.tr.replace(0, before.doc.content.size, new Slice(edited.content, 0, 0)))
  assert.equal(docChange(before.doc, after.doc).textOnly, true)
  assert.deepEqual(shown(labelSet(after)), shown(buildDecorations(copy(after.doc), opts(), t)))
  const old = specs(labelSet(before))
  assert.ok([...specs(labelSet(after))].every(spec => old.has(spec)))
})

test('references are flagged again only where the text changed, as a full pass would', () => {
  const before = stateOf(makeDoc())
  const full = (state) => shown(refSet(stateOf(copy(state.doc))))
  assert.equal(refSet(before).find()[0].spec.key, '|Refers to Artículo 5')
  // Typing elsewhere keeps the reference's decoration.
  const elsewhere = before.apply(before.tr.insertText('z', textPos(before.doc, 'Texto del artículo 9')))
  assert.equal(refSet(elsewhere).find()[0].spec, refSet(before).find()[0].spec)
  // Changing the cited number inside the reference's words flags it.
  const at = textPos(before.doc, 'artículo 5', 'artículo '.length)
  const stale = before.apply(before.tr.insertText('7', at, at + 1))
  assert.deepEqual(refSet(stale).find().map(d => d.spec.key), ['ref-stale|' + t.refStale('Artículo 5')])
  assert.deepEqual(shown(refSet(stale)), full(stale))
  // A new article before the target renumbers it: the reference is stale there too.
  const art1 = labelledUnits(before.doc, opts()).find(u => u.node.attrs.guid === G(1))
  const added = before.apply(before.tr.insert(art1.pos, unit('article', G(98), h('Primero'), p('Nuevo.'))))
  assert.deepEqual(refSet(added).find().map(d => d.spec.key), ['ref-stale|' + t.refStale('Artículo 6')])
})

test('the outline is left alone unless a listed heading or the unit tree changed', () => {
  const doc = makeDoc()
  const state = EditorState.create({ doc })
  const typed = (text) => state.apply(state.tr.insertText('x', textPos(doc, text))).doc
  assert.equal(outlineKept(typed('Texto del artículo 2'), docChange(doc, typed('Texto del artículo 2'))), true)
  const inHeading = typed('Artículo de prueba 2')
  assert.equal(outlineKept(inHeading, docChange(doc, inHeading)), false)
  const art = labelledUnits(doc, opts()).find(u => u.node.attrs.guid === G(2))
  const added = state.apply(state.tr.insert(art.pos, unit('article', G(97), h('Otro')))).doc
  assert.equal(outlineKept(added, docChange(doc, added)), false)
})

test('the GUID check still repairs a copied unit after typing has skipped it', () => {
  let state = stateOf(makeDoc())
  state = state.apply(state.tr.insertText('a', textPos(state.doc, 'Texto del artículo 1')))
  state = state.apply(state.tr.setSelection(TextSelection.create(state.doc, textPos(state.doc, 'Texto del artículo 2'))))
  state = state.apply(state.tr.insertText('b'))
  const art = labelledUnits(state.doc, opts()).find(u => u.node.attrs.guid === G(2))
  const { state: pasted } = state.applyTransaction(state.tr.insert(art.pos, art.node))
  const guids = []
  pasted.doc.descendants(n => { if (n.type.spec.unit) guids.push(n.attrs.guid) })
  assert.equal(new Set(guids).size, guids.length, 'every unit has its own GUID')
  assert.equal(guids.filter(g => g === G(2)).length, 1)
})
